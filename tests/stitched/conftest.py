"""Fixtures of the stitched tests: the tiny stitched checkpoint (the stage checkpoints and the tiny synthetic dataset
are tests/conftest.py's)."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def stitched_checkpoint(tmp_path_factory):
    """stitched.pt: the tiny stage checkpoints joined (with hourglass.pt and lifter.pt beside it)."""
    from tests.fixtures_checkpoints import write_stitched_checkpoint

    return write_stitched_checkpoint(tmp_path_factory.mktemp("stitched"))
