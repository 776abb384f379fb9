"""Shared fixtures: the specimen files of real data formats (skipped with a reason when absent), the tiny synthetic
dataset and tiny stage checkpoints, each made once per test session."""
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
def tiny_dataset(tmp_path_factory) -> Path:
    """The tiny size of the synthetic generator (36 MPII-format people; Human3.6M-format poses of 7 subjects with
    rendered frames of S1, S9 and S11), generated once per session with two worker processes."""
    from synthetic.generate import generate_dataset

    root = tmp_path_factory.mktemp("synthetic") / "tiny"
    generate_dataset(root, size="tiny", seed=0, workers=2, progress=False)
    return root


@pytest.fixture(scope="session")
def stage_checkpoints(tmp_path_factory) -> tuple[Path, Path]:
    """(hourglass.pt, lifter.pt): untrained tiny networks in the files the stage scripts write."""
    from tests.fixtures_checkpoints import write_stage_checkpoints

    return write_stage_checkpoints(tmp_path_factory.mktemp("stages"))


@pytest.fixture(scope="session")
def fake_h36m(tmp_path_factory) -> Path:
    """A tiny Human3.6M-like dataset: S1, S5 (train) and S9, S11 (test), 4 actions x 40 frames, in both file layouts
    (the 3D pose baseline's h5 files and VideoPose3D's npz files) in one folder."""
    from tests.twod_threed.fake_h36m import write_fake_h36m

    return write_fake_h36m(tmp_path_factory.mktemp("fake_h36m"), subjects=(1, 5, 9, 11), frames=40, layout="both")


@pytest.fixture(scope="session")
def tiny_humaneva(tmp_path_factory) -> Path:
    """The tiny synthetic HumanEva-I dataset (3 subjects x 2 takes x 5 actions, 32-40 frames, 4 rendered per camera);
    returns its humaneva/ folder."""
    from synthetic.write_humaneva import generate_humaneva

    root = tmp_path_factory.mktemp("humaneva")
    generate_humaneva(root, "tiny", seed=0, progress=False)
    return root / "humaneva"
