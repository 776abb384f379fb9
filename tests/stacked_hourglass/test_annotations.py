import json

import h5py
import numpy as np
import pytest

from stacked_hourglass.annotations import load_split, mpii_folder, read_h5_records, read_json_records
from stacked_hourglass.dataset import JpegDataset, SampleSettings, collate
from stacked_hourglass.prepare import CacheSpec, build_crop_cache
from utils.errors import InputError


def test_specimen_json_records(specimens):
    records, is_validation = read_json_records(specimens / "mpii" / "mpii_annotations_sample.json")
    assert len(records) == 168 and is_validation.sum() == 16
    first = records.subset(np.array([0]))
    # objpos [594, 257], scale 3.021: centre y + 15 s, box 200 * 1.25 * s.
    np.testing.assert_allclose(first.center_px[0], [594.0, 257.0 + 15 * 3.021])
    assert first.box_px[0] == pytest.approx(200 * 1.25 * 3.021)
    # joint 3 (l_hip) is labelled but occluded: annotated, not visible.
    assert first.annotated[0, 3] == 1 and first.visible[0, 3] == 0 and first.visible[0, 2] == 1
    # No head boxes in the specimen: head size from the upper_neck - head_top distance.
    segment = np.hypot(695.98 - 637.02, 108.182 - 189.818)
    assert first.head_size_px[0] == pytest.approx(0.75 * segment)


def test_specimen_h5_records(specimens):
    records = read_h5_records(specimens / "mpii" / "valid.h5")
    assert len(records) == 2958 and records.image_names[0] == "005808361.jpg"
    np.testing.assert_allclose(records.center_px[0], [966.0, 410.7773184])
    assert records.box_px[0] == pytest.approx(200 * 5.898109866728492)
    assert records.head_size_px[0] == pytest.approx(117.96219733456985)
    assert records.annotated.shape == (2958, 16) and 0.9 < records.annotated.mean() < 1.0


def test_specimen_images_are_absent_skip_and_count(specimens, tmp_path):
    records, _ = read_json_records(specimens / "mpii" / "mpii_annotations_sample.json")
    dataset = JpegDataset(records.subset(np.arange(4)), tmp_path / "images", SampleSettings(input_res=64))
    batch = collate([dataset[i] for i in range(4)])
    assert "image" not in batch and len(batch["skipped"]) == 4
    assert batch["skipped"][0].path == str(tmp_path / "images" / "015601864.jpg")
    assert batch["skipped"][0].reason == "missing"
    with pytest.raises(InputError, match=r"none of the 168 people's images could be read \(first: .*images/\d+\.jpg "
                                         r"\(missing\)\); check --data_dir"):
        build_crop_cache(records, tmp_path / "images", tmp_path / "cache.h5", CacheSpec(32, 1.5))
    assert not list(tmp_path.glob("*.h5")) and not list(tmp_path.glob(".*.tmp"))


def test_missing_and_corrupt_images_are_counted_in_the_cache(toy_mpii, tmp_path):
    records = load_split(toy_mpii, "train")
    images = tmp_path / "images"
    images.mkdir()
    for name in records.image_names[2:]:
        (images / name).write_bytes((toy_mpii / "images" / name).read_bytes())
    (images / records.image_names[1]).write_bytes(b"not a jpeg")
    path = build_crop_cache(records, images, tmp_path / "cache.h5", CacheSpec(48, 1.5))
    with h5py.File(path) as data:
        assert len(data["crops"]) == len(records) - 2 and data.attrs["skipped"] == 2
        skipped = json.loads(data.attrs["skipped_paths"])
    assert any(records.image_names[0] in p and "missing" in p for p in skipped)
    assert any(records.image_names[1] in p and "corrupt" in p for p in skipped)


def test_splits_of_the_toy_layout(toy_mpii):
    assert mpii_folder(toy_mpii) == toy_mpii
    assert len(load_split(toy_mpii, "train")) == 8 and len(load_split(toy_mpii, "all")) == 12
    valid = load_split(toy_mpii, "valid")  # from annot/valid.h5, in ground-truth order
    json_valid = load_split(toy_mpii, "all").subset(np.arange(4))
    np.testing.assert_allclose(valid.joints_px, json_valid.joints_px)
    np.testing.assert_allclose(valid.head_size_px, json_valid.head_size_px)


def test_bad_input_names_file_and_field(tmp_path):
    path = tmp_path / "mpii_annotations.json"
    path.write_text(json.dumps([{"img_paths": "a.jpg", "joint_self": [[0, 0, 0]] * 15, "objpos": [1, 2],
                                 "scale_provided": 1.0}]))
    with pytest.raises(InputError, match=r"mpii_annotations.json: record 0 field 'joint_self' has shape \(15, 3\)"):
        read_json_records(path)
    with pytest.raises(InputError, match="no MPII annotations found"):
        mpii_folder(tmp_path / "elsewhere")
