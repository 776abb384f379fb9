"""The embedded default dataset: synthetic people in MPII and Human3.6M file formats (see synthetic/README.md).

`data_root(data_dir)` is what the model packages use: the given `--data_dir`, else the cached synthetic dataset,
generated once (`default_data_dir(size, seed)` picks another size or seed); `clips_data_dir(size, seed)` is the
additive split of consecutive rendered frames for action clips, `coco_data_dir` the synthetic COCO split and
`humaneva_root(data_dir)` the HumanEva-I recordings, each a cache entry of its own made the first time a command
asks. Importing this package is cheap: the generator (numpy, OpenCV) loads only when a dataset has to be made.
"""
from __future__ import annotations

from synthetic.cache import (GENERATOR_VERSION, clips_data_dir, coco_data_dir, coco_root, data_root, default_data_dir,
                             humaneva_data_dir, humaneva_root)

__all__ = ["GENERATOR_VERSION", "clips_data_dir", "coco_data_dir", "coco_root", "data_root", "default_data_dir",
           "humaneva_data_dir", "humaneva_root"]
