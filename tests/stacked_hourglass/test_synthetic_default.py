"""The embedded synthetic dataset through the hourglass data path (skipped until it has been generated)."""
import numpy as np
import pytest

from stacked_hourglass.annotations import load_split, mpii_folder
from stacked_hourglass.dataset import CropCacheDataset, SampleSettings
from stacked_hourglass.prepare import CacheSpec, prepare_split


@pytest.fixture(scope="module")
def synthetic_root():
    from synthetic.cache import is_complete
    from utils.paths import cache_root

    root = cache_root() / "synthetic" / "small_seed0"
    if not is_complete(root, "small", 0):
        pytest.skip("the small synthetic dataset has not been generated yet (python -m synthetic)")
    return root


def test_synthetic_validation_split_reads_and_crops(synthetic_root, tmp_path):
    valid = load_split(synthetic_root, "valid")  # annot/valid.h5, the order of detections_our_format.mat
    assert mpii_folder(synthetic_root) == synthetic_root / "mpii" and len(valid) > 0
    assert np.isfinite(valid.head_size_px).all() and (valid.head_size_px > 0).all()
    cache = prepare_split(synthetic_root, "valid", CacheSpec(48, 1.5), tmp_path)
    dataset = CropCacheDataset(cache, SampleSettings(input_res=64))
    assert dataset.skipped == 0 and len(dataset) == len(valid)
    sample = dataset[0]
    inside = dataset[0]["annotated"] > 0
    assert ((sample["joints_hm"][inside] > -0.5) & (sample["joints_hm"][inside] < 15.5)).mean() > 0.8
