"""Person boxes files: the two layouts read, checked entry by entry, and turned into the hourglass's square crops.

Layouts (detected from the content; the log says which):
- corners: {image name: [[x1, y1, x2, y2], ...]} (an image with no person has []);
- COCO detection results: [{"image_id" or "file_name", "category_id", "bbox": [x, y, w, h], "score"}, ...], as
  detectors write them. Only persons (category_id 1) at or above a score threshold are kept; an image_id is
  matched to an image of the folder whose file stem is that number (000000000139.jpg for id 139).
A bad entry (not a list of four finite numbers, a zero-size or inverted box, coordinates beyond 1e6 px) is an
`InputError` naming the file and the entry. Image names that leave the image folder ('..', absolute paths) are
refused unless allowed. The crop of a box follows the MPII person boxes: a square of 1.25 x the longer box side.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

import numpy as np

from utils.errors import InputError

BOX_ENLARGEMENT = 1.25
MAX_COORDINATE_PX = 1e6
COCO_PERSON = 1


@dataclass
class Boxes:
    """N boxes: image_names (N,) relative to the image folder, corners_px (N, 4) x1, y1, x2, y2, scores (N,)."""

    image_names: np.ndarray
    corners_px: np.ndarray
    scores: np.ndarray
    layout: str  # 'corners' or 'coco'
    listed_images: set[str]  # images the file names, with or without a kept box


def square_crops(corners_px: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Boxes (..., 4) x1, y1, x2, y2 px -> crop centres (..., 2) and square sides (...) = 1.25 x the longer side."""
    corners_px = np.asarray(corners_px, dtype=np.float64)
    assert corners_px.shape[-1] == 4, f"boxes must be (..., 4) x1, y1, x2, y2, got {corners_px.shape}"
    center = (corners_px[..., :2] + corners_px[..., 2:]) / 2
    return center, BOX_ENLARGEMENT * np.abs(corners_px[..., 2:] - corners_px[..., :2]).max(-1)


def whole_image_crops(sizes_px: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Image sizes (..., 2) width, height -> the crop of the whole image: centres (..., 2), sides (...)."""
    sizes_px = np.asarray(sizes_px, dtype=np.float64)
    return (sizes_px - 1) / 2, np.maximum(sizes_px.max(-1), 1)


def _entry_error(path: Path, where: str, what: str) -> InputError:
    return InputError(f"{path}: {where}: {what}")


def checked_corners(path: Path, where: str, box, coco: bool = False) -> list[float]:
    """One box of a boxes file as [x1, y1, x2, y2], or an InputError naming the file and the entry."""
    layout = "[x, y, w, h]" if coco else "[x1, y1, x2, y2]"
    if not isinstance(box, (list, tuple)) or len(box) != 4 or \
            not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in box):
        raise _entry_error(path, where, f"box {json.dumps(box)[:80]} is not {layout} (four numbers)")
    values = [float(v) for v in box]
    if not all(math.isfinite(v) for v in values) or max(abs(v) for v in values) > MAX_COORDINATE_PX:
        raise _entry_error(path, where, f"box {box} has a non-finite value or one beyond {MAX_COORDINATE_PX:.0e} px")
    x1, y1, a, b = values
    x2, y2 = (x1 + a, y1 + b) if coco else (a, b)
    if not (x2 > x1 and y2 > y1):
        raise _entry_error(path, where, f"box {box} has zero or negative size (expected {layout}"
                                        f"{' with w, h > 0' if coco else ' with x2 > x1, y2 > y1'})")
    return [x1, y1, x2, y2]


def checked_name(path: Path, where: str, name, allow_outside: bool) -> str:
    """An image name of a boxes file: a string that stays inside the image folder unless `allow_outside`."""
    if not isinstance(name, str) or not name:
        raise _entry_error(path, where, f"image name {json.dumps(name)[:80]} is not a file name")
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if not allow_outside and (PurePosixPath(name).is_absolute() or PureWindowsPath(name).is_absolute()
                              or ".." in parts):
        raise _entry_error(path, where, f"image name '{name}' leads out of the image folder (absolute or '..'); "
                                        f"pass --allow_outside_paths to read it anyway")
    return name


def _corners_layout(path: Path, content: dict, allow_outside: bool):
    for name, image_boxes in content.items():
        name = checked_name(path, f"entry '{name}'", name, allow_outside)
        if not isinstance(image_boxes, list) or (image_boxes and not isinstance(image_boxes[0], (list, tuple))):
            raise _entry_error(path, f"entry '{name}'", "expected a list of boxes [[x1, y1, x2, y2], ...]")
        for position, box in enumerate(image_boxes):
            yield name, checked_corners(path, f"entry '{name}', box {position}", box), 1.0


def _coco_layout(path: Path, content: list, image_names: list[str] | None, allow_outside: bool, min_score: float):
    by_id = {}
    for name in image_names or ():
        stem = Path(name).stem
        if stem.isdigit():
            by_id[int(stem)] = name
    for position, entry in enumerate(content):
        where = f"entry {position}"
        if not isinstance(entry, dict) or "bbox" not in entry or not ({"image_id", "file_name"} & set(entry)):
            raise _entry_error(path, where, f"{json.dumps(entry)[:80]} is not a COCO detection "
                                            f"{{image_id or file_name, category_id, bbox [x, y, w, h], score}}")
        if "file_name" in entry:
            name = checked_name(path, where, entry["file_name"], allow_outside)
        else:
            image_id = entry["image_id"]
            if isinstance(image_id, bool) or not isinstance(image_id, int):
                raise _entry_error(path, where, f"image_id {json.dumps(image_id)[:40]} is not an integer")
            if image_names is None:
                by_id[image_id] = str(image_id)
            if image_id not in by_id:
                raise _entry_error(path, where, f"image_id {image_id}: no image of the folder has that number as "
                                                f"its name (e.g. {image_id:012d}.jpg)")
            name = by_id[image_id]
        corners = checked_corners(path, where, entry["bbox"], coco=True)
        score = entry.get("score", 1.0)
        if isinstance(score, bool) or not isinstance(score, (int, float)) or not math.isfinite(score):
            raise _entry_error(path, where, f"score {json.dumps(score)[:40]} is not a number")
        category = entry.get("category_id", COCO_PERSON)
        yield name, corners, float(score) if category == COCO_PERSON and score >= min_score else None


def read_boxes(path: str | Path, image_names: list[str] | None, allow_outside: bool = False,
               min_score: float = 0.0) -> Boxes:
    """Read a boxes file in either layout (module docstring). image_names: the folder's images (for image_id);
    None: an image_id is a name by itself (a video's frame index)."""
    path = Path(path)
    try:
        content = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"{path}: cannot be read as a JSON boxes file ({error})") from error
    if isinstance(content, dict):
        layout, rows = "corners", list(_corners_layout(path, content, allow_outside))
        listed = set(content)
    elif isinstance(content, list) and (not content or isinstance(content[0], dict)):
        layout, rows = "coco", list(_coco_layout(path, content, image_names, allow_outside, min_score))
        listed = {name for name, _, _ in rows}
        rows = [row for row in rows if row[2] is not None]
    else:
        raise InputError(f"{path}: neither {{image name: [[x1, y1, x2, y2], ...]}} nor a COCO detection list "
                         f"[{{image_id, category_id, bbox, score}}, ...] (first item: {json.dumps(content)[:80]})")
    names = np.asarray([name for name, _, _ in rows], dtype=str)
    corners = np.asarray([box for _, box, _ in rows], dtype=np.float64).reshape(-1, 4)
    scores = np.asarray([score for _, _, score in rows], dtype=np.float64)
    return Boxes(names, corners, scores, layout, listed)
