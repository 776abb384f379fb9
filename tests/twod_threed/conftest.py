"""Fixtures of the lifter tests: a tiny Human3.6M-like dataset in both file layouts, and a private cache folder."""
from __future__ import annotations

import pytest
import torch

from tests.twod_threed.fake_h36m import write_fake_h36m


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Prepared tensors go to a temporary folder, never into the repository's .cache/."""
    monkeypatch.setenv("STITCHPOSE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"



@pytest.fixture(scope="session")
def fake_h36m(tmp_path_factory):
    """S1, S5 (train) and S9, S11 (test), 4 actions x 40 frames, in both layouts in one folder."""
    return write_fake_h36m(tmp_path_factory.mktemp("fake_h36m"), subjects=(1, 5, 9, 11), frames=40, layout="both")
