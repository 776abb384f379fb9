"""End to end: train.py 3d_pose_gan (checkpoints, TensorBoard, exact resume, NaN stop), viz.py gan_samples and
the evaluation script, on a small fixture pose set."""
import json

import numpy as np
import pytest
import torch
from PIL import Image

import train as train_command
import viz as viz_command
from generative_models import evaluate
from tests.generative_models.pose_fixture import write_pose_set
from utils.checkpoints import load_checkpoint

pytestmark = pytest.mark.slow
SMALL = ["--batch_size", "64", "--width", "32", "--blocks", "1", "--noise_dim", "8", "--frame_stride", "2",
         "--valid_poses", "100", "--log_every", "2"]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("poses")
    write_pose_set(root, frames_per_action=100)
    return root


@pytest.fixture(scope="module")
def trained_run(data_dir, tmp_path_factory):
    """Two epochs of a small run (7 critic steps each), folder 3d_pose_gan_a."""
    checkpoints = tmp_path_factory.mktemp("runs")
    code = train_command.main(["3d_pose_gan", "--data_dir", str(data_dir), "--checkpoint_dir", str(checkpoints),
                               "--exp", "a", "--epochs", "2", *SMALL])
    assert code == 0
    return checkpoints / "3d_pose_gan_a"


def test_training_writes_checkpoints_and_tensorboard(trained_run):
    assert (trained_run / "last.pt").is_file() and (trained_run / "best.pt").is_file()
    assert list((trained_run / "tb").glob("events.out.tfevents.*"))
    payload = load_checkpoint(trained_run / "last.pt", kind="pose_gan")
    assert (payload["epoch"], payload["global_step"]) == (2, 14)  # 500 poses: 7 steps per epoch
    assert set(payload["model_state"]) == {"generator", "critic"} == set(payload["optimizer_state"])
    assert payload["normalisation"]["score_std"] > 0 and 150 < payload["normalisation"]["mean_bone_length_mm"] < 350
    log = (trained_run / "log.txt").read_text()
    assert "epoch 2/2" in log and "auc_joint_limits" in log


def test_resumed_training_matches_an_uninterrupted_run(trained_run, data_dir):
    checkpoints = trained_run.parent
    common = ["3d_pose_gan", "--data_dir", str(data_dir), "--checkpoint_dir", str(checkpoints), "--exp", "b", *SMALL]
    assert train_command.main([*common, "--epochs", "1"]) == 0
    assert train_command.main([*common, "--epochs", "2", "--load", str(checkpoints / "3d_pose_gan_b" / "last.pt")]) == 0
    uninterrupted = load_checkpoint(trained_run / "last.pt")
    resumed = load_checkpoint(checkpoints / "3d_pose_gan_b" / "last.pt")
    assert resumed["global_step"] == uninterrupted["global_step"] == 14
    for player in ("generator", "critic"):
        for name, tensor in uninterrupted["model_state"][player].items():
            assert torch.equal(tensor, resumed["model_state"][player][name]), (player, name)


def test_nan_loss_stops_training_and_keeps_the_last_good_checkpoint(trained_run, data_dir, monkeypatch, capsys):
    # the pose readers refuse NaN poses, so poison the critic's negative examples instead
    monkeypatch.setattr("generative_models.train.negative_examples", lambda poses: poses * float("nan"))
    run_dir = trained_run.parent / "3d_pose_gan_c"
    run_dir.mkdir()
    (run_dir / "last.pt").write_bytes((trained_run / "last.pt").read_bytes())
    code = train_command.main(["3d_pose_gan", "--data_dir", str(data_dir), "--checkpoint_dir", str(trained_run.parent),
                               "--exp", "c", "--epochs", "3", "--load", str(run_dir / "last.pt"), *SMALL])
    assert code == 1
    out = capsys.readouterr().out
    assert "the critic loss became nan at epoch 3, step 0" in out and "last good checkpoint is kept" in out
    assert load_checkpoint(run_dir / "last.pt")["epoch"] == 2


def test_gan_samples_draws_a_non_blank_grid(trained_run, tmp_path):
    assert viz_command.main(["gan_samples", "--load", str(trained_run / "last.pt"), "--output_dir", str(tmp_path),
                             "--num_samples", "6", "--columns", "3"]) == 0
    image = np.asarray(Image.open(tmp_path / "gan_samples.png").convert("RGB"), dtype=np.float64)
    assert image.shape[0] > 300 and image.shape[1] > 600
    red = (image[..., 0] > 150) & (image[..., 1] < 100)
    blue = (image[..., 2] > 150) & (image[..., 0] < 100)
    assert red.sum() > 100 and blue.sum() > 100  # right and left limbs drawn


def test_evaluate_writes_json_and_figure(trained_run, data_dir, tmp_path, capsys):
    code = evaluate.main(["--load", str(trained_run / "last.pt"), "--data_dir", str(data_dir), "--output_dir",
                          str(tmp_path), "--max_poses", "200", "--num_samples", "200", "--frame_stride", "2"])
    assert code == 0
    result = json.loads((tmp_path / "pose_prior_eval.json").read_text())
    assert set(result["auc"]) == {"bone_scale", "limb_swap", "joint_limits"}
    assert all(0 <= auc <= 1 for auc in result["auc"].values()) and result["bone_length_mad_mm"] > 0
    assert len(result["mean_bone_length_mm"]) == 16 and (tmp_path / "pose_prior_eval.png").stat().st_size > 10_000
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["auc"] == result["auc"]


def test_bad_checkpoints_are_reported_not_raised(tmp_path, data_dir, capsys):
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"\x00" * 64)
    assert train_command.main(["3d_pose_gan", "--data_dir", str(data_dir), "--checkpoint_dir", str(tmp_path),
                               "--load", str(garbage), *SMALL]) == 1
    assert "garbage.pt: cannot be read as a stitchpose checkpoint" in capsys.readouterr().err
    assert viz_command.main(["gan_samples", "--load", str(tmp_path / "missing.pt"), "--output_dir", str(tmp_path)]) == 1
    assert "checkpoint not found" in capsys.readouterr().err
    assert evaluate.main(["--load", str(garbage), "--data_dir", str(data_dir), "--output_dir", str(tmp_path)]) == 1
    assert "garbage.pt" in capsys.readouterr().err
