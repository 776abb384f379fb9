"""Shared fixtures: the specimen files of real data formats (skipped with a reason when absent)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
SPECIMENS = Path(os.environ.get("STITCHPOSE_SPECIMENS", REPO_ROOT.parent / "shared" / "specimens"))


@pytest.fixture(scope="session")
def specimens() -> Path:
    """Folder of real-format specimen files (../shared/specimens)."""
    if not SPECIMENS.is_dir():
        pytest.skip(f"specimen folder {SPECIMENS} is absent (set STITCHPOSE_SPECIMENS to point at it)")
    return SPECIMENS


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Test networks are tiny: one intra-op thread runs them fastest, and on a shared 2-core machine extra threads
    only wait on each other (tests ran minutes instead of seconds under load). Restored after each module."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def tiny_humaneva(tmp_path_factory) -> Path:
    """The tiny synthetic HumanEva-I dataset (3 subjects x 2 takes x 5 actions, 32-40 frames, 4 rendered per camera);
    returns its humaneva/ folder."""
    from synthetic.write_humaneva import generate_humaneva

    root = tmp_path_factory.mktemp("humaneva")
    generate_humaneva(root, "tiny", seed=0, progress=False)
    return root / "humaneva"
