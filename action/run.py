"""`python run.py action_h36m --load CKPT [--input gt_3d|gt_2d|FILE] --output_dir O`: score every clip's action.

Clips are cut as in training (the checkpoint's clip length and frame step unless given) every `--stride` frames of
the `--subjects`' sequences (default: the test subjects). Writes `O/predictions_action.npz` and `.json` (layout:
action/predictions.py) for `eval.py action_accuracy`. A predictions file as `--input` (e.g. `run.py 2d3d_h36m`'s
predictions_3d.npz, or `train.py multitask_h36m`'s predictions_3d.npz of the stitched network over rendered clips,
which holds every 8th frame: clips are then cut in source frames, see `action.clips.cut_spaced_clips`) measures the
recogniser on predicted poses instead of the ground truth.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from action.checkpoint import load_action_model, predict_scores
from action.clips import cut_spaced_clips
from action.predictions import ClipPredictions, write_predictions
from action.sources import add_clip_options, check_clip_options, feature_kind, load_sequences
from twod_threed.h36m_files import TEST_SUBJECTS
from utils.errors import InputError
from utils.run_logging import get_logger

OUTPUT_STEM = "predictions_action"


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.set_defaults(batch_size=256)
    group = parser.add_argument_group("action_h36m")
    add_clip_options(group)
    group.add_argument("--stride", type=int, default=50, help="frames between clip starts")
    group.add_argument("--subjects", type=int, nargs="+", default=list(TEST_SUBJECTS), help="subjects to score")


def check_options(opts: argparse.Namespace) -> str | None:
    if not opts.load:
        return "--load CHECKPOINT is required (written by train.py action_h36m)"
    if not opts.output_dir:
        return "--output_dir is required"
    if opts.stride < 1:
        return f"--stride must be >= 1, got {opts.stride}"
    return check_clip_options(opts)


def run(opts: argparse.Namespace) -> int:
    model, _, extras = load_action_model(opts.load, opts.device)
    if extras["feature_kind"] != feature_kind(opts.input):
        raise InputError(f"--input {opts.input} gives {feature_kind(opts.input)} poses, but {opts.load} (field "
                         f"feature_kind) holds a model of {extras['feature_kind']} poses")
    clip_frames = extras["clips"].get("clip_frames", 100) if opts.clip_frames is None else opts.clip_frames
    frame_step = extras["clips"].get("frame_step", 1) if opts.frame_step is None else opts.frame_step
    sequences = load_sequences(opts.data_dir, tuple(opts.subjects), opts.input)
    clips = cut_spaced_clips(sequences, clip_frames, opts.stride, frame_step)
    scores = predict_scores(model, clips, opts.batch_size).numpy()
    predictions = ClipPredictions(clips.names(), scores, clips.labels.numpy(), list(extras["class_names"]),
                                  source=str(opts.input))
    output = Path(opts.output_dir)
    for suffix in (".npz", ".json"):
        write_predictions(predictions, output / f"{OUTPUT_STEM}{suffix}")
    top1 = float((scores.argmax(1) == predictions.labels).mean())
    get_logger().info(f"run.py action_h36m: {len(clips)} clips of {len(sequences)} sequences ({opts.input}) -> "
                      f"{output / OUTPUT_STEM}.npz / .json (top-1 {100 * top1:.1f} %)")
    return 0
