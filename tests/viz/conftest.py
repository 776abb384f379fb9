"""Fixtures of the picture tests: tiny untrained checkpoints, a toy MPII folder and a fake Human3.6M folder with a few
rendered frames (frames.json + blank JPEGs), all written in the formats users bring."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from stacked_hourglass.toy_data import write_toy_mpii
from tests.twod_threed.fake_h36m import write_fake_h36m


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Prepared Human3.6M tensors go to a temporary folder, never into the repository's .cache/."""
    monkeypatch.setenv("STITCHPOSE_CACHE", str(tmp_path / "cache"))



@pytest.fixture(scope="session")
def checkpoints(stage_checkpoints) -> tuple[Path, Path]:
    """(hourglass.pt, lifter.pt): untrained tiny networks (tests/conftest.py's)."""
    return stage_checkpoints


@pytest.fixture(scope="session")
def toy_mpii(tmp_path_factory) -> Path:
    """images/*.jpg (160 x 120), mpii_annotations.json, annot/valid.h5, detections_our_format.mat; 4 validation
    images with 2 people each."""
    return write_toy_mpii(tmp_path_factory.mktemp("toy_mpii"), images=6, people_per_image=2, validation_images=4)


@pytest.fixture(scope="session")
def fake_h36m(tmp_path_factory) -> Path:
    """S9 and S11 in both Human3.6M layouts, plus frames.json listing 3 rendered frames of S9 (plain grey JPEGs)."""
    root = write_fake_h36m(tmp_path_factory.mktemp("fake_h36m"), subjects=(9, 11), frames=20, layout="both")
    entries = []
    for frame, (action, camera) in enumerate([("Directions", "54138969"), ("Walking 1", "55011271"),
                                              ("Eating", "58860488")]):
        image = f"S9/Images/{action}.{camera}/{frame + 3:06d}.jpg"
        (root / image).parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(root / image), np.full((1000, 1000, 3), 90 + 40 * frame, np.uint8))
        entries.append({"subject": "S9", "action": action, "camera": camera, "frame": frame + 3, "image": image})
    (root / "frames.json").write_text(json.dumps(entries))
    return root


def assert_valid_png(path: Path, min_size: tuple[int, int] = (200, 200)) -> np.ndarray:
    """The file is a PNG that decodes, at least min_size (width, height), not blank; returns its RGB pixels."""
    from PIL import Image

    assert path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        pixels = np.asarray(image.convert("RGB"))
    assert pixels.shape[1] >= min_size[0] and pixels.shape[0] >= min_size[1], (path, pixels.shape)
    assert pixels.std() > 10 and len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50, f"{path} looks blank"
    return pixels
