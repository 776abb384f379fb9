"""Fixtures of the lifter tests: a private cache folder (the tiny Human3.6M-like dataset `fake_h36m` is
tests/conftest.py's)."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Prepared tensors go to a temporary folder, never into the repository's .cache/."""
    monkeypatch.setenv("STITCHPOSE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"
