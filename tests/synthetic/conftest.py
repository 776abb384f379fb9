"""Fixtures: one tiny synthetic dataset per test session (two worker processes), and a faster micro size."""
from __future__ import annotations

from pathlib import Path

import pytest

from synthetic.generate import SizeConfig, generate_dataset

# Smaller than "tiny": enough for byte-level determinism and cache checks in about a second.
MICRO = SizeConfig("micro", 3, 2, (12, 16), 1, 1, actions=("Directions", "Walking"), render_subjects=(11,),
                   render_takes=1)


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synthetic") / "tiny"
    generate_dataset(root, size="tiny", seed=0, workers=2, progress=False)
    return root
