"""`viz.py orthog_augmentation`: what the lifter sees under the orthogonal augmentation, and what it answers.

One Human3.6M example (`--index` into the rows of `--subjects`, in `load_pose_pairs` order) is augmented
`--num_orientations` times by `twod_threed.augmentation.augment_orthogonal` (a random rotation about the root, about
the world's vertical only with `--z_rotations_only`, and a left/right mirror with `--flip_prob`, re-projected with
the example's camera). Each row of the PNG: the 2D input (px, H36M16_2D), the 3D ground truth and the lifter's 3D
prediction (camera frame, root-relative mm); the first row is the example as recorded.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from twod_threed.augmentation import augment_orthogonal
from twod_threed.checkpoint import lift, load_lifter
from twod_threed.data import load_pose_pairs
from twod_threed.h36m_files import TEST_SUBJECTS
from utils.errors import InputError
from utils.metrics import mpjpe
from utils.plotting import (blank_image_axes, camera_to_plot, draw_skeleton_2d, draw_skeleton_3d, equal_limits,
                            new_figure, save_figure, side_legend)
from utils.run_logging import get_logger
from utils.skeletons import H36M16_2D, H36M17, with_root

PANEL_INCHES = 3.2


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.set_defaults(output_dir="outputs/viz/orthog_augmentation")
    group = parser.add_argument_group("orthog_augmentation")
    group.add_argument("--index", type=int, nargs="+", default=[0],
                       help="row(s) of the Human3.6M pose pairs of --subjects to augment (one PNG each)")
    group.add_argument("--num_orientations", type=int, default=4, help="augmented copies drawn per example")
    group.add_argument("--subjects", type=int, nargs="+", default=list(TEST_SUBJECTS),
                       help="subjects whose rows --index counts")
    group.add_argument("--z_rotations_only", action="store_true",
                       help="rotate about the world's vertical axis only (as train.py 2d3d_h36m --z_rotations_only)")
    group.add_argument("--flip_prob", type=float, default=0.5, help="left/right mirror probability")
    group.add_argument("--dataset_normalization", action="store_true",
                       help="check that the lifter standardises with dataset statistics (train.py "
                            "--dataset_normalization); the statistics themselves always come from the checkpoint")
    group.add_argument("--dpi", type=int, default=90, help="pixels per inch of the PNGs")


def check_options(opts: argparse.Namespace) -> str | None:
    if not opts.load:
        return "--load CHECKPOINT is required (a lifter checkpoint of train.py 2d3d_h36m, or a stitched one)"
    if opts.num_orientations <= 0:
        return f"--num_orientations must be positive, got {opts.num_orientations}"
    if not 0 <= opts.flip_prob <= 1:
        return f"--flip_prob must be in [0, 1], got {opts.flip_prob}"
    if any(i < 0 for i in opts.index):
        return f"--index must be >= 0, got {opts.index}"
    return None


def augmented_rows(pairs, index: int, count: int, flip_prob: float, z_rotations_only: bool,
                   seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(1 + count) rows: the example, then `count` augmented copies. Returns 2D (K, 16, 2) px H36M16_2D and
    3D (K, 16, 3) root-relative mm H36M16_3D, camera frame."""
    sequence = pairs.sequence_index[index]
    repeat = lambda t: t[None].expand(count, *t.shape).double()  # noqa: E731
    generator = torch.Generator().manual_seed(seed)
    joints_2d, root_relative = augment_orthogonal(
        repeat(pairs.root_relative_mm[index]), repeat(pairs.root_camera_mm[index]),
        repeat(pairs.intrinsics[sequence]), repeat(pairs.up_camera[sequence]), flip_prob, z_rotations_only,
        generator)
    return (torch.cat([pairs.joints_2d_px[index][None].double(), joints_2d]),
            torch.cat([pairs.root_relative_mm[index][None].double(), root_relative]))


def augmentation_figure(joints_2d_px: np.ndarray, truth_mm: np.ndarray, predicted_mm: np.ndarray, title: str,
                        dpi: int = 90):
    """Rows of (2D input (16, 2) px, 3D ground truth (17, 3), 3D prediction (17, 3)); the first row is the original."""
    rows = len(joints_2d_px)
    figure = new_figure(3 * PANEL_INCHES + 0.3, rows * PANEL_INCHES + 1.0, dpi)
    errors = mpjpe(predicted_mm, truth_mm)  # (K,)
    for row in range(rows):
        label = "original" if row == 0 else f"augmented {row}"
        ax = figure.add_subplot(rows, 3, 3 * row + 1)
        blank_image_axes(ax, joints_2d_px[row])
        draw_skeleton_2d(ax, joints_2d_px[row], H36M16_2D)
        ax.set_title(f"{label}: 2D input (px)", fontsize=9)
        limits = equal_limits([camera_to_plot(truth_mm[row]), camera_to_plot(predicted_mm[row])])
        draw_skeleton_3d(figure.add_subplot(rows, 3, 3 * row + 2, projection="3d"), truth_mm[row], H36M17, limits,
                         "3D ground truth")
        draw_skeleton_3d(figure.add_subplot(rows, 3, 3 * row + 3, projection="3d"), predicted_mm[row], H36M17,
                         limits, f"3D prediction (MPJPE {float(errors[row]):.0f} mm)")
    figure.suptitle(title, fontsize=10)
    side_legend(figure)
    height = rows * PANEL_INCHES + 1.0
    figure.subplots_adjust(left=0.07, right=0.97, top=1 - 0.95 / height, bottom=0.4 / height, hspace=0.3,
                           wspace=0.2)
    return figure


def run(opts: argparse.Namespace) -> list[Path]:
    device = torch.device(opts.device)
    model, _, extras = load_lifter(opts.load, device)  # a lifter checkpoint or a stitched one (its lifter part)
    normaliser = extras["normaliser"]
    if opts.dataset_normalization and normaliser.mode != "dataset":
        raise InputError(f"{opts.load}: this lifter uses '{normaliser.mode}' normalisation (field "
                         f"'normalisation.mode'), not dataset statistics; drop --dataset_normalization")
    pairs = load_pose_pairs(opts.data_dir, tuple(opts.subjects))
    names, written = pairs.names(), []
    for index in opts.index:
        if index >= len(pairs):
            raise InputError(f"--index {index}: subjects {opts.subjects} have {len(pairs)} rows (0 to {len(pairs) - 1})")
        joints_2d, root_relative = augmented_rows(pairs, index, opts.num_orientations, opts.flip_prob,
                                                  opts.z_rotations_only, opts.seed + index)
        predicted = lift(model, normaliser, joints_2d.float().to(device)).double().cpu()
        rotation = "rotations about the vertical" if opts.z_rotations_only else "any rotation"
        title = (f"{names[index]} (row {index}): orthogonal augmentation, {rotation}, mirror p = {opts.flip_prob:g}\n"
                 f"lifter {Path(opts.load).name}, '{normaliser.mode}' normalisation")
        figure = augmentation_figure(joints_2d.numpy(), with_root(root_relative).numpy(),
                                     with_root(predicted).numpy(), title, opts.dpi)
        written.append(save_figure(figure, Path(opts.output_dir) / f"orthog_augmentation_{index:06d}.png"))
    get_logger().info(f"viz.py orthog_augmentation: wrote {len(written)} pictures to {opts.output_dir}")
    return written
