"""Heatmap codec: Gaussian targets from joints, joints from heatmaps (argmax + quarter-pixel or DARK), flip test.

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


DECODERS = ("quarter", "dark")


def _neighbours(maps: torch.Tensor, x: torch.Tensor, y: torch.Tensor, reach: int):
    """`value(dx, dy)`: maps[b, j, y + dy, x + dx] for |dx|, |dy| <= reach, edges replicated. maps (B, J, H, W);
    x, y (B, J, N) integer positions, N per map; values (B, J, N)."""
    width = maps.shape[-1]
    padded = torch.nn.functional.pad(maps, (reach, reach, reach, reach), mode="replicate").flatten(2)
    stride = width + 2 * reach

    def value(dx: int, dy: int) -> torch.Tensor:
        return padded.gather(-1, (y + reach + dy) * stride + (x + reach + dx))

    return value


def gaussian_blur(heatmaps: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of (B, J, H, W) maps (radius 3 sigma, edges replicated), per map."""
    radius = max(1, int(np.ceil(3 * sigma)))
    taps = torch.arange(-radius, radius + 1, dtype=heatmaps.dtype, device=heatmaps.device)
    kernel = torch.exp(-0.5 * taps * taps / sigma**2)
    kernel = kernel / kernel.sum()
    batch, joints, height, width = heatmaps.shape
    maps = heatmaps.reshape(batch * joints, 1, height, width)
    maps = torch.nn.functional.conv2d(torch.nn.functional.pad(maps, (radius, radius, 0, 0), mode="replicate"),
                                      kernel.view(1, 1, 1, -1))
    maps = torch.nn.functional.conv2d(torch.nn.functional.pad(maps, (0, 0, radius, radius), mode="replicate"),
                                      kernel.view(1, 1, -1, 1))
    return maps.reshape(batch, joints, height, width)


def quarter_steps(heatmaps: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """A quarter pixel toward the higher neighbour on each axis. heatmaps (B, J, H, W); x, y (B, J, N) integer
    peak positions -> (B, J, N, 2) steps (x, y)."""
    value = _neighbours(heatmaps.detach().float(), x, y, 1)
    return 0.25 * torch.stack([torch.sign(value(1, 0) - value(-1, 0)), torch.sign(value(0, 1) - value(0, -1))], -1)


def dark_steps(heatmaps: torch.Tensor, x: torch.Tensor, y: torch.Tensor, sigma: float) -> torch.Tensor:
    """Distribution-aware refinement (Zhang et al., CVPR 2020) at given peaks: blur each map with the target's
    Gaussian (`sigma`, heatmap px), take its logarithm and step to the maximum of its second-order Taylor expansion
    at the peak, at most one pixel per axis; where the log-map is not concave there the step is 0. A map may hold
    several peaks (one per person). heatmaps (B, J, H, W); x, y (B, J, N) integer positions -> (B, J, N, 2)."""
    value = _neighbours(torch.log(gaussian_blur(heatmaps.detach().float(), sigma).clamp_min(1e-10)), x, y, 2)
    gradient = torch.stack([value(1, 0) - value(-1, 0), value(0, 1) - value(0, -1)], -1) / 2  # (B, J, N, 2)
    dxx = (value(2, 0) - 2 * value(0, 0) + value(-2, 0)) / 4
    dyy = (value(0, 2) - 2 * value(0, 0) + value(0, -2)) / 4
    dxy = (value(1, 1) - value(-1, 1) - value(1, -1) + value(-1, -1)) / 4
    determinant = dxx * dyy - dxy * dxy
    concave = (dxx < 0) & (determinant > 1e-12)
    safe = torch.where(concave, determinant, torch.ones_like(determinant))
    step = -torch.stack([dyy * gradient[..., 0] - dxy * gradient[..., 1],
                         dxx * gradient[..., 1] - dxy * gradient[..., 0]], -1) / safe[..., None]  # -H^-1 g
    return torch.where(concave[..., None], step.clamp(-1.0, 1.0), torch.zeros_like(step))


def decode(heatmaps: torch.Tensor, method: str = "quarter", sigma: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Joint positions from heatmaps: the argmax, refined to sub-pixel precision.

    quarter: a quarter-pixel step toward the higher neighbour on each axis (the hourglass papers, pytorch-pose).
    dark: `dark_steps` (Zhang et al., CVPR 2020) at the argmax.
    heatmaps: (B, J, H, W). Returns coordinates (B, J, 2) heatmap px (x, y) and peak values (B, J) (of the raw map).
    """
    assert heatmaps.dim() == 4, f"expected (B, J, H, W), got {tuple(heatmaps.shape)}"
    assert method in DECODERS, f"decoder must be one of {DECODERS}, got {method!r}"
    maps = heatmaps.detach().float()
    width = maps.shape[-1]
    peaks, index = maps.flatten(2).max(-1)
    x, y = (index % width)[..., None], (index // width)[..., None]  # (B, J, 1)
    steps = quarter_steps(maps, x, y) if method == "quarter" else dark_steps(maps, x, y, sigma)
    return torch.cat([x, y], -1).float() + steps[..., 0, :], peaks


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
