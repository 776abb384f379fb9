"""Fixtures of the action tests: the lifter tests' tiny Human3.6M-like dataset (4 actions x 40 frames of S1, S5,
S9, S11) and a private cache folder."""
from __future__ import annotations

import pytest

from tests.twod_threed.fake_h36m import write_fake_h36m


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("STITCHPOSE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture(scope="session")
def fake_h36m(tmp_path_factory):
    return write_fake_h36m(tmp_path_factory.mktemp("fake_h36m_action"), subjects=(1, 5, 9, 11), frames=40,
                           layout="both")


@pytest.fixture(scope="session")
def stage_checkpoints(tmp_path_factory):
    """(hourglass.pt, lifter.pt): untrained tiny networks in the files the stage scripts write."""
    from tests.fixtures_checkpoints import write_stage_checkpoints

    return write_stage_checkpoints(tmp_path_factory.mktemp("stages"))


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory):
    """The tiny size of the synthetic generator (rendered Human3.6M frames of S1, S9, S11)."""
    from synthetic.generate import generate_dataset

    root = tmp_path_factory.mktemp("synthetic_tiny")
    generate_dataset(root, size="tiny", seed=0, workers=1)
    return root
