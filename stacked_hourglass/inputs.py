"""The people a hourglass command runs on: a split of an MPII-format dataset, or a folder of images (one person
per whole image, or per box of a boxes JSON), and the command-line options that choose between them."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from stacked_hourglass.annotations import PersonRecords, load_split, mpii_folder
from stacked_hourglass.mpii_fields import NUM_JOINTS
from utils.errors import InputError
from utils.validation import check_image_file, check_image_pixels

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


def folder_records(image_dir: Path, boxes_file: str | None) -> PersonRecords:
    """One person per given box (boxes JSON: {image name: [[x1, y1, x2, y2], ...]}; crop side 1.25 x the longer
    box side, as the MPII person boxes), or per whole image (crop side = the longer image side)."""
    if boxes_file:
        try:
            boxes = json.loads(Path(boxes_file).read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise InputError(f"{boxes_file}: cannot be read as JSON {{image: [[x1, y1, x2, y2], ...]}} ({error})")
        names, corners = [], []
        for name, image_boxes in boxes.items():
            for box in image_boxes:
                if len(box) != 4:
                    raise InputError(f"{boxes_file}: box {box} of '{name}' is not [x1, y1, x2, y2]")
                names.append(name)
                corners.append(box)
        corners = np.asarray(corners, dtype=np.float64).reshape(-1, 4)
        center = (corners[:, :2] + corners[:, 2:]) / 2
        side = 1.25 * np.abs(corners[:, 2:] - corners[:, :2]).max(-1)
    else:
        names = sorted(p.name for p in image_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        sizes = [image_size(image_dir / name) for name in names]
        sizes = np.asarray(sizes, dtype=np.float64).reshape(-1, 2)
        center, side = (sizes - 1) / 2, np.maximum(sizes.max(-1), 1)
    if not names:
        raise InputError(f"{image_dir}: no images ({', '.join(IMAGE_SUFFIXES)}) or boxes to run on")
    count = len(names)
    zeros = np.zeros((count, NUM_JOINTS))
    return PersonRecords(np.asarray(names), np.zeros((count, NUM_JOINTS, 2)), zeros, zeros, center, side,
                         np.full(count, np.nan))


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) from the file header; (0, 0) when unreadable (the person is then reported missing). A FIFO
    or folder named like an image, or an image above `MAX_IMAGE_PIXELS`, is an InputError."""
    from PIL import Image, UnidentifiedImageError

    check_image_file(path)
    try:
        with Image.open(path) as image:
            size = image.size
    except Image.DecompressionBombError as error:
        raise InputError(f"{path}: {str(error).rstrip('.')}; downscale it first") from error
    except (OSError, UnidentifiedImageError):
        return 0, 0
    check_image_pixels(*size, path)
    return size


SPLITS = ("valid", "train", "all")
DEFAULT_SPLIT = "valid"


def add_people_options(group: argparse._ArgumentGroup) -> None:
    """The options `people_to_run` reads: `--split` of a dataset, or `--image_dir` (alias `--img_dir`) with
    optional `--boxes`; `check_people_options` refuses the combinations where one would be ignored."""
    group.add_argument("--split", choices=SPLITS, default=None,
                       help=f"people of this split of --data_dir (default: {DEFAULT_SPLIT}, in annot/valid.h5 order "
                            "when present)")
    group.add_argument("--image_dir", "--img_dir", dest="image_dir", default=None,
                       help="run on a folder of images instead of a dataset split")
    group.add_argument("--boxes", default=None,
                       help="with --image_dir: JSON {image name: [[x1, y1, x2, y2], ...]} person boxes (default: one "
                            "person per whole image)")
    add_outside_paths_option(group)


def add_outside_paths_option(group: argparse._ArgumentGroup) -> None:
    """--allow_outside_paths: read annotation image paths that are absolute or climb out of images/ with '..'."""
    group.add_argument("--allow_outside_paths", action="store_true",
                       help="read image paths of the annotations that leave the image folder (absolute, or '..'); "
                            "refused by default")


def check_people_options(opts: argparse.Namespace) -> str | None:
    """A usage message when the people options conflict (see `add_people_options`), else None."""
    if opts.boxes and not opts.image_dir:
        return "--boxes needs --image_dir"
    if opts.image_dir and opts.split:
        return "--split picks people of a dataset; --image_dir runs on a folder of images instead: give one of them"
    if opts.image_dir and opts.data_dir:
        return "--data_dir is not read with --image_dir (the people are those of the folder): give one of them"
    return None


def people_to_run(image_dir: str | None, boxes: str | None, data_dir: str | None,
                  split: str | None, allow_outside_paths: bool = False) -> tuple[Path, PersonRecords]:
    """The people to predict: per box (or whole image) of a folder of images, else a split (default: valid) of an
    MPII-format dataset (`data_dir`, or the embedded default). Returns the image folder and the person records.
    allow_outside_paths: the split's image paths may leave images/ (`load_split`)."""
    if image_dir:
        folder = Path(image_dir)
        if not folder.is_dir():
            raise InputError(f"image folder {folder} is not a folder")
        return folder, folder_records(folder, boxes)
    folder = mpii_folder(data_dir)
    return folder / "images", load_split(folder, split or DEFAULT_SPLIT, allow_outside_paths)
