"""Fixtures of the stitched tests: tiny stage checkpoints and the tiny synthetic dataset (Human3.6M frames)."""
from __future__ import annotations

import pytest
import torch

from stacked_hourglass.checkpoint import checkpoint_fields as hourglass_fields
from stacked_hourglass.model import HourglassConfig, HourglassNet
from twod_threed.checkpoint import lifter_checkpoint_fields
from twod_threed.model import Lifter, LifterConfig
from twod_threed.normalization import Normaliser
from utils.checkpoints import save_checkpoint

TINY_HOURGLASS = HourglassConfig(stacks=1, features=16, depth=2, input_res=64)
TINY_LIFTER = LifterConfig(linear_size=32, num_stage=1)


@pytest.fixture(scope="session")
def stage_checkpoints(tmp_path_factory):
    """(hourglass.pt, lifter.pt): untrained tiny networks in the files the stage scripts write."""
    folder = tmp_path_factory.mktemp("stages")
    torch.manual_seed(0)
    hourglass = HourglassNet(TINY_HOURGLASS)
    save_checkpoint(folder / "hourglass.pt", {**hourglass_fields(TINY_HOURGLASS, [0.5, 0.5, 0.5], [0.25, 0.25, 0.25]),
                                              "model_state": hourglass.state_dict()})
    normaliser = Normaliser.from_training_data(torch.zeros(4, 16, 2), torch.zeros(4, 16, 3), "per_instance")
    lifter = Lifter(TINY_LIFTER)
    save_checkpoint(folder / "lifter.pt", {**lifter_checkpoint_fields(TINY_LIFTER, normaliser, {}),
                                           "model_state": lifter.state_dict()})
    return folder / "hourglass.pt", folder / "lifter.pt"


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory):
    """The tiny size of the synthetic generator (MPII images and rendered Human3.6M frames of S1, S9, S11)."""
    from synthetic.generate import generate_dataset

    root = tmp_path_factory.mktemp("synthetic_tiny")
    generate_dataset(root, size="tiny", seed=0, workers=1)
    return root


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny tensors run faster on one intra-op thread on a loaded 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
