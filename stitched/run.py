"""`python run.py stitched_mpii`: RGB images -> 2D joints (image px) and root-relative 3D joints (mm).

Input: a folder of images (`--image_dir`, one person per whole image, or per box of `--boxes`: JSON
{image name: [[x1, y1, x2, y2], ...]} or COCO detection results, `stacked_hourglass.boxes`), or a split of an
MPII-format dataset (`--data_dir`, `--split`; the embedded default when neither is given); `--video` is
`stitched.video_run`. The network runs through `stitched.inference.Estimator`. Output in `--output_dir`
(`stitched.prediction_files`):
- `stitched_predictions.npz`: `preds` (N, 16, 2) MPII order, image px (what `eval.py mpii_PCKh` reads), `poses_3d`
  (N, 17, 3) H36M-17 root-relative camera-frame mm, root = 0 (what `eval.py h36m_MPJPE` and `viz.py` read),
  `scores` (N, 16) per-joint heatmap peaks,
  `image_names` (N,), `center_px` (N, 2), `box_px` (N,), `missing` (N,) people whose image could not be read;
- `stitched_predictions.mat` (`preds`), and `stitched_predictions.json` (one object per person).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from stacked_hourglass.inference import plain_loader
from stacked_hourglass.inputs import add_people_options, box_settings, check_people_options, people_to_run
from stitched.inference import Estimator, stitched_estimator
from stitched.network_options import add_network_options, check_network_options, softargmax_beta
from stitched.prediction_files import write_stitched_predictions
from utils.precision import choose_precision
from utils.run_logging import get_logger, progress


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.set_defaults(batch_size=16, output_dir="outputs/stitched_mpii")
    add_network_options(parser)
    group = parser.add_argument_group("stitched_mpii")
    add_people_options(group)


def check_options(opts: argparse.Namespace) -> str | None:
    return check_people_options(opts) or check_network_options(opts)


def predict(estimator: Estimator, loader, count: int) -> dict:
    """Run over a loader of plain crops (hourglass JpegDataset batches); missing images are flagged, not fatal."""
    joints_2d, scores, poses_3d = np.zeros((count, 16, 2)), np.zeros((count, 16)), np.zeros((count, 17, 3))
    missing, skipped = np.zeros(count, bool), []
    for batch in progress(loader, desc="stitched RGB -> 3D"):
        for item in batch["skipped"]:
            missing[item.index] = True
            skipped.append(item.path)
        if "image" not in batch:
            continue
        found = estimator.predict_crops(batch["image"], batch["image_to_input"].numpy())
        index = batch["index"].numpy()
        joints_2d[index], scores[index], poses_3d[index] = found["joints_2d_px"], found["scores"], found["poses_3d_mm"]
    return {"preds": joints_2d, "scores": scores, "poses_3d": poses_3d, "missing": missing, "skipped": skipped}


def write_outputs(output_dir: Path, records, result: dict) -> Path:
    return write_stitched_predictions(output_dir, records, result)


def build_estimator(opts: argparse.Namespace) -> Estimator:
    """The stitched network of `--load S`, or of `--load_hourglass H --load_2d3d L` stitched, as an Estimator on
    `--device` with the precision `--amp` picks there (logged), folded (`--fuse_bn`) and compiled as asked."""
    device = torch.device(opts.device)
    precision = choose_precision(device, opts.amp, opts.amp_dtype)
    get_logger().info(precision.describe())
    return stitched_estimator(opts.load, opts.load_hourglass, opts.load_2d3d, softargmax_beta(opts), device, precision,
                              opts.fuse_bn, opts.compile, opts.batch_size)


def run(opts: argparse.Namespace) -> Path:
    logger = get_logger()
    estimator = build_estimator(opts)
    image_dir, records = people_to_run(opts.image_dir, opts.boxes, opts.data_dir, opts.split, **box_settings(opts))
    loader = plain_loader(records, image_dir, estimator.input_res, opts.batch_size, opts.workers)
    result = predict(estimator, loader, len(records))
    if result["skipped"]:
        logger.warning(f"{len(result['skipped'])} of {len(records)} people have no readable image (first: "
                       f"{result['skipped'][0]}); they are marked 'missing' in the outputs")
    path = write_outputs(Path(opts.output_dir), records, result)
    logger.info(f"wrote 2D and 3D poses of {len(records)} people to {path} (and .mat, .json)")
    return path
