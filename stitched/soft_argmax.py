"""Soft-argmax (integral regression): heatmaps -> expected joint coordinates, differentiable everywhere.

Coordinates are in heatmap pixels with pixel centres at integer positions: a delta at row r, column c gives
(x, y) = (c, r). `to_image_pixels` maps them through a crop's inverse affine transform to image pixels.
"""
from __future__ import annotations

import math

import torch
from torch import nn


def soft_argmax_2d(heatmaps: torch.Tensor, beta: torch.Tensor | float = 1.0) -> torch.Tensor:
    """Expected (x, y) under softmax(beta * heatmap) per joint.

    heatmaps: (B, J, H, W); beta: scalar or (J,) inverse temperature. Returns (B, J, 2) heatmap pixels (float32 or
    the input's dtype if wider); computed in float32 at least, so bf16 heatmaps stay accurate.
    """
    assert heatmaps.dim() == 4, f"expected (B, J, H, W) heatmaps, got {tuple(heatmaps.shape)}"
    batch, joints, height, width = heatmaps.shape
    dtype = torch.promote_types(heatmaps.dtype, torch.float32)
    beta = torch.as_tensor(beta, dtype=dtype, device=heatmaps.device).reshape(-1, 1)  # (1 or J, 1)
    logits = heatmaps.to(dtype).reshape(batch, joints, height * width) * beta  # (B, J, H*W)
    probabilities = torch.softmax(logits, dim=-1).reshape(batch, joints, height, width)
    xs = torch.arange(width, dtype=dtype, device=heatmaps.device)
    ys = torch.arange(height, dtype=dtype, device=heatmaps.device)
    x = (probabilities.sum(2) * xs).sum(-1)  # (B, J): marginal over rows, then expectation over columns
    y = (probabilities.sum(3) * ys).sum(-1)  # (B, J)
    return torch.stack([x, y], dim=-1)


def to_image_pixels(points: torch.Tensor, inverse_affine: torch.Tensor) -> torch.Tensor:
    """Apply per-sample 2x3 affine maps. points: (B, J, 2); inverse_affine: (B, 2, 3) -> (B, J, 2)."""
    assert points.shape[0] == inverse_affine.shape[0] and inverse_affine.shape[1:] == (2, 3), \
        f"points {tuple(points.shape)} vs affine {tuple(inverse_affine.shape)}"
    matrices = inverse_affine.to(points.dtype)
    return points @ matrices[:, :, :2].transpose(1, 2) + matrices[:, None, :, 2]


class SoftArgmax(nn.Module):
    """Soft-argmax with a fixed or learnable inverse temperature `beta` (one per joint when learnable).

    The learnable beta is stored as its logarithm so it stays positive.
    """

    def __init__(self, num_joints: int, beta: float = 1.0, learnable: bool = False):
        super().__init__()
        assert beta > 0, f"beta must be positive, got {beta}"
        log_beta = torch.full((num_joints,), math.log(beta))
        if learnable:
            self.log_beta = nn.Parameter(log_beta)
        else:
            self.register_buffer("log_beta", log_beta)

    @property
    def beta(self) -> torch.Tensor:
        return self.log_beta.exp()

    def forward(self, heatmaps: torch.Tensor) -> torch.Tensor:
        """(B, J, H, W) -> (B, J, 2) heatmap pixels."""
        return soft_argmax_2d(heatmaps, self.beta)
