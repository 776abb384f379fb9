"""Heatmap codec: Gaussian targets from joints, joints from heatmaps (argmax + quarter-pixel shift), flip test.

Coordinates are heatmap pixels with centres at integers (see transforms.py for the input <-> heatmap relation).
"""
from __future__ import annotations

import numpy as np
import torch

from stacked_hourglass import transforms
from utils.skeletons import MPII


def target_weights(joints_hm: torch.Tensor, annotated: torch.Tensor, heatmap_res: int) -> torch.Tensor:
    """1 for annotated joints inside the heatmap's pixel area [-0.5, R - 0.5), else 0.
    joints_hm: (..., J, 2) heatmap px; annotated: (..., J). Returns (..., J) float."""
    inside = ((joints_hm >= -0.5) & (joints_hm < heatmap_res - 0.5)).all(-1)
    return ((annotated > 0) & inside).to(joints_hm.dtype)


def gaussian_targets(joints_hm: torch.Tensor, annotated: torch.Tensor, heatmap_res: int,
                     sigma: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-joint 2D Gaussians of peak 1 centred at the (sub-pixel) joint positions, and the target weights.

    joints_hm: (..., J, 2) heatmap px (x, y); annotated: (..., J) 1 where the joint is labelled.
    Returns heatmaps (..., J, R, R) and weights (..., J) (see `target_weights`); a joint of weight 0 has an
    all-zero heatmap. Built from separable x and y profiles, on the joints' device, without loops.
    """
    assert joints_hm.shape[-1] == 2 and annotated.shape == joints_hm.shape[:-1], (joints_hm.shape, annotated.shape)
    joints_hm = joints_hm.float()
    weights = target_weights(joints_hm, annotated, heatmap_res)
    grid = torch.arange(heatmap_res, dtype=torch.float32, device=joints_hm.device)
    offsets = grid - joints_hm.unsqueeze(-1)  # (..., J, 2, R)
    profiles = torch.exp(offsets * offsets * (-0.5 / sigma**2))
    heatmaps = profiles[..., 1, :, None] * (profiles[..., 0, None, :] * weights[..., None, None])  # g(y) g(x) w
    return heatmaps, weights


def decode(heatmaps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Joint positions from heatmaps: argmax, then a quarter-pixel step toward the higher neighbour on each axis.

    heatmaps: (B, J, H, W). Returns coordinates (B, J, 2) heatmap px (x, y) and peak values (B, J).
    """
    assert heatmaps.dim() == 4, f"expected (B, J, H, W), got {tuple(heatmaps.shape)}"
    batch, joints, height, width = heatmaps.shape
    flat = heatmaps.detach().float().reshape(batch, joints, -1)
    peaks, index = flat.max(-1)
    x, y = index % width, index // width
    padded = torch.nn.functional.pad(heatmaps.detach().float(), (1, 1, 1, 1), mode="replicate")
    padded = padded.reshape(batch, joints, -1)
    stride = width + 2

    def value(dx: int, dy: int) -> torch.Tensor:
        return padded.gather(-1, ((y + 1 + dy) * stride + (x + 1 + dx)).unsqueeze(-1)).squeeze(-1)

    shift_x = torch.sign(value(1, 0) - value(-1, 0)) * 0.25
    shift_y = torch.sign(value(0, 1) - value(0, -1)) * 0.25
    coords = torch.stack([x.float() + shift_x, y.float() + shift_y], -1)
    return coords, peaks


def flip_back(heatmaps: torch.Tensor, flip_permutation: np.ndarray = MPII.flip_permutation()) -> torch.Tensor:
    """Heatmaps predicted on a mirrored input -> heatmaps of the original: mirror along W, swap left/right joints.
    (B, J, H, W) -> (B, J, H, W)."""
    return heatmaps.flip(-1)[:, torch.as_tensor(flip_permutation)]


def flip_test(predict, images: torch.Tensor, flip_permutation: np.ndarray = MPII.flip_permutation()) -> torch.Tensor:
    """Average of `predict(images)` and the flipped-back prediction on the mirrored images.
    predict: (B, 3, H, W) -> (B, J, h, w) heatmaps."""
    both = predict(torch.cat([images, images.flip(-1)]))
    plain, mirrored = both.chunk(2)
    return 0.5 * (plain + flip_back(mirrored, flip_permutation))


def heatmap_to_image(coords_hm: np.ndarray, image_to_input: np.ndarray, stride: int) -> np.ndarray:
    """Heatmap px -> image px through the inverse crop. coords_hm: (B, J, 2); image_to_input: (B, 2, 3) -> (B, J, 2)."""
    image_to_heatmap = transforms.compose(transforms.heatmap_matrix(stride), image_to_input)
    return transforms.apply(transforms.invert(image_to_heatmap), np.asarray(coords_hm, dtype=np.float64))
