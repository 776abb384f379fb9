"""Fixtures of the stitched tests: tiny stage checkpoints and the tiny synthetic dataset (Human3.6M frames)."""
from __future__ import annotations

import pytest
import torch

from tests.fixtures_checkpoints import write_stage_checkpoints


@pytest.fixture(scope="session")
def stage_checkpoints(tmp_path_factory):
    """(hourglass.pt, lifter.pt): untrained tiny networks in the files the stage scripts write."""
    return write_stage_checkpoints(tmp_path_factory.mktemp("stages"))


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory):
    """The tiny size of the synthetic generator (MPII images and rendered Human3.6M frames of S1, S9, S11)."""
    from synthetic.generate import generate_dataset

    root = tmp_path_factory.mktemp("synthetic_tiny")
    generate_dataset(root, size="tiny", seed=0, workers=1)
    return root



@pytest.fixture(scope="session")
def stitched_checkpoint(tmp_path_factory):
    """stitched.pt: the tiny stage checkpoints joined (with hourglass.pt and lifter.pt beside it)."""
    from tests.fixtures_checkpoints import write_stitched_checkpoint

    return write_stitched_checkpoint(tmp_path_factory.mktemp("stitched"))
