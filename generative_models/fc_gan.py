"""The two players of the WGAN-GP pose prior, and the gradient penalty.

Both work in the prior's pose representation (`pose_representation.normalise_pose`): H36M-17 joints, root-relative,
divided by the pose's mean bone length. The generator maps noise to such a pose; the critic maps such a pose to a
score (higher = more like the training poses), optionally seeing the kinematic-chain features (the Gram matrix of the
bone vectors: bone lengths and the angles between bones) next to the joints.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from generative_models.base_network import ResidualFC
from generative_models.pose_representation import (H36M17_PARENTS, NUM_JOINTS, bone_vectors, kinematic_chain_gram,
                                                   normalise_pose)


@dataclass
class GanConfig:
    """Sizes of the generator and the critic (stored in every pose_gan checkpoint)."""

    noise_dim: int = 32
    generator_width: int = 256
    generator_blocks: int = 2
    critic_width: int = 256
    critic_blocks: int = 2
    critic_norm: str = "none"  # "none" or "layer": never batch norm in a gradient-penalty critic
    bone_features: bool = True  # give the critic the kinematic-chain (bone-vector Gram matrix) features

    def __post_init__(self) -> None:
        if self.critic_norm not in ("none", "layer"):
            raise ValueError(f"critic_norm must be 'none' or 'layer' (no batch norm in a WGAN-GP critic), "
                             f"got '{self.critic_norm}'")
        for name in ("noise_dim", "generator_width", "generator_blocks", "critic_width"):
            if getattr(self, name) <= 0:
                raise ValueError(f"GanConfig.{name} must be positive, got {getattr(self, name)}")


class Generator(nn.Module):
    """(B, noise_dim) Gaussian noise -> (B, 17, 3) normalised root-relative pose (root at zero, mean bone length 1)."""

    def __init__(self, config: GanConfig):
        super().__init__()
        self.config = config
        self.net = ResidualFC(config.noise_dim, (NUM_JOINTS - 1) * 3, config.generator_width,
                              config.generator_blocks, norm="none", activation="relu")

    def forward(self, noise: torch.Tensor) -> torch.Tensor:
        joints = self.net(noise).view(-1, NUM_JOINTS - 1, 3)  # (B, 16, 3) non-root joints
        poses = torch.cat([torch.zeros_like(joints[:, :1]), joints], dim=1)  # (B, 17, 3)
        return normalise_pose(poses, H36M17_PARENTS)[0]

    def sample(self, count: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """`count` poses (count, 17, 3) in normalised units, from noise drawn with `generator` (or the global RNG)."""
        device = next(self.parameters()).device
        noise = torch.randn(count, self.config.noise_dim, generator=generator, device=device)
        return self(noise)


class Critic(nn.Module):
    """(B, 17, 3) normalised root-relative pose -> (B,) score, higher = more plausible. No batch norm."""

    def __init__(self, config: GanConfig):
        super().__init__()
        self.config = config
        bones = NUM_JOINTS - 1
        rows, cols = torch.triu_indices(bones, bones)  # upper triangle of the Gram matrix, diagonal included
        self.register_buffer("gram_rows", rows, persistent=False)
        self.register_buffer("gram_cols", cols, persistent=False)
        features = bones * 3 + (len(self.gram_rows) if config.bone_features else 0)
        self.net = ResidualFC(features, 1, config.critic_width, config.critic_blocks, norm=config.critic_norm,
                              activation="leaky_relu")

    def features(self, poses: torch.Tensor) -> torch.Tensor:
        """(B, 17, 3) -> (B, F): the 16 non-root joints, then (option) the upper triangle of the bone Gram matrix."""
        assert poses.shape[1:] == (NUM_JOINTS, 3), f"expected (B, 17, 3), got {tuple(poses.shape)}"
        parts = [poses[:, 1:].flatten(1)]  # (B, 48)
        if self.config.bone_features:
            gram = kinematic_chain_gram(bone_vectors(poses, H36M17_PARENTS))  # (B, 16, 16)
            parts.append(gram[:, self.gram_rows, self.gram_cols])  # (B, 136)
        return torch.cat(parts, dim=1)

    def forward(self, poses: torch.Tensor) -> torch.Tensor:
        return self.net(self.features(poses)).squeeze(-1)  # (B,)


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
