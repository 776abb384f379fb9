"""End to end: run.py stitched_mpii, train.py stitched_h36m and eval.py on the tiny synthetic dataset."""
import json

import numpy as np
import pytest

import eval as eval_command
import run as run_command
import train as train_command
from stitched.frames import load_frames
from tests.generative_models.test_prior import write_checkpoint
from utils.checkpoints import load_checkpoint

pytestmark = pytest.mark.slow


def test_frames_have_consistent_labels(tiny_dataset, monkeypatch, tmp_path):
    monkeypatch.setenv("STITCHPOSE_CACHE", str(tmp_path / "cache"))
    frames = load_frames(tiny_dataset, (9, 11), 64)
    assert len(frames) > 0 and frames.images.shape[1:] == (3, 64, 64)
    # The 2D labels, mapped into the crop, sit inside it (the box encloses the joints with a margin).
    joints_hm = frames.joints_in_heatmap(np.arange(len(frames)))
    assert (joints_hm > 0).all() and (joints_hm < 15).all()
    assert not any("Directions" in name and name.startswith("S11/") for name in frames.names)
    again = load_frames(tiny_dataset, (9, 11), 64)  # from the cache
    assert (again.images == frames.images).all() and list(again.names) == list(frames.names)


def test_run_train_and_eval(stage_checkpoints, tiny_dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("STITCHPOSE_CACHE", str(tmp_path / "cache"))
    hourglass, lifter = (str(p) for p in stage_checkpoints)
    out = tmp_path / "run"
    assert run_command.main(["stitched_mpii", "--load_hourglass", hourglass, "--load_2d3d", lifter,
                             "--data_dir", str(tiny_dataset), "--output_dir", str(out)]) == 0
    result = np.load(out / "stitched_predictions.npz")
    assert result["preds"].shape[1:] == (16, 2) and result["poses_3d"].shape[1:] == (17, 3)
    assert np.allclose(result["poses_3d"][:, 0], 0.0)
    people = json.loads((out / "stitched_predictions.json").read_text())["people"]
    assert len(people) == len(result["preds"])
    assert eval_command.main(["mpii_PCKh", "--prediction_files", str(out / "stitched_predictions.npz"),
                              "--gt", str(tiny_dataset / "mpii" / "detections_our_format.mat"),
                              "--output_dir", str(tmp_path / "pckh")]) == 0
    assert (tmp_path / "pckh" / "stitched_predictions_pckh.json").is_file()

    args = ["stitched_h36m", "--load_hourglass", hourglass, "--load_2d3d", lifter, "--data_dir", str(tiny_dataset),
            "--train_subjects", "1", "--test_subjects", "9", "11", "--epochs", "1", "--batch_size", "4",
            "--checkpoint_dir", str(tmp_path / "ck"), "--heatmap_loss_weight", "1.0", "--exp", "t",
            "--prior_checkpoint", str(write_checkpoint(tmp_path / "gan.pt")), "--prior_weight", "0.1"]
    assert train_command.main(args) == 0
    run_dir = tmp_path / "ck" / "stitched_h36m_t"
    payload = load_checkpoint(run_dir / "last.pt", kind="stitched")
    before = payload["extra"]["before_fine_tuning"]["mpjpe_mm"]
    assert payload["epoch"] == 1 and before > 0
    events = list((run_dir / "tb").glob("events.*"))
    assert events and b"prior_loss" in events[0].read_bytes() and b"heatmap_loss" in events[0].read_bytes()
    # Resume for one more epoch from the stitched checkpoint alone.
    assert train_command.main(args[:1] + ["--load", str(run_dir / "last.pt"), "--data_dir", str(tiny_dataset),
                                          "--train_subjects", "1", "--test_subjects", "9", "11", "--epochs", "2",
                                          "--batch_size", "4", "--checkpoint_dir", str(tmp_path / "ck"),
                                          "--exp", "t"]) == 0
    assert load_checkpoint(run_dir / "last.pt")["epoch"] == 2
    # The fine-tuned network runs from its own checkpoint.
    assert run_command.main(["stitched_mpii", "--load", str(run_dir / "last.pt"), "--data_dir", str(tiny_dataset),
                             "--output_dir", str(tmp_path / "run2")]) == 0
