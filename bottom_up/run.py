"""`run.py hourglass_coco`: everyone's 2D keypoints in whole images with the bottom-up (associative embedding)
hourglass, from a split of a COCO-format dataset (default: the synthetic COCO val split) or a folder of images.

Writes OUTPUT_DIR/
  results_<name>.json        COCO keypoint results [{image_id, category_id 1, keypoints [51], score}] for
                             `eval.py coco_AP` (image ids of the annotation file; for a folder, 1, 2, ... in
                             file-name order)
  person_boxes_<name>.json   the people's boxes in the COCO detection layout [{image_id, file_name, category_id,
                             bbox [x, y, w, h], score}]
  boxes_<name>.json          the same boxes as {file name: [[x1, y1, x2, y2], ...]}, what `run.py stitched_mpii
                             --image_dir DIR --boxes` reads, so every person of an image gets a 3D pose
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from bottom_up.checkpoint import load_bottom_up
from bottom_up.coco_data import load_coco_split
from bottom_up.grouping import GroupingSettings
from bottom_up.inference import InferenceSettings, coco_results, detect_people, person_box
from stacked_hourglass.heatmaps import DECODERS
from stacked_hourglass.images import read_image
from stacked_hourglass.inputs import IMAGE_SUFFIXES
from synthetic import coco_root
from utils.atomic import write_text_atomic
from utils.errors import InputError
from utils.run_logging import get_logger, progress


def add_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("hourglass_coco")
    group.add_argument("--split", choices=("val", "train"), default="val", help="split of the COCO-format --data_dir")
    group.add_argument("--image_dir", "--img_dir", dest="image_dir", default=None,
                       help="run on a folder of images instead of a dataset split")
    group.add_argument("--limit", type=int, default=None, help="the first N images only")
    group.add_argument("--no_flip_test", action="store_true", help="no averaging with the mirrored image")
    group.add_argument("--scales", type=float, nargs="+", default=[1.0],
                       help="input scales (multi-scale test: e.g. 0.75 1 1.25); heatmaps averaged, tags joined")
    group.add_argument("--detection_threshold", type=float, default=0.1, help="peak value to start or join a person")
    group.add_argument("--tag_threshold", type=float, default=1.0, help="largest tag distance to join a person")
    group.add_argument("--no_refine", action="store_true", help="leave a person's missing keypoints missing")
    group.add_argument("--decoder", choices=DECODERS, default="quarter",
                       help="sub-pixel refinement of the peaks: quarter-pixel step (the authors' decoder) or dark "
                            "(Taylor step on the blurred log-heatmap, Zhang et al. 2020)")
    group.add_argument("--ground_truth_grouping", action="store_true",
                       help="group the detected peaks with the labelled people instead of the tags (an oracle: "
                            "the AP it reaches is the detector's; the gap to it is the grouping's share of errors)")
    group.add_argument("--min_score", type=float, default=0.0, help="leave out people scored below this")
    parser.set_defaults(output_dir="outputs/hourglass_coco")


def check_options(opts: argparse.Namespace) -> str | None:
    if not opts.load:
        return "--load CHECKPOINT is required (a last.pt/best.pt written by train.py hourglass_coco)"
    if opts.ground_truth_grouping and opts.image_dir:
        return "--ground_truth_grouping needs a dataset split (labels), not --image_dir"
    if any(scale <= 0 for scale in opts.scales):
        return "--scales must be positive"
    return None


def images_to_run(opts) -> tuple[list[tuple[int, Path, np.ndarray | None]], str]:
    """[(image id, path, labelled keypoints (P, 17, 3) or None)] and the output name."""
    if opts.image_dir:
        folder = Path(opts.image_dir)
        if not folder.is_dir():
            raise InputError(f"--image_dir {folder}: not a folder")
        paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)[: opts.limit]
        if not paths:
            raise InputError(f"{folder}: no images ({', '.join(IMAGE_SUFFIXES)})")
        return [(number, path, None) for number, path in enumerate(paths, start=1)], "images"
    images = load_coco_split(coco_root(opts.data_dir), opts.split, opts.limit)
    return [(item.image_id, item.path, item.keypoints) for item in images], opts.split


def run(opts: argparse.Namespace) -> Path:
    logger = get_logger()
    device = torch.device(opts.device)
    model, _, extras = load_bottom_up(opts.load, device)
    codec = extras["codec"]
    grouping = GroupingSettings(codec.max_people, opts.detection_threshold, opts.tag_threshold,
                                refine=not opts.no_refine, decoder=opts.decoder, sigma=codec.sigma)
    settings = InferenceSettings(not opts.no_flip_test, tuple(opts.scales), grouping)
    images, name = images_to_run(opts)
    results, detections, boxes, unreadable = [], [], {}, []
    for image_id, path, truth in progress(images, desc="hourglass_coco", unit="img"):
        image = read_image(path)
        if image is None:
            unreadable.append(str(path))
            continue
        truth_px = truth if opts.ground_truth_grouping else None
        keypoints, scores = detect_people(model, image, codec, extras["mean_rgb"], extras["std_rgb"], settings,
                                          device, truth_px)
        kept = scores >= opts.min_score
        keypoints, scores = keypoints[kept], scores[kept]
        results += coco_results(image_id, keypoints, scores)
        height, width = image.shape[:2]
        for person, score in zip(keypoints, scores):
            box = person_box(person, width, height)
            detections.append({"image_id": int(image_id), "file_name": path.name, "category_id": 1, "bbox": box,
                               "score": round(float(score), 5)})
            boxes.setdefault(path.name, []).append([box[0], box[1], box[0] + box[2], box[1] + box[3]])
    if unreadable:
        logger.warning(f"{len(unreadable)} of {len(images)} images could not be read (first: {unreadable[0]})")
    out = Path(opts.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = write_text_atomic(json.dumps(results), out / f"results_{name}.json")
    write_text_atomic(json.dumps(detections), out / f"person_boxes_{name}.json")
    write_text_atomic(json.dumps(boxes, indent=0), out / f"boxes_{name}.json")
    logger.info(f"wrote {len(results)} people of {len(images)} images to {path} (and person_boxes_{name}.json, "
                f"boxes_{name}.json)")
    return path
