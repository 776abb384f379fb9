"""`run.py stitched_mpii --video FILE` and `run.py hourglass_mpii --video FILE`: poses of every frame of a video.

Frames are read with OpenCV; person boxes come from `--boxes` (frames by index, `stitched.video`), or one person is
followed from frame to frame (`--first_box`, `--track_margin`, `--reinit_score`); `--smoothing` filters the 2D and
3D trajectories. Results go to the files of the image commands, one row per person and frame, with `frame_index`
(N,) (and image_names '<video stem>/<frame:06d>'): stitched_predictions.npz/.json/.mat or preds_video.npz/.mat.
`--overlay` also draws OUTPUT_DIR/<video stem>_poses.mp4 (as `viz.py video_overlay_3d`).
"""
from __future__ import annotations

import argparse
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

from stacked_hourglass.inference import Predictions, write_predictions
from stitched.inference import Estimator, stitched_estimator
from stitched.network_options import softargmax_beta
from stitched.prediction_files import write_stitched_predictions
from stitched.video import TrackSettings, VideoPoses, boxed_video, frame_boxes, smoothed, track_video
from stitched.video_overlay import write_overlay_video
from utils.precision import choose_precision
from utils.run_logging import get_logger
from utils.smoothing import SMOOTHERS, SmoothingSettings
from utils.video import VideoReader


def add_video_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("video")
    group.add_argument("--video", default=None, help="run on every frame of this video file (OpenCV reads it)")
    group.add_argument("--first_box", type=float, nargs=4, default=None, metavar=("X1", "Y1", "X2", "Y2"),
                       help="with --video and no --boxes: the person's box in the first frame (default: whole)")
    group.add_argument("--track_margin", type=float, default=TrackSettings.margin,
                       help="with --video: next box = previous joints' box enlarged by this fraction on each side")
    group.add_argument("--reinit_score", type=float, default=TrackSettings.reinit_score,
                       help="with --video: start again from the first box after a frame whose mean joint score "
                            "(heatmap peak) is below this")
    group.add_argument("--smoothing", choices=SMOOTHERS, default="none",
                       help="with --video: filter the 2D and 3D trajectories (savgol: Savitzky-Golay, centred; "
                            "one_euro: causal One-Euro filter); needs one person per frame")
    group.add_argument("--smoothing_window", type=int, default=SmoothingSettings.window,
                       help="savgol window, frames (odd)")
    group.add_argument("--one_euro_min_cutoff", type=float, default=SmoothingSettings.min_cutoff_hz,
                       help="one_euro cut-off at rest, Hz")
    group.add_argument("--one_euro_beta", type=float, default=SmoothingSettings.beta,
                       help="one_euro cut-off increase per unit of speed (px/s, mm/s)")
    group.add_argument("--overlay", action="store_true",
                       help="with --video: also write OUTPUT_DIR/<video>_poses.mp4 with the poses drawn")


VIDEO_ONLY = ("first_box", "track_margin", "reinit_score", "smoothing", "smoothing_window", "one_euro_min_cutoff",
              "one_euro_beta", "overlay")


def check_video_options(opts: argparse.Namespace) -> str | None:
    given = getattr(opts, "given_options", frozenset())
    if not opts.video:
        extra = [name for name in VIDEO_ONLY if name in given]
        return f"--{extra[0]} needs --video" if extra else None
    for other in ("image_dir", "split", "data_dir"):
        if getattr(opts, other, None):
            return f"--{other} is not read with --video (the frames are the input): give one of them"
    if opts.first_box and opts.boxes:
        return "--first_box starts following one person; --boxes gives every frame's boxes: give one of them"
    if opts.smoothing_window < 3 or opts.smoothing_window % 2 == 0:
        return f"--smoothing_window must be odd and >= 3, got {opts.smoothing_window}"
    return None


def or_video(kind: str, run_images, add_images_options, check_images_options) -> dict:
    """The run/add_options/check of a Script that runs on images, or on a video with --video."""

    def add_options(parser: argparse.ArgumentParser) -> None:
        add_images_options(parser)
        add_video_options(parser)

    def check(opts: argparse.Namespace) -> str | None:
        return check_video_options(opts) or check_images_options(opts)

    def run(opts: argparse.Namespace):
        return run_video(kind, opts) if opts.video else run_images(opts)

    return {"run": run, "add_options": add_options, "check": check}


def video_estimator(kind: str, opts: argparse.Namespace) -> Estimator:
    device = torch.device(opts.device)
    if kind == "hourglass":
        return Estimator.from_checkpoint(opts.load, device=device, amp=opts.amp, amp_dtype=opts.amp_dtype,
                                         fuse_bn=opts.fuse_bn, compile=opts.compile, batch_size=opts.batch_size,
                                         use_flip_test=opts.flip_test, decoder=opts.decoder)
    precision = choose_precision(device, opts.amp, opts.amp_dtype)
    return stitched_estimator(opts.load, opts.load_hourglass, opts.load_2d3d, softargmax_beta(opts), device,
                              precision, opts.fuse_bn, opts.compile, opts.batch_size)


def find_poses(estimator: Estimator, reader: VideoReader, opts: argparse.Namespace) -> VideoPoses:
    logger = get_logger()
    if opts.boxes:
        boxes = frame_boxes(opts.boxes, opts.box_score_threshold)
        return boxed_video(estimator, reader, boxes, opts.batch_size, opts.whole_image_without_box)
    settings = TrackSettings(opts.track_margin, opts.reinit_score, tuple(opts.first_box) if opts.first_box else None)
    logger.info(f"following one person: frame 0 {'in the box ' + str(opts.first_box) if opts.first_box else 'whole'}"
                f", then each frame in the previous frame's joints' box + {settings.margin:.0%} margin, starting "
                f"again after a frame with mean joint score < {settings.reinit_score} (frames one at a time)")
    poses = track_video(estimator, reader, settings)
    logger.info(f"followed the person through {len(poses)} frames; started again {poses.reinitialised} times")
    return poses


def run_video(kind: str, opts: argparse.Namespace) -> Path:
    logger = get_logger()
    estimator = video_estimator(kind, opts)
    logger.info(estimator.precision.describe())
    reader = VideoReader(opts.video)
    logger.info(f"video {reader.path}: {reader.width} x {reader.height} px, {reader.fps:g} fps, about "
                f"{reader.frame_count} frames")
    poses = find_poses(estimator, reader, opts)
    settings = SmoothingSettings(opts.smoothing, opts.smoothing_window, min_cutoff_hz=opts.one_euro_min_cutoff,
                                 beta=opts.one_euro_beta)
    poses = smoothed(poses, settings)
    if settings.method != "none":
        logger.info(f"smoothed the 2D{' and 3D' if poses.poses_3d_mm is not None else ''} trajectories ({settings})")
    output_dir = Path(opts.output_dir)
    stem = reader.path.stem
    records = SimpleNamespace(image_names=np.asarray([f"{stem}/{frame:06d}" for frame in poses.image_index]),
                              center_px=poses.center_px, box_px=poses.crop_side_px)
    extra = {"frame_index": poses.image_index}
    missing = np.zeros(len(poses), bool)
    if poses.poses_3d_mm is None:
        path = write_predictions(output_dir, "video", records, Predictions(poses.joints_2d_px, poses.scores, missing,
                                                                           []), extra).with_suffix(".npz")
    else:
        path = write_stitched_predictions(output_dir, records, {"preds": poses.joints_2d_px, "scores": poses.scores,
                                                                "poses_3d": poses.poses_3d_mm, "missing": missing},
                                          extra)
    logger.info(f"wrote the poses of {len(poses)} people in {len(np.unique(poses.image_index))} frames to {path}")
    if opts.overlay:
        poses_file = {"frame_index": poses.image_index, "preds": poses.joints_2d_px}
        if poses.poses_3d_mm is not None:
            poses_file["poses_3d"] = poses.poses_3d_mm
        video = write_overlay_video(reader.path, poses_file, output_dir / f"{stem}_poses.mp4")
        logger.info(f"wrote {video}")
    return path
