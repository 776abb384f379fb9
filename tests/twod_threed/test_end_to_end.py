"""train.py / run.py / eval.py for the lifter, on the tiny fake dataset (a few seconds each)."""
import json

import numpy as np
import pytest
import torch

import eval as eval_entry
import run as run_entry
import train as train_entry
from twod_threed.checkpoint import load_lifter
from twod_threed.data import load_pose_pairs
from utils.checkpoints import load_checkpoint
from utils.skeletons import MPII_TO_H36M16_2D

pytestmark = pytest.mark.slow
OUT = "predictions_3d.npz"
SMALL = ["--linear_size", "32", "--batch_size", "32", "--train_subjects", "1", "5", "--test_subjects", "9", "11"]


def _train(data, checkpoints, *extra):
    return train_entry.main(["2d3d_h36m", "--data_dir", str(data), "--checkpoint_dir", str(checkpoints), *SMALL,
                             *extra])


@pytest.fixture(scope="module")
def trained(fake_h36m, tmp_path_factory):
    checkpoints = tmp_path_factory.mktemp("checkpoints")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STITCHPOSE_CACHE", str(checkpoints / "cache"))
        assert _train(fake_h36m, checkpoints, "--epochs", "1", "--exp", "e2e") == 0
    return checkpoints / "2d3d_h36m_e2e"


def test_training_writes_checkpoints_and_tensorboard_and_resumes(trained, fake_h36m, caplog):
    assert (trained / "last.pt").is_file() and (trained / "best.pt").is_file()
    assert list((trained / "tb").glob("events.out.tfevents.*"))
    payload = load_checkpoint(trained / "last.pt", kind="lifter")
    assert payload["epoch"] == 1 and payload["normalisation"]["mode"] == "per_instance"
    assert payload["model_config"]["linear_size"] == 32 and payload["joint_orders"]["output"] == "h36m16_3d"
    assert payload["extra"]["mean_pose_mpjpe_mm"] > 0
    assert _train(fake_h36m, trained.parent, "--epochs", "2", "--exp", "e2e", "--load", str(trained / "last.pt")) == 0
    assert "resuming at epoch" in caplog.text
    assert load_checkpoint(trained / "last.pt", kind="lifter")["epoch"] == 2


def test_training_with_dataset_normalisation_and_augmentation(fake_h36m, tmp_path):
    assert _train(fake_h36m, tmp_path, "--epochs", "1", "--exp", "aug", "--dataset_normalization",
                  "--orthogonal_data_augmentation", "--z_rotations_only", "--flip_prob", "0.3",
                  "--max_norm", "0") == 0
    payload = load_checkpoint(tmp_path / "2d3d_h36m_aug" / "best.pt", kind="lifter")
    assert payload["normalisation"]["mode"] == "dataset" and payload["normalisation"]["std_3d"].shape == (48,)


def test_load_lifter_is_usable_from_the_file_alone_and_differentiable(trained, fake_h36m):
    model, config, extras = load_lifter(trained / "best.pt")
    normaliser = extras["normaliser"]
    assert config.linear_size == 32 and not model.training
    pairs = load_pose_pairs(fake_h36m, (9,), cache=False)
    pixels = pairs.joints_2d_px[:8].clone().requires_grad_(True)
    poses = normaliser.denormalise_3d(model(normaliser.normalise_2d(pixels)))
    assert poses.shape == (8, 16, 3)
    poses.sum().backward()
    assert pixels.grad is not None and pixels.grad.abs().sum() > 0


def test_run_then_eval_in_video_mode(trained, fake_h36m, tmp_path):
    assert run_entry.main(["2d3d_h36m", "--load", str(trained / "best.pt"), "--input",
                           str(fake_h36m / "data_2d_h36m_gt.npz"), "--subjects", "9", "11", "--process_as_video",
                           "--output_dir", str(tmp_path / "pred")]) == 0
    with np.load(tmp_path / "pred" / "predictions_3d.npz") as data:
        assert data["poses_3d"].shape == (7 * 4 * 40, 17, 3) and np.all(data["poses_3d"][:, 0] == 0)
        assert len(data["sequence_names"]) == 7 * 4 and data["names"][0] == "S9/Directions/54138969/000000"
        assert (np.diff(data["frames"][:40]) == 1).all() and (data["sequence_index"][:40] == 0).all()
    assert eval_entry.main(["h36m_MPJPE", "--predictions", str(tmp_path / "pred" / "predictions_3d.npz"),
                            "--data_dir", str(fake_h36m), "--output_dir", str(tmp_path / "eval")]) == 0
    report = json.loads((tmp_path / "eval" / "h36m_MPJPE.json").read_text())
    assert set(report["per_action"]) == {"Directions", "Walking", "Eating", "Sitting"}
    assert report["per_action"]["Directions"]["frames"] == 4 * 40  # S11 Directions dropped
    for metric in ("mpjpe_mm", "p_mpjpe_mm", "n_mpjpe_mm", "mpjve_mm"):
        assert 0 < report["average_over_actions"][metric] < 1000
    assert (tmp_path / "eval" / "h36m_MPJPE_per_action.png").is_file()
    assert (tmp_path / "eval" / "h36m_MPJPE_per_joint.png").is_file()


def test_run_reads_json_in_mpii_order_and_keeps_names(trained, fake_h36m, tmp_path, capsys):
    pairs = load_pose_pairs(fake_h36m, (9,), cache=False)
    h36m = pairs.joints_2d_px[:5].numpy().astype(np.float64)
    mpii = np.zeros_like(h36m)
    mpii[:, list(MPII_TO_H36M16_2D)] = h36m
    entries = [{"name": f"clip/{i}.jpg", "joints_2d": pose.tolist()} for i, pose in enumerate(mpii)]
    (tmp_path / "in.json").write_text(json.dumps(entries))
    np.savez(tmp_path / "in.npz", poses_2d=h36m)
    for source, order in (("in.json", "mpii"), ("in.npz", "h36m")):
        assert run_entry.main(["2d3d_h36m", "--load", str(trained / "best.pt"), "--input", str(tmp_path / source),
                               "--joint_order", order, "--output_dir", str(tmp_path / f"out_{order}")]) == 0
    # Hourglass predictions (run.py hourglass_mpii): `preds` is MPII order without --joint_order.
    np.savez(tmp_path / "hourglass.npz", preds=mpii, image_names=np.array([f"im{i}.jpg" for i in range(5)]))
    assert run_entry.main(["2d3d_h36m", "--load", str(trained / "best.pt"), "--input", str(tmp_path / "hourglass.npz"),
                           "--output_dir", str(tmp_path / "out_hourglass")]) == 0
    with np.load(tmp_path / "out_mpii" / OUT) as a, np.load(tmp_path / "out_h36m" / OUT) as b:
        assert list(a["names"]) == [f"clip/{i}.jpg" for i in range(5)]
        np.testing.assert_allclose(a["poses_3d"], b["poses_3d"], atol=1e-4)
        with np.load(tmp_path / "out_hourglass" / OUT) as c:
            np.testing.assert_allclose(c["poses_3d"], b["poses_3d"], atol=1e-4)
            assert c["names"][4] == "im4.jpg"
    np.savez(tmp_path / "bad.npz", poses_2d=np.zeros((3, 15, 2)))
    assert run_entry.main(["2d3d_h36m", "--load", str(trained / "best.pt"), "--input", str(tmp_path / "bad.npz"),
                           "--output_dir", str(tmp_path / "bad")]) == 1
    assert "bad.npz: field 'poses_2d' has shape (3, 15, 2)" in capsys.readouterr().err
    bad = np.full((2, 16, 2), 100.0)
    bad[1, 3, 0] = np.nan
    np.savez(tmp_path / "nan.npz", joints_2d=bad)
    assert run_entry.main(["2d3d_h36m", "--load", str(trained / "best.pt"), "--input", str(tmp_path / "nan.npz"),
                           "--output_dir", str(tmp_path / "bad")]) == 1
    assert "nan.npz: field 'joints_2d' holds NaN/inf coordinates (first at row 1)" in capsys.readouterr().err
    assert run_entry.main(["2d3d_h36m", "--load", str(trained / "best.pt"), "--input", str(tmp_path / "none.npz"),
                           "--output_dir", str(tmp_path / "bad")]) == 1
    assert "none.npz: input file not found" in capsys.readouterr().err


def test_training_with_the_pose_prior_logs_its_loss(fake_h36m, tmp_path):
    from tests.generative_models.test_prior import write_checkpoint

    prior = write_checkpoint(tmp_path / "gan.pt")
    assert _train(fake_h36m, tmp_path, "--epochs", "1", "--exp", "prior", "--prior_checkpoint", str(prior),
                  "--prior_weight", "0.1") == 0
    log = (tmp_path / "2d3d_h36m_prior" / "log.txt").read_text()
    assert "epoch 1/1" in log
    events = list((tmp_path / "2d3d_h36m_prior" / "tb").glob("events.*"))
    assert events and b"prior_loss" in events[0].read_bytes()
