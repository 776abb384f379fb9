"""Fixtures of the action tests: a private cache folder (the datasets and checkpoints are tests/conftest.py's)."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("STITCHPOSE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"
