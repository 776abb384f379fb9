"""`PosePrior`: the trained critic as a plausibility score and a training loss for 3D pose networks.

What it expects: root-relative Human3.6M poses in mm, either the 17 joints of `utils.skeletons.H36M17` (root
first, at zero) or the 16 of `H36M16_3D` (the lifting network's output: the 17 without the root), as (B, J, 3) or
flat (B, 3J). Any frame: the prior rotates each pose into its own pelvis/torso frame and divides it by its mean
bone length first, so camera-frame and world-frame poses of any size score alike. Scores are calibrated on the
training poses: 0 is a typical real pose, -1 is one standard deviation of real poses' scores lower; higher = more
plausible. Everything is differentiable with respect to the poses; the critic's own weights are frozen.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Callable

import torch

from generative_models.checkpoint import load_player
from generative_models.fc_gan import Critic
from generative_models.pose_representation import prior_representation


class PosePrior:
    """A frozen pose_gan critic with its score calibration. Not an nn.Module: its weights never reach an optimizer."""

    def __init__(self, critic: Critic, score_mean: float = 0.0, score_std: float = 1.0, weight: float = 1.0):
        self.critic = critic.eval().requires_grad_(False)
        self.score_mean, self.score_std = float(score_mean), float(score_std)
        self.weight = float(weight)  # of `loss` in a training loss (--prior_weight; `utils.penalties.PosePenalty`)

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str | torch.device = "cpu", weight: float = 1.0) -> "PosePrior":
        """Load the critic of a `train.py 3d_pose_gan` checkpoint; clear errors for missing or foreign files."""
        critic, _, extras = load_player(path, "critic", device)
        return cls(critic, extras["score_mean"], extras["score_std"], weight)

    @property
    def device(self) -> torch.device:
        return next(self.critic.parameters()).device

    def to(self, device: str | torch.device) -> "PosePrior":
        self.critic.to(device)
        return self

    def score(self, poses_mm: torch.Tensor) -> torch.Tensor:
        """(B, 17, 3) / (B, 16, 3) / (B, 51) / (B, 48) root-relative poses, mm -> (B,) calibrated scores.

        Higher = more plausible; 0 = the mean over training poses, in units of their standard deviation.
        """
        representation = prior_representation(poses_mm.to(self.device, torch.float32))
        return (self.critic(representation) - self.score_mean) / self.score_std

    def loss(self, poses_mm: torch.Tensor) -> torch.Tensor:
        """Scalar regulariser: the mean negative score of the poses (lower = more plausible)."""
        return -self.score(poses_mm).mean()


def add_prior_options(parser: argparse.ArgumentParser) -> None:
    """--prior_checkpoint and --prior_weight, for any training script whose network outputs 3D poses."""
    group = parser.add_argument_group("pose prior")
    group.add_argument("--prior_checkpoint", default=None,
                       help="a train.py 3d_pose_gan checkpoint; its critic scores the predicted 3D poses")
    group.add_argument("--prior_weight", type=float, default=0.0,
                       help="weight of the prior loss (mean negative calibrated score of the predicted poses)")


def check_prior_options(opts: argparse.Namespace) -> str | None:
    """A usage-error message for inconsistent prior options, else None."""
    if opts.prior_weight < 0:
        return f"--prior_weight must be >= 0, got {opts.prior_weight}"
    if opts.prior_weight > 0 and not opts.prior_checkpoint:
        return "--prior_weight > 0 needs --prior_checkpoint (a train.py 3d_pose_gan checkpoint)"
    return None


def prior_from_options(opts: argparse.Namespace, device: str | torch.device = "cpu") -> PosePrior | None:
    """The prior to use (its weight: --prior_weight), or None when --prior_weight is 0 or no --prior_checkpoint is
    given."""
    if not opts.prior_checkpoint or opts.prior_weight <= 0:
        return None
    return PosePrior.from_checkpoint(opts.prior_checkpoint, device, opts.prior_weight)


def with_prior(train: Callable[[argparse.Namespace, PosePrior | None], int]) -> Callable[[argparse.Namespace], int]:
    """A training command that takes the prior of --prior_checkpoint / --prior_weight as its second argument (loaded
    on the CPU before the run starts; the script moves it to its device). The entry point joins the two, so the
    model packages never import this one."""

    def train_with_prior(opts: argparse.Namespace) -> int:
        return train(opts, prior_from_options(opts))

    train_with_prior.__doc__ = train.__doc__
    return train_with_prior


def prior_loss_term(prior: PosePrior | None, poses_root_relative_mm: torch.Tensor) -> torch.Tensor:
    """The prior's loss on predicted poses (B, 16|17, 3) or flat (B, 48|51), root-relative mm; 0 without a prior.

    Multiply by --prior_weight and add to the training loss; gradients flow into the poses only.
    """
    if prior is None:
        return poses_root_relative_mm.new_zeros(())
    return prior.loss(poses_root_relative_mm)
