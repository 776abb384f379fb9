"""Fixtures of the hourglass tests: a tiny MPII-format dataset of stick figures, written once per session."""
from __future__ import annotations

import pytest

from stacked_hourglass.toy_data import write_toy_mpii


@pytest.fixture(scope="session")
def toy_mpii(tmp_path_factory):
    """Folder with images/ (12 JPEGs, 160x120), mpii_annotations.json, annot/valid.h5, detections_our_format.mat."""
    return write_toy_mpii(tmp_path_factory.mktemp("toy_mpii"), images=12, validation_images=4, size=(160, 120))

