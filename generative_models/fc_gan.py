"""The two players of the WGAN-GP pose prior, and the gradient penalty.

Both work in the prior's pose representation (`pose_representation.prior_representation`): H36M-17 joints,
root-relative, divided by the pose's mean bone length, in the body frame. The generator maps noise to such a pose.
The critic maps such a pose to two scores (higher = more like the training poses) in two stages: `features` (the 16
non-root joints and, with `bone_features`, the bone vectors and `length_weight` x the log bone lengths) and `heads`
(a residual MLP without batch norm, two outputs). Output 0, the adversary, is the generator's opponent; output 1,
the plausibility score, is what `PosePrior` uses (trained also against corrupted poses and to score all real poses
alike, which would leave the generator without guidance if it were the generator's opponent). The gradient penalty
is taken with respect to the features, so the Wasserstein distances the critic estimates measure poses in joints,
bones and bone-length ratios.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from generative_models.base_network import ResidualFC
from generative_models.pose_representation import H36M17_PARENTS, NUM_JOINTS, bone_vectors, prior_representation

NUM_BONES = NUM_JOINTS - 1


@dataclass
class GanConfig:
    """Sizes of the generator and the critic, and the critic's features (stored in every pose_gan checkpoint)."""

    noise_dim: int = 32
    generator_width: int = 256
    generator_blocks: int = 2
    critic_width: int = 256
    critic_blocks: int = 2
    critic_norm: str = "none"  # "none" or "layer": never batch norm in a gradient-penalty critic
    bone_features: bool = True  # the critic also sees bone vectors and log bone lengths
    length_weight: float = 5.0  # scale of the log bone lengths among the critic's features

    def __post_init__(self) -> None:
        if self.critic_norm not in ("none", "layer"):
            raise ValueError(f"critic_norm must be 'none' or 'layer' (no batch norm in a WGAN-GP critic), "
                             f"got '{self.critic_norm}'")
        for name in ("noise_dim", "generator_width", "generator_blocks", "critic_width"):
            if getattr(self, name) <= 0:
                raise ValueError(f"GanConfig.{name} must be positive, got {getattr(self, name)}")

    @property
    def num_features(self) -> int:
        return NUM_BONES * 3 + (NUM_BONES * 4 if self.bone_features else 0)


def pose_features(poses: torch.Tensor, bone_features: bool, length_weight: float) -> torch.Tensor:
    """(B, 17, 3) prior-representation poses -> (B, F) critic features.

    F = 48 joints (root dropped), then with `bone_features` 48 bone vectors (child - parent, in the body frame)
    and 16 x `length_weight` * log(bone length) (log length ratios: the mean bone length is 1).
    """
    assert poses.dim() == 3 and poses.shape[1:] == (NUM_JOINTS, 3), f"expected (B, 17, 3), got {tuple(poses.shape)}"
    parts = [poses[:, 1:].flatten(1)]  # (B, 48)
    if bone_features:
        bones = bone_vectors(poses, H36M17_PARENTS)  # (B, 16, 3)
        parts += [bones.flatten(1), length_weight * torch.log(bones.norm(dim=-1) + 1e-6)]  # (B, 48), (B, 16)
    return torch.cat(parts, dim=1)


class Generator(nn.Module):
    """(B, noise_dim) Gaussian noise -> (B, 17, 3) pose in the prior representation (root 0, mean bone 1, body frame)."""

    def __init__(self, config: GanConfig):
        super().__init__()
        self.config = config
        self.net = ResidualFC(config.noise_dim, NUM_BONES * 3, config.generator_width, config.generator_blocks,
                              norm="none", activation="relu")

    def forward(self, noise: torch.Tensor) -> torch.Tensor:
        joints = self.net(noise).view(-1, NUM_BONES, 3)  # (B, 16, 3) non-root joints
        return prior_representation(joints)  # (B, 17, 3)

    def sample(self, count: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """`count` poses (count, 17, 3) in the prior representation, noise from `generator` (or the global RNG)."""
        device = next(self.parameters()).device
        noise = torch.randn(count, self.config.noise_dim, generator=generator).to(device)
        return self(noise)


ADVERSARY, PLAUSIBILITY = 0, 1


class Critic(nn.Module):
    """(B, 17, 3) prior-representation pose -> (B,) plausibility score, higher = more plausible. No batch norm.

    `heads` gives both outputs from features: (B, 2) = (adversary, plausibility)."""

    def __init__(self, config: GanConfig):
        super().__init__()
        self.config = config
        self.net = ResidualFC(config.num_features, 2, config.critic_width, config.critic_blocks,
                              norm=config.critic_norm, activation="leaky_relu")

    def features(self, poses: torch.Tensor) -> torch.Tensor:
        """(B, 17, 3) -> (B, F), see `pose_features`."""
        return pose_features(poses, self.config.bone_features, self.config.length_weight)

    def heads(self, features: torch.Tensor) -> torch.Tensor:
        """(B, F) -> (B, 2) scores: column ADVERSARY (the generator's opponent), column PLAUSIBILITY (the prior)."""
        return self.net(features)

    def adversary(self, poses: torch.Tensor) -> torch.Tensor:
        """(B, 17, 3) -> (B,) the generator's opponent's scores."""
        return self.heads(self.features(poses))[:, ADVERSARY]

    def forward(self, poses: torch.Tensor) -> torch.Tensor:
        return self.heads(self.features(poses))[:, PLAUSIBILITY]  # (B,)


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, weight: float = 10.0,
                     mix: torch.Tensor | None = None) -> torch.Tensor:
    """WGAN-GP penalty: weight * mean over samples of (||d critic / d x at x_hat|| - 1)^2.

    real, fake: (B, ...) critic inputs; x_hat = mix * real + (1 - mix) * fake with mix (B,) uniform in [0, 1] (drawn
    from the global RNG when not given). Returns a scalar that keeps the graph (for the critic's backward).
    """
    assert real.shape == fake.shape, f"real {tuple(real.shape)} and fake {tuple(fake.shape)} differ"
    if mix is None:
        mix = torch.rand(real.shape[0], device=real.device, dtype=real.dtype)
    mix = mix.view(-1, *([1] * (real.dim() - 1)))
    blended = (mix * real.detach() + (1 - mix) * fake.detach()).requires_grad_(True)
    scores = critic(blended)
    (gradients,) = torch.autograd.grad(scores.sum(), blended, create_graph=True)
    norms = gradients.flatten(1).norm(dim=1)  # (B,)
    return weight * ((norms - 1.0) ** 2).mean()
