"""The options that say how to build the stitched network, shared by `train.py stitched_h36m` and
`run.py stitched_mpii`: two stage checkpoints, or one stitched checkpoint (`--load`)."""
from __future__ import annotations

import argparse


def add_network_options(parser: argparse.ArgumentParser) -> None:
    """How to build the stitched network: two stage checkpoints or one stitched checkpoint (`--load`)."""
    group = parser.add_argument_group("stitched network")
    group.add_argument("--load_hourglass", default=None, help="hourglass checkpoint (train.py hourglass_mpii)")
    group.add_argument("--load_2d3d", default=None, help="lifter checkpoint (train.py 2d3d_h36m)")
    group.add_argument("--softargmax_beta", type=float, default=50.0,
                       help="soft-argmax inverse temperature (heatmaps have peak 1; higher is sharper)")
    group.add_argument("--learnable_beta", action="store_true", help="learn one soft-argmax temperature per joint")


def check_network_options(opts: argparse.Namespace) -> str | None:
    if not opts.load and not (opts.load_hourglass and opts.load_2d3d):
        return "give --load_hourglass H and --load_2d3d L (the two stages), or --load S (a stitched checkpoint)"
    if opts.softargmax_beta <= 0:
        return f"--softargmax_beta must be positive, got {opts.softargmax_beta}"
    return None
