import argparse

import numpy as np
import pytest
import torch

from generative_models.fc_gan import Critic, GanConfig, Generator
from generative_models.checkpoint import load_generator
from generative_models.prior import (PosePrior, add_prior_options, check_prior_options, prior_from_options,
                                     prior_loss_term)
from generative_models.pose_representation import root_relative
from utils.checkpoints import CheckpointError, config_to_dict, save_checkpoint
from tests.generative_models.pose_fixture import sample_poses

CONFIG = GanConfig(noise_dim=8, generator_width=32, generator_blocks=1, critic_width=32, critic_blocks=1)


def write_checkpoint(path, score_mean=0.5, score_std=2.0, kind="pose_gan"):
    torch.manual_seed(0)
    payload = {"kind": kind, "model_config": config_to_dict(CONFIG),
               "model_state": {"generator": Generator(CONFIG).state_dict(), "critic": Critic(CONFIG).state_dict()},
               "normalisation": {"mean_bone_length_mm": torch.tensor(250.0), "score_mean": torch.tensor(score_mean),
                                 "score_std": torch.tensor(score_std)}}
    return save_checkpoint(path, payload)


def poses_mm(count=6, seed=0) -> torch.Tensor:
    return root_relative(torch.from_numpy(sample_poses(count, np.random.default_rng(seed))).float())


def test_scores_accept_17_16_and_flat_joints_and_are_calibrated(tmp_path):
    prior = PosePrior.from_checkpoint(write_checkpoint(tmp_path / "gan.pt"))
    poses = poses_mm()
    scores = prior.score(poses)
    assert scores.shape == (6,)
    for variant in (poses[:, 1:], poses.reshape(6, 51), poses[:, 1:].reshape(6, 48)):
        assert torch.allclose(prior.score(variant), scores, atol=1e-5)
    raw = PosePrior(prior.critic).score(poses)  # no calibration
    assert torch.allclose(scores, (raw - 0.5) / 2.0, atol=1e-5)
    assert torch.isclose(prior.loss(poses), -scores.mean())


def test_scores_do_not_depend_on_frame_or_size(tmp_path):
    prior = PosePrior.from_checkpoint(write_checkpoint(tmp_path / "gan.pt"))
    poses = poses_mm()
    rotation = torch.linalg.qr(torch.randn(3, 3, generator=torch.Generator().manual_seed(1)))[0]
    rotation = rotation * torch.det(rotation)  # a proper rotation, e.g. world -> camera
    assert torch.allclose(prior.score(0.9 * poses @ rotation.T), prior.score(poses), atol=1e-4)


def test_loss_is_differentiable_in_the_poses_only(tmp_path):
    prior = PosePrior.from_checkpoint(write_checkpoint(tmp_path / "gan.pt"))
    poses = poses_mm()[:, 1:].clone().requires_grad_(True)  # (B, 16, 3): the lifter's output joints
    prior_loss_term(prior, poses).backward()
    assert poses.grad is not None and poses.grad.abs().sum() > 0
    assert all(parameter.grad is None and not parameter.requires_grad for parameter in prior.critic.parameters())


def test_prior_options_and_helpers(tmp_path):
    parser = argparse.ArgumentParser()
    add_prior_options(parser)
    opts = parser.parse_args([])
    assert (opts.prior_checkpoint, opts.prior_weight) == (None, 0.0)
    assert check_prior_options(opts) is None and prior_from_options(opts) is None
    assert prior_loss_term(None, torch.zeros(2, 16, 3)).item() == 0.0
    assert "needs --prior_checkpoint" in check_prior_options(parser.parse_args(["--prior_weight", "0.1"]))
    assert ">= 0" in check_prior_options(parser.parse_args(["--prior_weight", "-1"]))
    path = write_checkpoint(tmp_path / "gan.pt")
    opts = parser.parse_args(["--prior_checkpoint", str(path), "--prior_weight", "0.1"])
    assert isinstance(prior_from_options(opts), PosePrior)


def test_generator_loads_with_its_mm_scale(tmp_path):
    generator, _, extras = load_generator(write_checkpoint(tmp_path / "gan.pt"))
    mean_bone_length_mm = extras["mean_bone_length_mm"]
    assert mean_bone_length_mm == 250.0 and generator.sample(3).shape == (3, 17, 3)


def test_bad_checkpoints_get_clear_errors(tmp_path):
    with pytest.raises(CheckpointError, match="checkpoint not found: .*missing.pt"):
        PosePrior.from_checkpoint(tmp_path / "missing.pt")
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="garbage.pt: cannot be read"):
        PosePrior.from_checkpoint(garbage)
    with pytest.raises(CheckpointError, match="holds a 'lifter' model, expected a 'pose_gan' checkpoint"):
        PosePrior.from_checkpoint(write_checkpoint(tmp_path / "lifter.pt", kind="lifter"))
    no_critic = save_checkpoint(tmp_path / "no_critic.pt", {"kind": "pose_gan", "model_config": config_to_dict(CONFIG),
                                                            "model_state": {"generator": {}}})
    with pytest.raises(CheckpointError, match="no 'critic' entry"):
        PosePrior.from_checkpoint(no_critic)
    wrong_size = save_checkpoint(tmp_path / "wrong.pt", {"kind": "pose_gan",
                                                         "model_config": config_to_dict(GanConfig(critic_width=64)),
                                                         "model_state": {"critic": Critic(CONFIG).state_dict()}})
    with pytest.raises(CheckpointError, match="do not fit its model_config"):
        PosePrior.from_checkpoint(wrong_size)
