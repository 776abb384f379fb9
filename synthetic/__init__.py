"""The embedded default dataset: synthetic people in MPII and Human3.6M file formats (see synthetic/README.md).

`data_root(data_dir)` is what the model packages use: the given `--data_dir`, else the cached synthetic dataset,
generated once (`default_data_dir(size, seed)` picks another size or seed); `humaneva_root(data_dir)` the same for
the HumanEva-I recordings, a cache entry of their own made the first time a HumanEva command asks. Importing this package is cheap: the
generator (numpy, OpenCV) loads only when a dataset has to be made.
"""
from __future__ import annotations

from synthetic.cache import (GENERATOR_VERSION, coco_data_dir, coco_root, data_root, default_data_dir, humaneva_data_dir,
                             humaneva_root)

__all__ = ["GENERATOR_VERSION", "coco_data_dir", "coco_root", "data_root", "default_data_dir", "humaneva_data_dir",
           "humaneva_root"]
