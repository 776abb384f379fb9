"""Loss terms that a higher package hands to a training script below it, typed here so neither imports the other."""
from __future__ import annotations

from typing import Protocol

import torch


class PosePenalty(Protocol):
    """A differentiable loss on predicted 3D poses that a training script adds, `weight` x `loss(poses_mm)`: the
    pose prior (`generative_models.prior.PosePrior`), which the entry point hands to the scripts that take one."""

    weight: float

    def to(self, device: torch.device) -> "PosePenalty": ...

    def loss(self, poses_root_relative_mm: torch.Tensor) -> torch.Tensor:
        """(B, 16 | 17, 3) root-relative mm -> scalar, lower = more plausible."""
        ...
