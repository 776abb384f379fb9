"""COCO person-keypoint files (real COCO 2017 or the synthetic split): what training and evaluation read.

    ROOT/annotations/person_keypoints_{split}2017.json   ROOT/{split}2017/<file_name>

One `CocoImage` per image: its people's 17 keypoints [x, y, v] (image px; v 0 unlabelled, 1 occluded, 2 visible),
boxes and areas, and the annotations to ignore in the loss (crowds and people without keypoints), whose
segmentations become a mask.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from utils.errors import InputError

NUM_KEYPOINTS = 17
# COCO order: nose, left/right eye, left/right ear, shoulders, elbows, wrists, hips, knees, ankles (left first).
COCO_FLIP_PERMUTATION = np.array([0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15])
OKS_SIGMAS = np.array([0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072, 0.062, 0.062, 0.107, 0.107,
                       0.087, 0.087, 0.089, 0.089])
COCO_SKELETON = ((15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6), (5, 7), (6, 8), (7, 9),
                 (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6))  # 0-based


@dataclass
class CocoImage:
    image_id: int
    path: Path
    width: int
    height: int
    keypoints: np.ndarray  # (P, 17, 3) float: x, y px, v
    boxes: np.ndarray  # (P, 4) [x, y, w, h] px
    areas: np.ndarray  # (P,) px^2
    ignored: list = field(default_factory=list)  # annotations (dicts) whose regions the loss leaves out


def annotation_path(root: str | Path, split: str) -> Path:
    return Path(root) / "annotations" / f"person_keypoints_{split}2017.json"


def read_json(path: Path) -> dict:
    if not path.is_file():
        raise InputError(f"COCO annotation file not found: {path} (expected ROOT/annotations/"
                         "person_keypoints_{train,val}2017.json)")
    try:
        document = json.loads(path.read_text())
    except ValueError as error:
        raise InputError(f"{path}: not a JSON file ({error})") from error
    for key in ("images", "annotations"):
        if not isinstance(document, dict) or not isinstance(document.get(key), list):
            raise InputError(f"{path}: missing the list '{key}' of a COCO keypoint file")
    return document


def _keypoints(item: dict, path: Path) -> np.ndarray:
    values = item.get("keypoints")
    if not isinstance(values, list) or len(values) != 3 * NUM_KEYPOINTS:
        raise InputError(f"{path}: annotation {item.get('id')} field 'keypoints' must hold 51 numbers "
                         f"(17 x [x, y, v]), got {None if values is None else len(values)}")
    keypoints = np.asarray(values, dtype=np.float64).reshape(NUM_KEYPOINTS, 3)
    if not np.isfinite(keypoints).all():
        raise InputError(f"{path}: annotation {item.get('id')} field 'keypoints' holds NaN or infinite values")
    return keypoints


def load_coco_split(root: str | Path, split: str, limit: int | None = None) -> list[CocoImage]:
    """The images of one split (in file order, the first `limit`), with their people."""
    path = annotation_path(root, split)
    document = read_json(path)
    people: dict[int, list[dict]] = {}
    for item in document["annotations"]:
        if "image_id" not in item:
            raise InputError(f"{path}: an annotation without 'image_id' (id {item.get('id')})")
        if item.get("category_id", 1) == 1:
            people.setdefault(item["image_id"], []).append(item)
    images = []
    for record in document["images"][:limit]:
        try:
            image_id, name = record["id"], record["file_name"]
            width, height = int(record["width"]), int(record["height"])
        except (KeyError, TypeError, ValueError) as error:
            raise InputError(f"{path}: image record {record} lacks id, file_name, width or height") from error
        labelled = [a for a in people.get(image_id, []) if not a.get("iscrowd") and a.get("num_keypoints", 1) > 0]
        ignored = [a for a in people.get(image_id, []) if a.get("iscrowd") or a.get("num_keypoints", 1) == 0]
        keypoints = np.stack([_keypoints(a, path) for a in labelled]) if labelled else np.zeros((0, NUM_KEYPOINTS, 3))
        boxes = np.array([a.get("bbox", [0, 0, 0, 0]) for a in labelled], dtype=np.float64).reshape(-1, 4)
        areas = np.array([a.get("area", 0.0) for a in labelled], dtype=np.float64)
        images.append(CocoImage(image_id, Path(root) / f"{split}2017" / name, width, height, keypoints, boxes, areas,
                                ignored))
    return images


def ignore_mask(image: CocoImage) -> np.ndarray:
    """(H, W) bool: the pixels of crowds and unlabelled people (their segmentation; their box without one)."""
    mask = np.zeros((image.height, image.width), dtype=bool)
    for item in image.ignored:
        segmentation = item.get("segmentation")
        if segmentation:
            from pycocotools import mask as mask_utils

            if isinstance(segmentation, list):
                rle = mask_utils.merge(mask_utils.frPyObjects(segmentation, image.height, image.width))
            elif isinstance(segmentation.get("counts"), list):
                rle = mask_utils.frPyObjects(segmentation, image.height, image.width)
            else:
                rle = segmentation
            mask |= mask_utils.decode(rle).astype(bool)
        elif item.get("bbox"):
            x, y, w, h = (int(round(v)) for v in item["bbox"])
            mask[max(y, 0):y + h, max(x, 0):x + w] = True
    return mask
