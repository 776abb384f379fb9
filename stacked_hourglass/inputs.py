"""The people a hourglass command runs on: a split of an MPII-format dataset, or a folder of images (one person
per whole image, or per box of a boxes JSON), and the command-line options that choose between them."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from stacked_hourglass.annotations import PersonRecords, load_split, mpii_folder
from stacked_hourglass.boxes import read_boxes, square_crops, whole_image_crops
from stacked_hourglass.mpii_fields import NUM_JOINTS
from utils.errors import InputError
from utils.validation import check_image_file, check_image_pixels
from utils.run_logging import get_logger

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
BOX_LAYOUTS = {"corners": "boxes as {image: [[x1, y1, x2, y2], ...]}",
               "coco": "COCO detection results [{image_id/file_name, category_id, bbox [x, y, w, h], score}]"}


def folder_records(image_dir: Path, boxes_file: str | None, whole_image_without_box: bool = False,
                   min_score: float = 0.0, allow_outside_paths: bool = False) -> PersonRecords:
    """One person per given box (a boxes file, `stacked_hourglass.boxes`: corners or COCO detections; crop side
    1.25 x the longer box side, as the MPII person boxes), or per whole image (crop side = the longer image side).
    Images of the folder without a box get the whole image when `whole_image_without_box`, else a warning."""
    images = sorted(p.name for p in image_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    names, center, side = np.zeros(0, str), np.zeros((0, 2)), np.zeros(0)
    unboxed = images
    if boxes_file:
        boxes = read_boxes(boxes_file, images, allow_outside_paths, min_score)
        names, (center, side) = boxes.image_names, square_crops(boxes.corners_px)
        boxed = set(names.tolist())
        unboxed = [name for name in images if name not in boxed]
        get_logger().info(f"{boxes_file}: {BOX_LAYOUTS[boxes.layout]}, {len(names)} boxes on {len(boxed)} images"
                          + (f" (score >= {min_score})" if boxes.layout == "coco" else ""))
        if unboxed and not whole_image_without_box:
            get_logger().warning(f"{len(unboxed)} images of {image_dir} have no box in {boxes_file} (first: "
                                 f"{unboxed[0]}); they are not run (--whole_image_without_box runs them whole)")
            unboxed = []
    if unboxed:
        sizes = np.asarray([image_size(image_dir / name) for name in unboxed], dtype=np.float64).reshape(-1, 2)
        whole_center, whole_side = whole_image_crops(sizes)
        names = np.concatenate([names, np.asarray(unboxed)])
        center, side = np.concatenate([center, whole_center]), np.concatenate([side, whole_side])
    if not len(names):
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
                       help="with --image_dir: person boxes, JSON {image name: [[x1, y1, x2, y2], ...]} or COCO "
                            "detection results [{image_id or file_name, category_id, bbox [x, y, w, h], score}] "
                            "(default: one person per whole image)")
    group.add_argument("--box_score_threshold", type=float, default=0.0,
                       help="with COCO detection --boxes: keep person boxes with at least this score")
    group.add_argument("--whole_image_without_box", action="store_true",
                       help="with --boxes: run images that have no box as one whole-image person (default: warn)")
    add_outside_paths_option(group)


def add_outside_paths_option(group: argparse._ArgumentGroup) -> None:
    """--allow_outside_paths: read image paths (of annotations or a boxes file) that are absolute or climb out of
    their image folder with '..'."""
    group.add_argument("--allow_outside_paths", action="store_true",
                       help="read image paths of the annotations or of --boxes that leave the image folder "
                            "(absolute, or '..'); refused by default")


def check_people_options(opts: argparse.Namespace) -> str | None:
    """A usage message when the people options conflict (see `add_people_options`), else None."""
    if opts.boxes and not (opts.image_dir or getattr(opts, "video", None)):
        return "--boxes needs --image_dir (or --video)"
    for name in ("box_score_threshold", "whole_image_without_box"):
        if name in getattr(opts, "given_options", ()) and not opts.boxes:
            return f"--{name} needs --boxes"
    if opts.image_dir and opts.split:
        return "--split picks people of a dataset; --image_dir runs on a folder of images instead: give one of them"
    if opts.image_dir and opts.data_dir:
        return "--data_dir is not read with --image_dir (the people are those of the folder): give one of them"
    return None


def people_to_run(image_dir: str | None, boxes: str | None, data_dir: str | None, split: str | None,
                  allow_outside_paths: bool = False, **box_settings) -> tuple[Path, PersonRecords]:
    """The people to predict: per box (or whole image) of a folder of images, else a split (default: valid) of an
    MPII-format dataset (`data_dir`, or the embedded default). Returns the image folder and the person records.
    allow_outside_paths: image paths of the boxes file or the split may leave their folder; box_settings:
    `folder_records`'s (whole_image_without_box, min_score)."""
    if image_dir:
        folder = Path(image_dir)
        if not folder.is_dir():
            raise InputError(f"image folder {folder} is not a folder")
        return folder, folder_records(folder, boxes, allow_outside_paths=allow_outside_paths, **box_settings)
    folder = mpii_folder(data_dir)
    return folder / "images", load_split(folder, split or DEFAULT_SPLIT, allow_outside_paths)


def box_settings(opts: argparse.Namespace) -> dict:
    """`people_to_run`'s box settings from the options of `add_people_options`."""
    return {"whole_image_without_box": opts.whole_image_without_box, "min_score": opts.box_score_threshold,
            "allow_outside_paths": opts.allow_outside_paths}
