"""The associative-embedding codec: image-level targets (per-keypoint heatmaps of every person, the loss mask, the
keypoint positions whose tags are pulled together) and the image <-> network-input geometry.

Coordinates: input px = the letterboxed (and augmented) image; heatmap px = input px / stride. The network sees
the whole image (no person crops); `letterbox_matrix` fits it into the square input.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class AssociativeEmbeddingCodec:
    """One codec owns the target format end to end: input side, stride, Gaussian sigma, people per image."""

    input_res: int = 256
    stride: int = 4
    sigma: float = 2.0  # heatmap px
    max_people: int = 30

    @property
    def heatmap_res(self) -> int:
        return self.input_res // self.stride

    def to_heatmap(self, points_in: np.ndarray) -> np.ndarray:
        """Input px -> heatmap px: heatmap cell i covers input px stride i ... stride (i + 1) - 1."""
        return (points_in - (self.stride - 1) / 2) / self.stride

    def to_input(self, points_hm: np.ndarray) -> np.ndarray:
        return points_hm * self.stride + (self.stride - 1) / 2

    def heatmap_matrix(self, matrix: np.ndarray) -> np.ndarray:
        """(2, 3) image px -> input px  =>  (2, 3) image px -> heatmap px."""
        return np.concatenate([matrix[:, :2] / self.stride, self.to_heatmap(matrix[:, 2])[:, None]], axis=1)

    def heatmaps(self, keypoints_hm: np.ndarray) -> np.ndarray:
        """keypoints_hm (P, K, 3) heatmap px + flag -> (K, R, R) float32: per keypoint, the max over people of a
        Gaussian of peak 1 (sigma heatmap px) at each labelled keypoint inside the map."""
        people, joints, _ = keypoints_hm.shape
        res = self.heatmap_res
        grid = np.arange(res, dtype=np.float32)
        out = np.zeros((joints, res, res), dtype=np.float32)
        if people == 0:
            return out
        valid = self.valid(keypoints_hm)  # (P, K)
        gx = np.exp(-0.5 * ((grid - keypoints_hm[..., 0, None]) / self.sigma) ** 2)  # (P, K, R)
        gy = np.exp(-0.5 * ((grid - keypoints_hm[..., 1, None]) / self.sigma) ** 2)
        maps = gy[..., :, None] * gx[..., None, :] * valid[..., None, None]  # (P, K, R, R)
        return maps.max(0).astype(np.float32)

    def valid(self, keypoints_hm: np.ndarray) -> np.ndarray:
        """(P, K) bool: labelled and inside the heatmap."""
        res = self.heatmap_res
        xy = keypoints_hm[..., :2]
        return (keypoints_hm[..., 2] > 0) & (xy >= 0).all(-1) & (xy <= res - 1).all(-1)

    def tag_positions(self, keypoints_hm: np.ndarray) -> np.ndarray:
        """(max_people, K, 2) int64: flat heatmap index (y * R + x) of each labelled keypoint inside the map, and
        1 / 0 whether it counts; people beyond max_people are dropped."""
        res = self.heatmap_res
        out = np.zeros((self.max_people, keypoints_hm.shape[1], 2), dtype=np.int64)
        kept = keypoints_hm[: self.max_people]
        valid = self.valid(kept)
        xy = np.clip(np.round(kept[..., :2]), 0, res - 1).astype(np.int64)
        out[: len(kept), :, 0] = np.where(valid, xy[..., 1] * res + xy[..., 0], 0)
        out[: len(kept), :, 1] = valid
        return out


def letterbox_matrix(width: int, height: int, input_res: int, scale: float = 1.0, rotation_deg: float = 0.0,
                     shift_px: tuple[float, float] = (0.0, 0.0), flip: bool = False) -> np.ndarray:
    """(2, 3) image px -> input px: the image's longer side fills `input_res` (x scale), centred, rotated about the
    centre, shifted, mirrored left-right when `flip`."""
    factor = scale * input_res / max(width, height)
    angle = np.deg2rad(rotation_deg)
    rotation = factor * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    centre_in = np.array([(input_res - 1) / 2 + shift_px[0], (input_res - 1) / 2 + shift_px[1]])
    centre_image = np.array([(width - 1) / 2, (height - 1) / 2])
    matrix = np.concatenate([rotation, (centre_in - rotation @ centre_image)[:, None]], axis=1)
    if flip:
        matrix = np.array([[-1.0, 0, input_res - 1], [0, 1.0, 0]]) @ np.vstack([matrix, [0, 0, 1]])
    return matrix


def apply_affine(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(2, 3) affine on (..., 2) points."""
    return points @ matrix[:, :2].T + matrix[:, 2]


def invert_affine(matrix: np.ndarray) -> np.ndarray:
    full = np.linalg.inv(np.vstack([matrix, [0, 0, 1]]))
    return full[:2]
