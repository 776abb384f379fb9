"""`python viz.py gan_samples --load RUN/last.pt`: a grid of 3D poses drawn by the pose prior's generator.

Poses are shown from the front in the body frame the generator works in (x right, y forward, z up), in mm (scaled
by the training poses' mean bone length), with equal axes; left limbs blue, right limbs red, trunk and head black.
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import torch

from generative_models.checkpoint import load_generator
from utils.atomic import save_figure_atomic
from utils.skeletons import H36M17, Skeleton

SIDE_COLOURS = {"left": "tab:blue", "right": "tab:red", "centre": "black"}


def add_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("gan_samples")
    group.add_argument("--num_samples", type=int, default=16, help="poses in the grid")
    group.add_argument("--columns", type=int, default=4, help="poses per row")


def check_options(opts: argparse.Namespace) -> str | None:
    if not opts.load:
        return "--load is required: a train.py 3d_pose_gan checkpoint (RUN/last.pt)"
    if opts.num_samples < 1 or opts.columns < 1:
        return "--num_samples and --columns must be positive"
    return None


def draw_skeleton(axes, joints_mm: np.ndarray, skeleton: Skeleton = H36M17) -> None:
    """One pose (J, 3) mm, z up, on a 3D axes: bones coloured by side, equal axes around the root."""
    for parent, child in skeleton.bones:
        side = skeleton.side_of(child)
        segment = joints_mm[[parent, child]]
        axes.plot(segment[:, 0], segment[:, 1], segment[:, 2], color=SIDE_COLOURS[side], linewidth=2)
    axes.scatter(joints_mm[:, 0], joints_mm[:, 1], joints_mm[:, 2], color="grey", s=6)
    radius = max(float(np.abs(joints_mm - joints_mm[0]).max()), 1.0)
    for setter, centre in zip((axes.set_xlim, axes.set_ylim, axes.set_zlim), joints_mm[0]):
        setter(centre - radius, centre + radius)
    axes.set_box_aspect((1, 1, 1))
    axes.view_init(elev=10, azim=70)  # from the front, a little to the right
    axes.set_xticklabels([])
    axes.set_yticklabels([])
    axes.set_zticklabels([])


def draw_gan_samples(opts: argparse.Namespace) -> Path:
    """Sample `--num_samples` poses from the `--load`ed generator and save OUTPUT_DIR/gan_samples.png."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    generator, _, extras = load_generator(opts.load, opts.device)
    mean_bone_length_mm = extras["mean_bone_length_mm"]
    with torch.no_grad():
        poses = generator.sample(opts.num_samples, torch.Generator().manual_seed(opts.seed)).cpu().numpy()
    poses_mm = poses * mean_bone_length_mm
    columns = min(opts.columns, opts.num_samples)
    rows = math.ceil(opts.num_samples / columns)
    figure = plt.figure(figsize=(3 * columns, 3.2 * rows))
    for index, joints_mm in enumerate(poses_mm):
        axes = figure.add_subplot(rows, columns, index + 1, projection="3d")
        draw_skeleton(axes, joints_mm)
        axes.set_title(f"sample {index}", fontsize=9)
    figure.suptitle(f"pose prior samples ({Path(opts.load).name}); left blue, right red", fontsize=11)
    figure.tight_layout()
    output_dir = Path(opts.output_dir or "outputs/gan_samples")
    output_dir.mkdir(parents=True, exist_ok=True)
    path = output_dir / "gan_samples.png"
    save_figure_atomic(figure, path, dpi=80)
    plt.close(figure)
    print(f"wrote {path}")
    return path


def run(opts: argparse.Namespace) -> int:
    draw_gan_samples(opts)
    return 0
