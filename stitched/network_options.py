"""The options that say how to build the stitched network, shared by `train.py stitched_h36m` and
`run.py stitched_mpii`: two stage checkpoints (`--load_hourglass`, `--load_2d3d`), or one stitched checkpoint
(`--load`, which holds the soft-argmax settings too)."""
from __future__ import annotations

import argparse

from stitched.checkpoint import DEFAULT_BETA

STITCHING_OPTIONS = ("load_hourglass", "load_2d3d", "softargmax_beta", "learnable_beta")


def add_network_options(parser: argparse.ArgumentParser) -> None:
    """How to build the stitched network: two stage checkpoints or one stitched checkpoint (`--load`)."""
    group = parser.add_argument_group("stitched network (without --load: stitch two stage checkpoints)")
    group.add_argument("--load_hourglass", default=None, help="hourglass checkpoint (train.py hourglass_mpii)")
    group.add_argument("--load_2d3d", default=None, help="lifter checkpoint (train.py 2d3d_h36m)")
    group.add_argument("--softargmax_beta", type=float, default=None,
                       help=f"soft-argmax inverse temperature (heatmaps have peak 1; higher is sharper; default: "
                            f"{DEFAULT_BETA:g})")
    group.add_argument("--learnable_beta", action="store_true", help="learn one soft-argmax temperature per joint")


def check_network_options(opts: argparse.Namespace) -> str | None:
    """A usage message when the network options conflict, else None."""
    stitching = [f"--{name}" for name in STITCHING_OPTIONS if getattr(opts, name)]
    if opts.load and stitching:
        return (f"--load is a stitched checkpoint, which holds both networks and the soft-argmax settings; "
                f"{' '.join(stitching)} would be ignored: give --load, or the stage checkpoints")
    if not opts.load and not (opts.load_hourglass and opts.load_2d3d):
        return "give --load_hourglass H and --load_2d3d L (the two stages), or --load S (a stitched checkpoint)"
    if opts.softargmax_beta is not None and opts.softargmax_beta <= 0:
        return f"--softargmax_beta must be positive, got {opts.softargmax_beta}"
    return None


def softargmax_beta(opts: argparse.Namespace) -> float:
    """--softargmax_beta, or the default of a newly stitched network."""
    return DEFAULT_BETA if opts.softargmax_beta is None else opts.softargmax_beta
