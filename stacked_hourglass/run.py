"""`run.py hourglass_mpii`: 2D joints for a split of an MPII-format dataset or for a folder of images.

Writes OUTPUT_DIR/preds_<name>.mat (key `preds`, (N, 16, 2) image px, in ground-truth order for a split, ready for
`eval.py mpii_PCKh`) and preds_<name>.npz (preds, scores (N, 16) heatmap peaks, image_names, center_px, box_px,
missing (N,) people whose image could not be read: their joints are the box centre and their scores 0).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch

from stacked_hourglass.heatmaps import DECODERS
from stacked_hourglass.inference import HourglassPredictor, plain_loader, predict, write_predictions
from stacked_hourglass.inputs import (DEFAULT_SPLIT, add_people_options, box_settings, check_people_options,
                                      people_to_run)
from utils.compiling import compile_model
from utils.fusion import fuse_batch_norms
from utils.precision import choose_precision
from utils.run_logging import get_logger


def add_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("hourglass_mpii")
    add_people_options(group)
    group.add_argument("--flip_test", action="store_true", help="average with the prediction on the mirrored input")
    group.add_argument("--decoder", choices=DECODERS, default="quarter",
                       help="heatmap peak refinement: quarter-pixel step (the hourglass papers) or dark (Taylor "
                            "expansion of the log-heatmap blurred with the training targets' sigma)")
    parser.set_defaults(batch_size=16, output_dir="outputs/hourglass_mpii")


def check_options(opts: argparse.Namespace) -> str | None:
    if not opts.load:
        return "--load CHECKPOINT is required (a last.pt/best.pt written by train.py hourglass_mpii)"
    return check_people_options(opts)


def run(opts: argparse.Namespace) -> Path:
    logger = get_logger()
    device = torch.device(opts.device)
    precision = choose_precision(device, opts.amp, opts.amp_dtype)
    logger.info(precision.describe())
    predictor = HourglassPredictor.from_checkpoint(opts.load, device, precision, use_flip_test=opts.flip_test,
                                                   decoder=opts.decoder)
    if opts.fuse_bn:
        predictor.model = fuse_batch_norms(predictor.model)
    if opts.compile:
        predictor.model = compile_model(predictor.model, device)
    image_dir, records = people_to_run(opts.image_dir, opts.boxes, opts.data_dir, opts.split, **box_settings(opts))
    name = "images" if opts.image_dir else opts.split or DEFAULT_SPLIT
    loader = plain_loader(records, image_dir, predictor.input_res, opts.batch_size, opts.workers)
    predictions = predict(predictor, loader, len(records), center_px=records.center_px)
    if predictions.skipped_paths:
        logger.warning(f"{len(predictions.skipped_paths)} of {len(records)} people have no readable image (first: "
                       f"{predictions.skipped_paths[0]}); their joints are the box centre, 'missing' in the .npz")
    path = write_predictions(Path(opts.output_dir), name, records, predictions)
    logger.info(f"wrote {len(records)} predictions to {path} (and {path.with_suffix('.npz').name})")
    return path
