"""Crop geometry and augmentation: image px -> crop px affine matrices, their algebra, and random augmentation.

Pixel convention (the one of cv2.warpAffine): pixel centres sit at integer coordinates, so an image of side R spans
[-0.5, R - 0.5] and its centre is (R - 1) / 2. A heatmap of stride s covers input pixels [s*h, s*h + s - 1], so its
pixel h has its centre at input coordinate s*h + (s - 1) / 2. Mirroring an input of side R (u -> R - 1 - u) then
mirrors the heatmap exactly (h -> R/s - 1 - h), with no half-pixel correction.
All matrices are (..., 2, 3) float64 and map column vectors [x, y, 1] (px).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def crop_matrix(center_px: np.ndarray, box_px: np.ndarray, output_res: int, rotation_deg: np.ndarray | float = 0.0,
                flip: np.ndarray | bool = False) -> np.ndarray:
    """Image px -> crop px for a square box of side `box_px` centred at `center_px`, mapped to `output_res` px.

    center_px: (..., 2); box_px, rotation_deg (counter-clockwise as displayed), flip (mirror left-right): (...).
    Returns (..., 2, 3): p_crop = c_out + Flip @ Rot @ (output_res / box_px) (p - center), c_out = (res - 1) / 2.
    """
    center_px = np.asarray(center_px, dtype=np.float64)
    assert center_px.shape[-1] == 2, f"center_px must be (..., 2), got {center_px.shape}"
    shape = center_px.shape[:-1]
    box_px = np.broadcast_to(np.asarray(box_px, dtype=np.float64), shape)
    angle = np.deg2rad(np.broadcast_to(np.asarray(rotation_deg, dtype=np.float64), shape))
    mirror = np.where(np.broadcast_to(np.asarray(flip, dtype=bool), shape), -1.0, 1.0)
    zoom = output_res / box_px
    cos, sin = np.cos(angle) * zoom, np.sin(angle) * zoom
    # Counter-clockwise on screen with y pointing down: [[cos, sin], [-sin, cos]].
    linear = np.stack([np.stack([mirror * cos, mirror * sin], -1), np.stack([-sin, cos], -1)], -2)  # (..., 2, 2)
    offset = (output_res - 1) / 2.0 - np.einsum("...ij,...j->...i", linear, center_px)
    return np.concatenate([linear, offset[..., None]], axis=-1)


def to_homogeneous(matrix: np.ndarray) -> np.ndarray:
    """(..., 2, 3) -> (..., 3, 3)."""
    bottom = np.broadcast_to(np.array([0.0, 0.0, 1.0]), matrix.shape[:-2] + (1, 3))
    return np.concatenate([matrix, bottom], axis=-2)


def compose(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """The affine map `outer(inner(p))`: (..., 2, 3) x (..., 2, 3) -> (..., 2, 3)."""
    return (to_homogeneous(outer) @ to_homogeneous(inner))[..., :2, :]


def invert(matrix: np.ndarray) -> np.ndarray:
    """Inverse affine map: (..., 2, 3) -> (..., 2, 3)."""
    return np.linalg.inv(to_homogeneous(matrix))[..., :2, :]


def apply(matrix: np.ndarray, points_px: np.ndarray) -> np.ndarray:
    """Map points: matrix (..., 2, 3), points (..., J, 2) -> (..., J, 2)."""
    assert matrix.shape[-2:] == (2, 3) and points_px.shape[-1] == 2, (matrix.shape, points_px.shape)
    return np.einsum("...ij,...kj->...ki", matrix[..., :2], points_px) + matrix[..., None, :, 2]


def heatmap_matrix(stride: int) -> np.ndarray:
    """Input px -> heatmap px for a heatmap of the given stride: h = (u - (stride - 1) / 2) / stride. (2, 3)."""
    shift = -(stride - 1) / (2.0 * stride)
    return np.array([[1.0 / stride, 0.0, shift], [0.0, 1.0 / stride, shift]])


def scaling_matrix(factor: float) -> np.ndarray:
    """Pixels of an image resized by `factor` (as JPEG reduced decoding does) -> pixels of the original. (2, 3)."""
    shift = (1.0 / factor - 1.0) / 2.0
    return np.array([[1.0 / factor, 0.0, shift], [0.0, 1.0 / factor, shift]])


@dataclass(frozen=True)
class AugmentSettings:
    """Augmentation of the hourglass papers (REFERENCE.md)."""

    scale_sigma_octaves: float = 0.25
    scale_clip_octaves: float = 0.5
    rotation_sigma_deg: float = 30.0
    rotation_clip_deg: float = 60.0
    rotation_prob: float = 0.4
    flip_prob: float = 0.5
    colour_gain_range: tuple[float, float] = (0.6, 1.4)


@dataclass(frozen=True)
class Augmentation:
    box_scale: float = 1.0  # crop box side multiplier (> 1 zooms out)
    rotation_deg: float = 0.0
    flip: bool = False
    colour_gain: tuple[float, float, float] = (1.0, 1.0, 1.0)  # per RGB channel


def sample_augmentation(rng: np.random.Generator, settings: AugmentSettings) -> Augmentation:
    octaves = np.clip(rng.normal(0.0, settings.scale_sigma_octaves), -settings.scale_clip_octaves,
                      settings.scale_clip_octaves)
    rotation = np.clip(rng.normal(0.0, settings.rotation_sigma_deg), -settings.rotation_clip_deg,
                       settings.rotation_clip_deg)
    rotate = rng.random() < settings.rotation_prob
    flip = rng.random() < settings.flip_prob
    gain = rng.uniform(*settings.colour_gain_range, size=3)
    return Augmentation(float(2.0 ** octaves), float(rotation) if rotate else 0.0, bool(flip),
                        tuple(float(g) for g in gain))


@dataclass(frozen=True)
class MaskSettings:
    """Random occlusion: a bar across the whole crop through the person's joints (--add_random_masking)."""

    prob: float = 0.5  # --mask_prob: chance that a sample gets a mask
    vertical_prob: float = 0.5  # --orientation_prob: chance that the bar is vertical (else horizontal)
    mean_valued_prob: float = 0.5  # --mean_valued_prob: fill with the mean colour (else mean + Gaussian noise)
    max_cover_ratio: float = 0.5  # --max_cover_ratio: bar width at most this fraction of the joints' extent
    noise_std: float = 0.2  # --noise_std: noise standard deviation, in [0, 1] pixel units


def sample_mask(rng: np.random.Generator, settings: MaskSettings, joints_px: np.ndarray, annotated: np.ndarray,
                image_res: int) -> tuple[slice, slice, bool] | None:
    """A bar (rows, columns, mean_valued) to paint over a crop, or None. joints_px: (J, 2) crop px; annotated: (J,).
    The bar starts inside the bounding box of the annotated joints and is 1 px to `max_cover_ratio` of its extent."""
    if rng.random() >= settings.prob:
        return None
    points = joints_px[annotated > 0]
    low, high = (points.min(0), points.max(0)) if len(points) else (np.zeros(2), np.full(2, image_res - 1.0))
    low, high = np.clip(low, 0, image_res - 1), np.clip(high, 0, image_res - 1)
    axis = 0 if rng.random() < settings.vertical_prob else 1  # 0: vertical bar (spans x), 1: horizontal (spans y)
    start = int(low[axis] + (high[axis] - low[axis]) * rng.random())
    width = max(1, int((high[axis] - low[axis]) * settings.max_cover_ratio * rng.random()))
    band = slice(start, min(start + width, image_res))
    rows, columns = (slice(None), band) if axis == 0 else (band, slice(None))
    return rows, columns, bool(rng.random() < settings.mean_valued_prob)
