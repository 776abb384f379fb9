"""A tiny synthetic COCO split, written once per test session (12 train + 6 val images of 256 x 256)."""
from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_coco(tmp_path_factory) -> Path:
    """The COCO root (annotations/, train2017/, val2017/) of the tiny synthetic split."""
    from synthetic.generate_coco import generate_coco

    out = tmp_path_factory.mktemp("coco_tiny")
    generate_coco(out, "tiny", seed=0, workers=1, progress=False)
    return out / "coco"
