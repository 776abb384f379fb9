"""Image-level samples for the bottom-up network: the whole (letterboxed, augmented) image, per-keypoint heatmaps
of all its people, the loss mask (0 on crowds and unlabelled people) and the tag positions."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from bottom_up.codec import AssociativeEmbeddingCodec, apply_affine, letterbox_matrix
from bottom_up.coco_data import COCO_FLIP_PERMUTATION, CocoImage, ignore_mask
from stacked_hourglass.images import read_image, warp_image


@dataclass(frozen=True)
class CocoAugment:
    scale_range: tuple[float, float] = (0.75, 1.25)
    rotation_deg: float = 30.0
    shift_fraction: float = 0.1  # of input_res, uniform +-
    flip_prob: float = 0.5


class CocoKeypointDataset(Dataset):
    """Items: image (3, R, R) uint8, heatmaps (K, H, W) float32, mask (H, W) float32, tags_at (N, K, 2) int64."""

    def __init__(self, images: list[CocoImage], codec: AssociativeEmbeddingCodec, augment: CocoAugment | None = None,
                 seed: int = 0):
        self.images, self.codec, self.augment, self.seed = images, codec, augment, seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.images)

    def _matrix(self, item: CocoImage, index: int) -> tuple[np.ndarray, bool]:
        if self.augment is None:
            return letterbox_matrix(item.width, item.height, self.codec.input_res), False
        rng = np.random.default_rng([self.seed, self.epoch, index])
        a = self.augment
        flip = bool(rng.random() < a.flip_prob)
        shift = rng.uniform(-a.shift_fraction, a.shift_fraction, 2) * self.codec.input_res
        matrix = letterbox_matrix(item.width, item.height, self.codec.input_res, rng.uniform(*a.scale_range),
                                  rng.uniform(-a.rotation_deg, a.rotation_deg), tuple(shift), flip)
        return matrix, flip

    def __getitem__(self, index: int) -> dict:
        item = self.images[index]
        image = read_image(item.path)
        if image is None:
            raise FileNotFoundError(f"image missing or unreadable: {item.path}")
        matrix, flip = self._matrix(item, index)
        warped = warp_image(image, matrix, self.codec.input_res)
        keypoints = item.keypoints.copy()
        keypoints[..., :2] = self.codec.to_heatmap(apply_affine(matrix, keypoints[..., :2]))
        if flip:
            keypoints = keypoints[:, COCO_FLIP_PERMUTATION]
        to_heatmap = self.codec.heatmap_matrix(matrix)
        ignored = ignore_mask(item).astype(np.uint8)
        hm = self.codec.heatmap_res
        ignored_hm = cv2.warpAffine(ignored, to_heatmap, (hm, hm), flags=cv2.INTER_NEAREST)
        mask = 1.0 - ignored_hm.astype(np.float32)
        return {"image": torch.from_numpy(np.ascontiguousarray(warped.transpose(2, 0, 1))),
                "heatmaps": torch.from_numpy(self.codec.heatmaps(keypoints)),
                "mask": torch.from_numpy(mask),
                "tags_at": torch.from_numpy(self.codec.tag_positions(keypoints))}
