"""The 3D pose baseline (Martinez et al. 2017): an MLP with residual blocks lifting 16 2D joints to 16 3D joints.

Input: (B, 32) normalised 2D joints (16 x (x, y), H36M16_2D order). Output: (B, 48) normalised root-relative 3D
joints (16 x (x, y, z), H36M16_3D order); `twod_threed.normalization.Normaliser` maps both ends to pixels and mm.
At the defaults (linear_size 1024, num_stage 2) the network has 4,291,632 parameters:
  Linear(32->1024) 33,792 + BN 2,048 + 2 blocks x 2 x (Linear 1,049,600 + BN 2,048) + Linear(1024->48) 49,200.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class LifterConfig:
    """Shape of the lifting network. `max_norm` > 0 bounds the L2 norm of every unit's incoming weights.

    Max-norm differs between implementations of this network: here each unit's incoming weights (a Linear row) are
    renormalised after every step; the PyTorch port (3d_pose_baseline_pytorch) clips the gradient norm instead; the
    TensorFlow original clips each weight tensor's norm. Imported lifters (`convert_checkpoint`) have max_norm 0."""

    input_size: int = 32  # 16 joints x (x, y)
    output_size: int = 48  # 16 joints x (x, y, z)
    linear_size: int = 1024
    num_stage: int = 2  # residual blocks
    dropout: float = 0.5
    max_norm: float = 1.0  # 0 disables the constraint


class ResidualBlock(nn.Module):
    """x + [Linear, BN, ReLU, Dropout] x 2."""

    def __init__(self, size: int, dropout: float):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(size, size), nn.BatchNorm1d(size), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(size, size), nn.BatchNorm1d(size), nn.ReLU(inplace=True), nn.Dropout(dropout),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.layers(x)  # (B, size)


class Lifter(nn.Module):
    """Linear(32 -> S), BN, ReLU, Dropout; `num_stage` residual blocks; Linear(S -> 48)."""

    def __init__(self, config: LifterConfig):
        super().__init__()
        self.config = config
        size = config.linear_size
        self.stem = nn.Sequential(nn.Linear(config.input_size, size), nn.BatchNorm1d(size), nn.ReLU(inplace=True),
                                  nn.Dropout(config.dropout))
        self.blocks = nn.Sequential(*(ResidualBlock(size, config.dropout) for _ in range(config.num_stage)))
        self.head = nn.Linear(size, config.output_size)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                nn.init.zeros_(module.bias)
        self.apply_max_norm()

    def forward(self, joints_2d: torch.Tensor) -> torch.Tensor:
        assert joints_2d.dim() == 2 and joints_2d.shape[1] == self.config.input_size, tuple(joints_2d.shape)
        features = self.stem(joints_2d)  # (B, S)
        features = self.blocks(features)  # (B, S)
        return self.head(features)  # (B, 48)

    @torch.no_grad()
    def apply_max_norm(self) -> None:
        """Project every Linear weight row (one unit's incoming weights) onto the ball of radius `max_norm`."""
        if self.config.max_norm <= 0:
            return
        for module in self.modules():
            if isinstance(module, nn.Linear):
                torch.renorm(module.weight, p=2, dim=0, maxnorm=self.config.max_norm, out=module.weight)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
