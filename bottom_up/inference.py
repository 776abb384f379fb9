"""Whole-image inference of the bottom-up network: heatmaps and tags (flip test, several scales), grouped into
people, mapped back to image px; COCO results and person boxes."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from bottom_up.codec import AssociativeEmbeddingCodec, apply_affine, invert_affine, letterbox_matrix
from bottom_up.coco_data import COCO_FLIP_PERMUTATION, NUM_KEYPOINTS
from bottom_up.grouping import GroupingSettings, group, group_by_truth
from stacked_hourglass.images import warp_image
from stacked_hourglass.model import normalise_input


@dataclass(frozen=True)
class InferenceSettings:
    flip: bool = True
    scales: tuple[float, ...] = (1.0,)
    grouping: GroupingSettings = GroupingSettings()


def _network_maps(model, images: torch.Tensor, mean_rgb, std_rgb) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 (B, 3, R, R) -> heatmaps (B, K, R/4, R/4), tags (B, K, R/4, R/4) of the last stack."""
    output = model(normalise_input(images, mean_rgb, std_rgb))["heatmaps"][-1].float()
    return output[:, :NUM_KEYPOINTS], output[:, NUM_KEYPOINTS:]


def scale_side(codec: AssociativeEmbeddingCodec, scale: float) -> int:
    """Input side px at a test scale: input_res x scale, rounded to the network's multiple of 64."""
    return max(64, int(round(codec.input_res * scale / 64)) * 64)


@torch.no_grad()
def image_maps(model, image_rgb: np.ndarray, codec: AssociativeEmbeddingCodec, mean_rgb, std_rgb,
               settings: InferenceSettings, device="cpu") -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """(H, W, 3) uint8 -> heatmaps (K, h, w) averaged over flips and scales, tags (K, h, w, T) (one per flip and
    scale), and the (2, 3) image px -> input px matrix of the largest scale, at whose resolution the maps of every
    scale are given (h = w = its side / stride), so a larger test scale also locates the peaks more finely."""
    height, width = image_rgb.shape[:2]
    largest = max(scale_side(codec, scale) for scale in settings.scales)
    base = largest // codec.stride
    heatmap_sum, tag_list = 0.0, []
    for scale in settings.scales:
        side = scale_side(codec, scale)
        matrix = letterbox_matrix(width, height, side)
        warped = torch.from_numpy(np.ascontiguousarray(warp_image(image_rgb, matrix, side).transpose(2, 0, 1)))[None]
        batch = torch.cat([warped, warped.flip(3)]) if settings.flip else warped
        heatmaps, tags = _network_maps(model, batch.to(device), mean_rgb, std_rgb)
        if settings.flip:
            heatmaps = torch.stack([heatmaps[0], heatmaps[1].flip(2)[COCO_FLIP_PERMUTATION]])
            tags = torch.stack([tags[0], tags[1].flip(2)[COCO_FLIP_PERMUTATION]])
        if side != largest:
            heatmaps = F.interpolate(heatmaps, (base, base), mode="bilinear", align_corners=False)
            tags = F.interpolate(tags, (base, base), mode="bilinear", align_corners=False)
        heatmap_sum = heatmap_sum + heatmaps.mean(0)
        tag_list += list(tags)
    heatmaps = (heatmap_sum / len(settings.scales)).cpu()
    return heatmaps, torch.stack(tag_list, -1).cpu(), letterbox_matrix(width, height, largest)


def to_image_px(keypoints_hm: np.ndarray, matrix: np.ndarray, codec: AssociativeEmbeddingCodec) -> np.ndarray:
    """(N, K, 3) heatmap px + value -> (N, K, 3) image px + value."""
    out = keypoints_hm.copy()
    out[..., :2] = apply_affine(invert_affine(matrix), codec.to_input(keypoints_hm[..., :2]))
    return out


def detect_people(model, image_rgb: np.ndarray, codec: AssociativeEmbeddingCodec, mean_rgb, std_rgb,
                  settings: InferenceSettings, device="cpu", truth_px: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Everyone in one image: keypoints (N, 17, 3) image px + heatmap value, scores (N,).

    truth_px (P, 17, 3): group with the ground truth instead of the tags (the grouping oracle)."""
    heatmaps, tags, matrix = image_maps(model, image_rgb, codec, mean_rgb, std_rgb, settings, device)
    if truth_px is None:
        keypoints_hm, scores = group(heatmaps, tags, settings.grouping)
    else:
        truth_hm = truth_px.copy()
        truth_hm[..., :2] = codec.to_heatmap(apply_affine(matrix, truth_px[..., :2]))
        keypoints_hm, scores = group_by_truth(heatmaps, truth_hm, settings.grouping)
    return to_image_px(keypoints_hm, matrix, codec), scores


def coco_results(image_id: int, keypoints_px: np.ndarray, scores: np.ndarray) -> list[dict]:
    """COCO keypoint results: {image_id, category_id 1, keypoints [51] (x, y, heatmap value), score}."""
    return [{"image_id": int(image_id), "category_id": 1,
             "keypoints": [round(float(v), 3) for v in person.reshape(-1)], "score": round(float(score), 5)}
            for person, score in zip(keypoints_px, scores)]


def person_box(keypoints_px: np.ndarray, width: int, height: int, margin: float = 0.15) -> list[float]:
    """[x, y, w, h] px around a person's found keypoints (value > 0), grown by `margin` of its size per side."""
    found = keypoints_px[keypoints_px[:, 2] > 0, :2]
    low, high = found.min(0), found.max(0)
    grow = margin * (high - low).max() + 4
    low, high = np.clip(low - grow, 0, [width, height]), np.clip(high + grow, 0, [width, height])
    return [round(float(v), 2) for v in (*low, *(high - low))]
