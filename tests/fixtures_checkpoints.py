"""Tiny untrained stage checkpoints in the files the training scripts write (shared by the stitched and viz tests)."""
from __future__ import annotations

from pathlib import Path

import torch

from stacked_hourglass.checkpoint import checkpoint_fields as hourglass_fields
from stacked_hourglass.model import HourglassConfig, HourglassNet
from twod_threed.checkpoint import checkpoint_fields as lifter_fields
from twod_threed.model import Lifter, LifterConfig
from twod_threed.normalization import Normaliser
from utils.checkpoints import save_checkpoint

TINY_HOURGLASS = HourglassConfig(stacks=1, features=16, depth=2, input_res=64)
TINY_LIFTER = LifterConfig(linear_size=32, num_stage=1)


def write_stage_checkpoints(folder: Path, seed: int = 0) -> tuple[Path, Path]:
    """(hourglass.pt, lifter.pt) in `folder`: untrained tiny networks, per-pose lifter normalisation."""
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    hourglass = HourglassNet(TINY_HOURGLASS)
    save_checkpoint(folder / "hourglass.pt", {**hourglass_fields(TINY_HOURGLASS, [0.5, 0.5, 0.5], [0.25, 0.25, 0.25]),
                                              "model_state": hourglass.state_dict()})
    normaliser = Normaliser.from_training_data(torch.zeros(4, 16, 2), torch.zeros(4, 16, 3), "per_instance")
    lifter = Lifter(TINY_LIFTER)
    save_checkpoint(folder / "lifter.pt", {**lifter_fields(TINY_LIFTER, normaliser, {}),
                                           "model_state": lifter.state_dict()})
    return folder / "hourglass.pt", folder / "lifter.pt"


def write_stitched_checkpoint(folder: Path, seed: int = 0) -> Path:
    """stitched.pt in `folder`: the two tiny stages of `write_stage_checkpoints` joined, as train.py stitched_h36m
    writes it."""
    from stitched.checkpoint import checkpoint_fields, stitch

    hourglass, lifter = write_stage_checkpoints(folder, seed)
    network = stitch(hourglass, lifter)
    save_checkpoint(folder / "stitched.pt", {**checkpoint_fields(network), "model_state": network.state_dict()})
    return folder / "stitched.pt"
