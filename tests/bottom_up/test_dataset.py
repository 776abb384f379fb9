"""Training samples of the bottom-up network: the whole letterboxed (augmented) image and its targets."""
from __future__ import annotations

import numpy as np
import pytest

from bottom_up.codec import AssociativeEmbeddingCodec, apply_affine
from bottom_up.coco_data import COCO_FLIP_PERMUTATION, load_coco_split
from bottom_up.dataset import CocoAugment, CocoKeypointDataset
from train import main as train_main


@pytest.mark.parametrize("augment", [None, CocoAugment()])
def test_each_pulled_tag_and_heatmap_peak_sits_at_its_keypoint(tiny_coco, augment):
    images = load_coco_split(tiny_coco, "train")
    codec = AssociativeEmbeddingCodec(64, 4, 1.0, 30)
    dataset = CocoKeypointDataset(images, codec, augment)
    for index in range(6):
        item, sample = images[index], dataset[index]
        matrix, flipped = dataset._matrix(item, index)
        assert sample["image"].shape == (3, 64, 64) and sample["heatmaps"].shape == (17, 16, 16)
        assert sample["mask"].shape == (16, 16) and sample["tags_at"].shape == (30, 17, 2)
        keypoints = item.keypoints[:, COCO_FLIP_PERMUTATION] if flipped else item.keypoints
        expected = apply_affine(matrix, keypoints[..., :2])  # (P, 17, 2) input px
        tags_at = sample["tags_at"].numpy()[: len(keypoints)]
        cells = np.stack([tags_at[..., 0] % 16, tags_at[..., 0] // 16], -1) * 4 + 1.5  # cell centres, input px
        used = tags_at[..., 1] == 1
        assert used.sum() > 0
        assert np.abs(cells[used] - expected[used]).max() <= 2.0 + 1e-6  # within half a cell per axis
        inside = (keypoints[..., 2] > 0) & ((expected >= 1.5 - 1e-9) & (expected <= 61.5 + 1e-9)).all(-1)
        np.testing.assert_array_equal(used, inside)  # every labelled keypoint on the heatmap, no other
        heatmaps = sample["heatmaps"].numpy()
        for person, joint in zip(*np.nonzero(used)):  # the target is >= its own Gaussian's value at the cell
            x, y = cells[person, joint]
            own = np.exp(-np.sum(((np.array([x, y]) - expected[person, joint]) / 4) ** 2) / 2)
            assert heatmaps[joint, int((y - 1.5) / 4), int((x - 1.5) / 4)] >= own - 1e-5


def test_validate_every_is_checked(tmp_path, capsys):
    with pytest.raises(SystemExit):
        train_main(["hourglass_coco", "--validate_every", "0", "--checkpoint_dir", str(tmp_path)])
    assert "--validate_every must be >= 1" in capsys.readouterr().err


@pytest.mark.parametrize("options, message", [
    (["--scale_range", "1.2", "0.8"], "--scale_range needs 0 < LOW <= HIGH"),
    (["--max_rotation", "-5"], "--max_rotation must be in [0, 180]"),
    (["--flip_prob", "1.5"], "--flip_prob in [0, 1]")])
def test_augmentation_ranges_are_checked(tmp_path, capsys, options, message):
    with pytest.raises(SystemExit):
        train_main(["hourglass_coco", *options, "--checkpoint_dir", str(tmp_path)])
    assert message in capsys.readouterr().err


def test_without_rotation_scale_or_flip_the_sample_is_the_letterboxed_image(tiny_coco):
    images = load_coco_split(tiny_coco, "train")
    codec = AssociativeEmbeddingCodec(64, 4, 1.0, 30)
    still = CocoKeypointDataset(images, codec, CocoAugment((1.0, 1.0), 0.0, 0.0, 0.0))
    plain = CocoKeypointDataset(images, codec, None)
    for index in range(3):
        assert np.array_equal(still[index]["image"].numpy(), plain[index]["image"].numpy())
