import numpy as np
import pytest
import torch

from stacked_hourglass import transforms
from stacked_hourglass.annotations import load_split
from stacked_hourglass.dataset import CropCacheDataset, JpegDataset, SampleSettings, collate
from stacked_hourglass.prepare import CacheSpec, dataset_mean_std, prepare_split

AUGMENT = SampleSettings(input_res=64, augment=transforms.AugmentSettings(), mask=transforms.MaskSettings())


@pytest.fixture(scope="module")
def toy_cache(toy_mpii, tmp_path_factory):
    return prepare_split(toy_mpii, "train", CacheSpec(96, 1.5), tmp_path_factory.mktemp("cache"))


def test_cache_is_built_once_and_reused(toy_mpii, toy_cache):
    stamp = toy_cache.stat().st_mtime_ns
    assert prepare_split(toy_mpii, "train", CacheSpec(96, 1.5), toy_cache.parent) == toy_cache
    assert toy_cache.stat().st_mtime_ns == stamp
    assert prepare_split(toy_mpii, "train", CacheSpec(64, 1.5), toy_cache.parent) != toy_cache
    mean, std = dataset_mean_std(toy_cache)
    assert toy_cache.with_suffix(".stats.json").is_file()
    assert mean.shape == (3,) and ((0 < mean) & (mean < 1)).all() and ((0 < std) & (std < 0.5)).all()


def test_cache_and_jpeg_samples_agree(toy_mpii, toy_cache):
    plain = SampleSettings(input_res=64)
    from_cache = CropCacheDataset(toy_cache, plain)
    from_jpeg = JpegDataset(load_split(toy_mpii, "train"), toy_mpii / "images", plain)
    for index in range(3):
        a, b = from_cache[index], from_jpeg[int(from_cache.labels["record_index"][index])]
        np.testing.assert_allclose(a["joints_hm"], b["joints_hm"], atol=1e-9)
        difference = np.abs(a["image"].astype(float) - b["image"].astype(float))
        assert difference.mean() < 6  # the cache resamples once more


def test_augmented_samples_are_consistent_and_reproducible(toy_cache):
    dataset = CropCacheDataset(toy_cache, AUGMENT, seed=3)
    first = [dataset[i] for i in range(4)]
    again = [dataset[i] for i in range(4)]
    assert all(np.array_equal(x["image"], y["image"]) for x, y in zip(first, again))
    dataset.set_epoch(1)
    assert not all(np.array_equal(x["image"], dataset[i]["image"]) for i, x in enumerate(first))
    for sample, index in zip(first, range(4)):
        # The joints went through the sample's own matrix (and a flip swaps left/right labels).
        expected = transforms.apply(sample["image_to_input"], dataset.labels["joints_px"][index])
        flipped = np.linalg.det(sample["image_to_input"][:, :2]) < 0
        if flipped:
            expected = expected[[5, 4, 3, 2, 1, 0, 6, 7, 8, 9, 15, 14, 13, 12, 11, 10]]
        np.testing.assert_allclose(sample["joints_hm"], (expected - 1.5) / 4, atol=1e-5)


def test_collate_makes_channels_last_uint8(toy_cache):
    batch = collate([CropCacheDataset(toy_cache, AUGMENT)[i] for i in range(3)])
    assert batch["image"].shape == (3, 3, 64, 64) and batch["image"].dtype == torch.uint8
    assert batch["image"].is_contiguous(memory_format=torch.channels_last)
    assert batch["joints_hm"].shape == (3, 16, 2) and batch["skipped"] == []
