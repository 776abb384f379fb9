"""End-to-end: train.py / run.py hourglass_mpii and eval.py mpii_PCKh on a tiny generated dataset."""
import json

import numpy as np
import pytest
import scipy.io
import torch

import eval as eval_command
import run as run_command
import train as train_command
from stacked_hourglass.checkpoint import load_hourglass
from stacked_hourglass.model import HourglassConfig
from utils.checkpoints import load_checkpoint

TINY = ["--stacks", "2", "--features", "16", "--input_res", "64", "--batch_size", "4", "--seed", "1"]


def train(toy_mpii, tmp_path, exp, *extra):
    argv = ["hourglass_mpii", "--data_dir", str(toy_mpii), "--checkpoint_dir", str(tmp_path / "runs"),
            "--cache_dir", str(tmp_path / "cache"), "--exp", exp, *TINY, *extra]
    assert train_command.main(argv) == 0
    return tmp_path / "runs" / f"hourglass_mpii_{exp}"


@pytest.mark.slow
def test_train_resume_run_eval(toy_mpii, tmp_path):
    run_dir = train(toy_mpii, tmp_path, "a", "--epochs", "2", "--amp", "--add_random_masking",
                    "--predict_joint_visibility", "--lr_schedule", "cosine")
    assert (run_dir / "last.pt").is_file() and (run_dir / "best.pt").is_file()
    assert list((run_dir / "tb").glob("events.out.tfevents.*"))
    payload = load_checkpoint(run_dir / "last.pt", kind="hourglass")
    assert payload["epoch"] == 2 and 0.0 <= payload["best_metric"] <= 100.0

    model, config, extras = load_hourglass(run_dir / "best.pt")
    assert config == HourglassConfig(stacks=2, features=16, input_res=64, predict_joint_visibility=True)
    assert extras["input_res"] == 64 and extras["heatmap_res"] == 16 and extras["stride"] == 4
    assert extras["mean_rgb"].shape == (3,) and (extras["std_rgb"] > 0).all() and not model.training

    output = tmp_path / "predictions"
    assert run_command.main(["hourglass_mpii", "--load", str(run_dir / "best.pt"), "--data_dir", str(toy_mpii),
                             "--output_dir", str(output), "--flip_test"]) == 0
    preds = scipy.io.loadmat(output / "preds_valid.mat")["preds"]
    assert preds.shape == (4, 16, 2) and np.isfinite(preds).all()
    with np.load(output / "preds_valid.npz") as saved:
        assert list(saved["image_names"]) == [f"{i:09d}.jpg" for i in range(4)]
        assert saved["scores"].shape == (4, 16) and not saved["missing"].any()
    dark = tmp_path / "dark"
    assert run_command.main(["hourglass_mpii", "--load", str(run_dir / "best.pt"), "--data_dir", str(toy_mpii),
                             "--output_dir", str(dark), "--flip_test", "--decoder", "dark"]) == 0
    refined = scipy.io.loadmat(dark / "preds_valid.mat")["preds"]
    # Same peaks, another sub-pixel refinement: at most 1 + 0.25 heatmap px apart (4 input px each) on each axis.
    with np.load(dark / "preds_valid.npz") as saved:
        heatmap_px = saved["box_px"][:, None, None] / 64 * 4
    assert np.isfinite(refined).all() and 0 < np.abs(refined - preds).max() and \
        (np.abs(refined - preds) <= 1.25 * heatmap_px + 1e-6).all()
    assert eval_command.main(["mpii_PCKh", "--prediction_files", str(output / "preds_valid.mat"),
                              "--gt", str(toy_mpii / "detections_our_format.mat"),
                              "--output_dir", str(tmp_path / "eval")]) == 0
    report = json.loads((tmp_path / "eval" / "preds_valid_pckh.json").read_text())
    assert 0.0 <= report["Mean"] <= 100.0


@pytest.mark.slow
def test_resume_matches_an_uninterrupted_run(toy_mpii, tmp_path):
    straight = train(toy_mpii, tmp_path, "straight", "--epochs", "2", "--deterministic")
    train(toy_mpii, tmp_path, "split", "--epochs", "1", "--deterministic")
    split = tmp_path / "runs" / "hourglass_mpii_split"
    train(toy_mpii, tmp_path, "split", "--epochs", "2", "--deterministic", "--load", str(split / "last.pt"))
    a = load_checkpoint(straight / "last.pt")
    b = load_checkpoint(split / "last.pt")
    assert b["epoch"] == 2
    for name, value in a["model_state"].items():
        torch.testing.assert_close(b["model_state"][name], value, rtol=0, atol=0, msg=name)


@pytest.mark.slow
def test_run_on_a_folder_with_boxes_and_from_jpeg_training(toy_mpii, tmp_path):
    run_dir = train(toy_mpii, tmp_path, "jpeg", "--epochs", "1", "--data_source", "jpeg", "--stacks", "1")
    boxes = tmp_path / "boxes.json"
    boxes.write_text(json.dumps({"000000000.jpg": [[10, 10, 90, 110], [50, 20, 120, 100]], "000000001.jpg": [[0, 0, 160, 120]]}))
    output = tmp_path / "folder"
    assert run_command.main(["hourglass_mpii", "--load", str(run_dir / "last.pt"), "--image_dir",
                             str(toy_mpii / "images"), "--boxes", str(boxes), "--output_dir", str(output)]) == 0
    with np.load(output / "preds_images.npz") as saved:
        assert saved["preds"].shape == (3, 16, 2)
        np.testing.assert_allclose(saved["center_px"], [[50, 60], [85, 60], [80, 60]])
        np.testing.assert_allclose(saved["box_px"], [125, 100, 200])
    assert run_command.main(["hourglass_mpii", "--load", str(run_dir / "last.pt"), "--image_dir",
                             str(toy_mpii / "images"), "--output_dir", str(output)]) == 0
    assert scipy.io.loadmat(output / "preds_images.mat")["preds"].shape == (12, 16, 2)


def test_bad_checkpoint_is_a_clean_error(tmp_path, capsys):
    (tmp_path / "bad.pt").write_bytes(b"nope")
    assert run_command.main(["hourglass_mpii", "--load", str(tmp_path / "bad.pt"), "--image_dir", str(tmp_path)]) == 1
    assert "bad.pt: cannot be read as a stitchpose checkpoint" in capsys.readouterr().err


def test_augmentation_options_reach_the_samples():
    from options import parse_script_options
    from stacked_hourglass.train import sample_settings

    script = train_command.SCRIPTS["hourglass_mpii"]
    opts = parse_script_options("train", "hourglass_mpii", script, ["--rotation_prob", "0", "--colour_gain", "0",
                                                                    "--scale_octaves", "0.1", "--add_random_masking"])
    settings = sample_settings(opts, 64, np.array([0.5, 0.5, 0.5]), train=True)
    assert settings.augment.rotation_prob == 0 and settings.augment.colour_gain_range == (1.0, 1.0)
    assert settings.augment.scale_clip_octaves == pytest.approx(0.2) and settings.mask is not None
    assert sample_settings(opts, 64, np.zeros(3), train=False).augment is None
    opts = parse_script_options("train", "hourglass_mpii", script, ["--no-augment_training_data"])
    assert sample_settings(opts, 64, np.zeros(3), train=True).augment is None


@pytest.mark.slow
def test_max_train_minutes_stops_after_the_epoch_running_with_the_cosine_annealed(toy_mpii, tmp_path):
    run_dir = train(toy_mpii, tmp_path, "budget", "--epochs", "3", "--lr_schedule", "cosine",
                    "--max_train_minutes", "1e-9")  # spent before the first step
    payload = load_checkpoint(run_dir / "last.pt", kind="hourglass")
    assert payload["epoch"] == 1 and payload["scheduler_state"]["last_epoch"] == 1  # one step of the 3 x 2 planned
    assert payload["optimizer_state"]["param_groups"][0]["lr"] == 0.0  # annealed over the minutes, not the epochs


@pytest.mark.parametrize("native_bf16", [False, True], ids=["no_bf16", "native_bf16"])
def test_amp_follows_the_cpu_and_is_recorded(toy_mpii, tmp_path, monkeypatch, capsys, native_bf16):
    from utils import precision

    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: native_bf16)
    expected = "bf16" if native_bf16 else "fp32"
    run_dir = train(toy_mpii, tmp_path, expected, "--epochs", "1", "--stacks", "1", "--amp")
    assert load_checkpoint(run_dir / "last.pt")["options"]["precision"] == expected
    assert f"precision {expected} on cpu" in (run_dir / "log.txt").read_text()
    capsys.readouterr()
    assert run_command.main(["hourglass_mpii", "--load", str(run_dir / "last.pt"), "--data_dir", str(toy_mpii),
                             "--output_dir", str(tmp_path / "out"), "--amp"]) == 0
    assert f"precision {expected} on cpu" in capsys.readouterr().out


def test_amp_dtype_needs_amp(capsys):
    with pytest.raises(SystemExit):
        train_command.main(["hourglass_mpii", "--amp_dtype", "bf16"])
    assert "--amp_dtype bf16 needs --amp" in capsys.readouterr().err
