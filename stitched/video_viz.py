"""`viz.py video_overlay_3d --video FILE --poses PREDICTIONS.npz`: the video with its predicted poses drawn, as mp4
(`stitched.video_overlay`)."""
from __future__ import annotations

import argparse
from pathlib import Path

from stitched.video_overlay import read_video_poses, write_overlay_video
from utils.run_logging import get_logger


def add_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("video_overlay_3d")
    group.add_argument("--video", default=None, help="the video the poses were predicted on")
    group.add_argument("--poses", default=None,
                       help="its predictions: stitched_predictions.npz or preds_video.npz from run.py ... --video")
    group.add_argument("--output", default=None, help="the mp4 to write (default: OUTPUT_DIR/<video>_poses.mp4)")
    parser.set_defaults(output_dir="outputs/viz/video_overlay_3d")


def check_options(opts: argparse.Namespace) -> str | None:
    if not opts.video or not opts.poses:
        return "--video FILE and --poses FILE.npz are required"
    return None


def run(opts: argparse.Namespace) -> Path:
    output = Path(opts.output or Path(opts.output_dir) / f"{Path(opts.video).stem}_poses.mp4")
    path = write_overlay_video(opts.video, read_video_poses(opts.poses), output)
    get_logger().info(f"wrote {path}")
    return path
