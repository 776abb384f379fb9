"""The embedded default dataset: synthetic people in MPII and Human3.6M file formats (see synthetic/README.md).

`default_data_dir()` returns the cached dataset root, generating it once. Importing this package is cheap: the
generator (numpy, OpenCV) loads only when a dataset has to be made.
"""
from __future__ import annotations

from synthetic.cache import GENERATOR_VERSION, cache_root, default_data_dir

__all__ = ["GENERATOR_VERSION", "cache_root", "default_data_dir"]
