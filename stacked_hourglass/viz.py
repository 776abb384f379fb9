"""`viz.py saliency_and_prob_maps [_with_skeleton]`: per joint, the input crop, the hourglass's probability map and
the saliency map (one PNG per person, one row per joint).

Saliency (Simonyan et al. 2014): the gradient of the joint's heatmap peak with respect to the input pixels (uint8
RGB values, before normalisation), its absolute value's maximum over colour channels, scaled per joint to its 99.5th
percentile. The `_with_skeleton` variant draws the predicted skeleton on the input and rings the row's joint.
People: each image of `--image_dir` (whole image, or per box of `--boxes`), or the `--split` people of an MPII-format
`--data_dir` (the embedded default without either). The network comes from `--load` alone (a hourglass or a stitched
checkpoint), which holds the architecture: there are no --stacks/--features options to set or check.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from stacked_hourglass import transforms
from stacked_hourglass.checkpoint import STRIDE, load_hourglass
from stacked_hourglass.heatmaps import decode
from stacked_hourglass.inference import plain_loader
from stacked_hourglass.inputs import add_people_options, box_settings, check_people_options, people_to_run
from stacked_hourglass.model import normalise_input
from utils.errors import InputError
from utils.plotting import draw_skeleton_2d, new_figure, save_figure, side_colour, side_legend, unique_stems
from utils.run_logging import get_logger
from utils.skeletons import MPII

PANEL_INCHES = 2.2
JOINTS_PER_PASS = 4  # input copies per backward pass (memory)


def options_for(with_skeleton: bool):
    name = "saliency_and_prob_maps" + ("_with_skeleton" if with_skeleton else "")

    def add_options(parser: argparse.ArgumentParser) -> None:
        parser.set_defaults(output_dir=f"outputs/viz/{name}")
        group = parser.add_argument_group(name)
        add_people_options(group)
        group.add_argument("--stack", type=int, default=-1, help="whose heatmaps: stack index (-1: the last)")
        group.add_argument("--max_images", type=int, default=20, help="draw at most this many people")
        group.add_argument("--dpi", type=int, default=70, help="pixels per inch of the PNGs")

    return add_options


def check_options(opts: argparse.Namespace) -> str | None:
    if not opts.load:
        return "--load CHECKPOINT is required (a hourglass checkpoint of train.py hourglass_mpii, or a stitched one)"
    if opts.max_images <= 0:
        return f"--max_images must be positive, got {opts.max_images}"
    return check_people_options(opts)


def saliency_and_heatmaps(model: torch.nn.Module, image: torch.Tensor, mean_rgb: torch.Tensor, std_rgb: torch.Tensor,
                          stack: int = -1) -> tuple[torch.Tensor, torch.Tensor]:
    """image: (3, R, R) uint8 crop. Returns heatmaps (J, R/4, R/4) of `stack` and saliency (J, R, R) >= 0: per joint
    the max over channels of |d peak_j / d pixel|. The network is in eval mode, so the copies do not interact."""
    model.eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    pixels = image.float()[None]  # (1, 3, R, R)
    with torch.no_grad():
        heatmaps = model(normalise_input(pixels, mean_rgb, std_rgb))["heatmaps"][stack][0].float()  # (J, h, w)
    joints = heatmaps.shape[0]
    saliency = torch.zeros(joints, *image.shape[1:])
    for first in range(0, joints, JOINTS_PER_PASS):
        chosen = torch.arange(first, min(first + JOINTS_PER_PASS, joints))
        copies = pixels.expand(len(chosen), -1, -1, -1).clone().requires_grad_(True)  # (K, 3, R, R)
        with torch.enable_grad():
            maps = model(normalise_input(copies, mean_rgb, std_rgb))["heatmaps"][stack].float()  # (K, J, h, w)
            peaks = maps[torch.arange(len(chosen)), chosen].flatten(1).amax(1)  # (K,)
            peaks.sum().backward()
        saliency[chosen] = copies.grad.abs().amax(1).cpu()  # (K, R, R)
    return heatmaps.cpu(), saliency


def joints_in_input(heatmaps: torch.Tensor) -> np.ndarray:
    """(J, h, w) -> (J, 2) decoded joints in input px."""
    coords, _ = decode(heatmaps[None])
    return transforms.apply(transforms.invert(transforms.heatmap_matrix(STRIDE)), coords[0].numpy().astype(np.float64))


def saliency_figure(image_rgb: np.ndarray, heatmaps: torch.Tensor, saliency: torch.Tensor, title: str,
                    with_skeleton: bool, dpi: int = 70):
    """One row per joint: input, probability map over the dimmed input (colours scaled to the map's peak),
    saliency map. image_rgb (R, R, 3) uint8."""
    joints, res = heatmaps.shape[0], image_rgb.shape[0]
    upsampled = F.interpolate(heatmaps[None].clamp(0, 1), size=(res, res), mode="bilinear", align_corners=False)[0]
    scale = torch.quantile(saliency.flatten(1), 0.995, dim=1).clamp_min(1e-12)  # (J,)
    saliency = (saliency / scale[:, None, None]).clamp(0, 1).numpy()
    points = joints_in_input(heatmaps)
    grey = image_rgb.mean(-1, keepdims=True).repeat(3, -1) / 255.0 * 0.5
    extent = (-0.5, res - 0.5, res - 0.5, -0.5)
    height = joints * PANEL_INCHES + 1.2
    figure = new_figure(3 * PANEL_INCHES + 0.6, height, dpi)
    for joint in range(joints):
        axes = [figure.add_subplot(joints, 3, 3 * joint + k + 1) for k in range(3)]
        axes[0].imshow(image_rgb, extent=extent)
        if with_skeleton:
            draw_skeleton_2d(axes[0], points, MPII, line_width=1.5, marker_size=3.5, highlight=joint)
        axes[1].imshow(grey, extent=extent)
        peak = float(heatmaps[joint].max())
        axes[1].imshow(upsampled[joint].numpy(), extent=extent, cmap="inferno", vmin=0, vmax=max(peak, 1e-6),
                       alpha=0.75)
        axes[2].imshow(saliency[joint], extent=extent, cmap="gray", vmin=0, vmax=1)
        if with_skeleton:
            for ax in axes[1:]:
                ax.scatter(*points[joint], s=90, facecolors="none", edgecolors="cyan", linewidths=1.2)
        for ax in axes:
            ax.set_xlim(extent[:2])
            ax.set_ylim(extent[2:])
            ax.set_xticks([])
            ax.set_yticks([])
        name = MPII.joint_names[joint]
        axes[0].set_ylabel(name, fontsize=9, color=side_colour(MPII.side_of(joint)), fontweight="bold")
        axes[1].set_title(f"probability map (peak {peak:.2f})", fontsize=8, pad=2)
        axes[2].set_title("saliency |d peak / d pixel|", fontsize=8, pad=2)
        if joint == 0:
            axes[0].set_title("input", fontsize=8, pad=2)
    figure.suptitle(title, fontsize=9, y=1 - 0.15 / height, va="top")
    if with_skeleton:
        side_legend(figure)
    figure.subplots_adjust(left=0.1, right=0.98, top=1 - 1.0 / height, bottom=0.4 / height, hspace=0.25,
                           wspace=0.05)
    return figure


def run(opts: argparse.Namespace) -> list[Path]:
    with_skeleton = opts.script.endswith("_with_skeleton")
    device = torch.device(opts.device)
    model, config, extras = load_hourglass(opts.load, device)  # a hourglass checkpoint or a stitched one's part
    mean_rgb, std_rgb, input_res = extras["mean_rgb"], extras["std_rgb"], config.input_res
    if not -model.config.stacks <= opts.stack < model.config.stacks:
        raise InputError(f"--stack {opts.stack}: {opts.load} holds {model.config.stacks} stack(s)")
    image_dir, records = people_to_run(opts.image_dir, opts.boxes, opts.data_dir, opts.split, **box_settings(opts))
    records = records.subset(np.arange(min(len(records), opts.max_images)))
    stems = unique_stems(list(records.image_names))
    written, skipped = [], []
    for batch in plain_loader(records, image_dir, input_res, 1, opts.workers):
        skipped += [item.path for item in batch["skipped"]]
        if "image" not in batch:
            continue
        index = int(batch["index"][0])
        heatmaps, saliency = saliency_and_heatmaps(model, batch["image"][0].to(device), mean_rgb, std_rgb,
                                                   opts.stack)
        image_rgb = batch["image"][0].permute(1, 2, 0).numpy()
        stack = opts.stack % model.config.stacks + 1
        title = f"{records.image_names[index]}\n{Path(opts.load).name}, heatmaps of stack {stack} of {model.config.stacks}"
        figure = saliency_figure(image_rgb, heatmaps, saliency, title, with_skeleton, opts.dpi)
        written.append(save_figure(figure, Path(opts.output_dir) / f"{stems[index]}.png"))
    if skipped:
        get_logger().warning(f"{len(skipped)} images could not be read (first: {skipped[0]})")
    if not written:
        raise InputError(f"{image_dir}: none of the {len(records)} images could be read (first: {skipped[0]})")
    get_logger().info(f"viz.py {opts.script}: wrote {len(written)} pictures to {opts.output_dir}")
    return written
