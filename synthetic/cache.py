"""The cached default dataset: generated once per (size, seed), then reused by every command.

Location: `synthetic/<size>_seed<seed>/` in the shared cache (`utils.paths.cache_root`: `$STITCHPOSE_CACHE`, else
the repository's `.cache/`). Generation goes to a temporary folder beside the target and is renamed
into place when complete, under a file lock, so processes that race for it wait and then share one copy.
This module imports only the standard library (and `utils.paths`); the generator is loaded when a dataset has to be
made.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Callable

from utils.paths import cache_dir

GENERATOR_VERSION = "2.2"
CLIPS_VERSION = "1"  # of the additive clips split (synthetic/clip_split.py): its layout, settings and streams


def is_complete(folder: Path, size: str, seed: int) -> bool:
    """True when `folder` holds a finished dataset of this size, seed and generator version."""
    try:
        info = json.loads((folder / "info.json").read_text())
    except (OSError, ValueError):
        return False
    return info.get("version") == GENERATOR_VERSION and info.get("size") == size and info.get("seed") == seed


def is_complete_clips(folder: Path, size: str, seed: int) -> bool:
    """True when `folder` holds a finished clips split of this size and seed, of this generator and split version."""
    try:
        info = json.loads((folder / "info.json").read_text())
    except (OSError, ValueError):
        return False
    return (info.get("split") == "clips" and info.get("clips_version") == CLIPS_VERSION
            and info.get("version") == GENERATOR_VERSION and info.get("size") == size and info.get("seed") == seed)


def _say(message: str) -> None:
    print(f"[synthetic] {message}", file=sys.stderr, flush=True)


class _Lock:
    """An exclusive lock on a file (fcntl where available; otherwise a no-op, the final rename still decides)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle = None
        self.held = False  # True when the operating system grants an exclusive lock

    def __enter__(self) -> "_Lock":
        self.handle = open(self.path, "a+")
        try:
            import fcntl
        except ImportError:
            return self
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            _say(f"another process is generating this dataset; waiting for it ({self.path})")
            fcntl.flock(self.handle, fcntl.LOCK_EX)
        self.held = True
        return self

    def __exit__(self, *exc) -> None:
        self.handle.close()  # closing releases the lock


_ANNOUNCED: set[Path] = set()


def default_data_dir(size: str = "small", seed: int = 0) -> Path:
    """Root of the cached synthetic dataset (mpii/, h36m/, info.json), generating it first if needed."""
    target = cache_dir("synthetic") / f"{size}_seed{seed}"
    if not is_complete(target, size, seed):
        target.parent.mkdir(parents=True, exist_ok=True)
        with _Lock(target.parent / f".{target.name}.lock") as lock:
            if not is_complete(target, size, seed):
                _generate_into(target, size, seed, remove_leftovers=lock.held)
    if target not in _ANNOUNCED:  # once per process: commands ask for the root several times
        _ANNOUNCED.add(target)
        _say(f"using the {size} synthetic dataset (seed {seed}) at {target}")
    return target


COCO_GENERATOR_VERSION = "1.0"  # synthetic.generate_coco's files


def _cached_split(folder_name: str, version: str, size: str, seed: int, what: str,
                  generate: Callable[[Path], None]) -> Path:
    """The cache entry `synthetic/<folder_name>` of a split made on first use: complete when its info.json records
    `version`, size and seed; otherwise `generate(temporary folder)` makes it under the entry's lock, and the folder
    is renamed into place. `what` names it in the two messages (generating, and once per process: using)."""
    target = cache_dir("synthetic") / folder_name

    def complete() -> bool:
        try:
            info = json.loads((target / "info.json").read_text())
        except (OSError, ValueError):
            return False
        return info.get("version") == version and info.get("size") == size and info.get("seed") == seed

    if not complete():
        target.parent.mkdir(parents=True, exist_ok=True)
        with _Lock(target.parent / f".{target.name}.lock"):
            if not complete():
                temporary = target.parent / f".{target.name}.tmp-{os.getpid()}"
                _say(f"generating the {what} into {target}; this happens once")
                try:
                    generate(temporary)
                    shutil.rmtree(target, ignore_errors=True)
                    os.rename(temporary, target)
                finally:
                    shutil.rmtree(temporary, ignore_errors=True)
    if target not in _ANNOUNCED:
        _ANNOUNCED.add(target)
        _say(f"using the {what} at {target}")
    return target


def coco_data_dir(size: str = "small", seed: int = 0) -> Path:
    """Root of the cached synthetic COCO person-keypoints split (coco/annotations, coco/{train,val}2017), made
    on first use only: the MPII / Human3.6M dataset and `make demo` never pay for it."""
    def generate(temporary: Path) -> None:
        from synthetic.generate import default_workers
        from synthetic.generate_coco import generate_coco

        generate_coco(temporary, size=size, seed=seed, workers=default_workers())

    return _cached_split(f"coco_{size}_seed{seed}", COCO_GENERATOR_VERSION, size, seed,
                         f"{size} synthetic COCO split (seed {seed})", generate)


def coco_root(data_dir: str | Path | None) -> Path:
    """The COCO root a command reads (the folder holding annotations/): `--data_dir` when given, else the cached
    synthetic COCO split (small, seed 0)."""
    return Path(data_dir) if data_dir else coco_data_dir() / "coco"


def clips_data_dir(size: str = "small", seed: int = 0) -> Path:
    """Root of the cached clips split (h36m/, info.json) of the dataset of this size and seed: consecutive rendered
    frames for action clips (`synthetic.clip_split`), generated the first time a command asks for it (the dataset
    first, if needed). Additive: the dataset's own folder is never changed."""
    target = cache_dir("synthetic") / f"{size}_seed{seed}_clips"
    if not is_complete_clips(target, size, seed):
        dataset = default_data_dir(size, seed)
        target.parent.mkdir(parents=True, exist_ok=True)
        with _Lock(target.parent / f".{target.name}.lock") as lock:
            if not is_complete_clips(target, size, seed):
                _generate_into(target, size, seed, remove_leftovers=lock.held, clips_of=dataset)
    if target not in _ANNOUNCED:
        _ANNOUNCED.add(target)
        _say(f"using the clips split of the {size} synthetic dataset (seed {seed}) at {target}")
    return target


def data_root(data_dir: str | Path | None) -> Path:
    """The dataset root a command reads: `--data_dir` when given, else the embedded synthetic dataset (the small
    size, seed 0, generated once). The one place where the default of `--data_dir` is decided."""
    return Path(data_dir) if data_dir else default_data_dir()


def _generate_into(target: Path, size: str, seed: int, remove_leftovers: bool, clips_of: Path | None = None) -> None:
    """Generate the dataset (or, with `clips_of` its folder, its clips split) into a temporary folder, then rename."""
    from synthetic.generate import default_workers, generate_dataset

    leftovers = [*target.parent.glob(f".{target.name}.tmp-*"), *target.parent.glob(f".{target.name}.stale-*")]
    for leftover in leftovers if remove_leftovers else ():
        shutil.rmtree(leftover, ignore_errors=True)  # from a killed generator (only the lock holder generates)
    temporary = target.parent / f".{target.name}.tmp-{os.getpid()}"
    what = f"the clips split of the {size} synthetic dataset" if clips_of else f"the {size} synthetic dataset"
    _say(f"generating {what} (seed {seed}) into {target}; this happens once")
    try:
        if clips_of is None:
            generate_dataset(temporary, size=size, seed=seed, workers=default_workers())
        else:
            from synthetic.clip_split import generate_clips

            generate_clips(temporary, clips_of, size=size, seed=seed, workers=default_workers())
        if target.exists():  # an older generator version or an interrupted copy
            stale = target.parent / f".{target.name}.stale-{os.getpid()}"
            os.rename(target, stale)
            shutil.rmtree(stale, ignore_errors=True)
        os.rename(temporary, target)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)


HUMANEVA_VERSION = "1.0"  # synthetic.write_humaneva.HUMANEVA_VERSION (kept here: this module imports no generator)


def humaneva_data_dir(size: str = "small", seed: int = 0) -> Path:
    """Root of the cached synthetic HumanEva-I dataset (humaneva/, info.json), generated the first time a HumanEva
    command asks: its own cache entry `synthetic/humaneva_<size>_seed<seed>/`, so the other commands never pay."""
    def generate(temporary: Path) -> None:
        from synthetic.write_humaneva import generate_humaneva

        generate_humaneva(temporary, size, seed)

    return _cached_split(f"humaneva_{size}_seed{seed}", HUMANEVA_VERSION, size, seed,
                         f"{size} synthetic HumanEva-I dataset (seed {seed})", generate)


def humaneva_root(data_dir: str | Path | None) -> Path:
    """The folder holding data_3d_humaneva15.npz: `--data_dir` (itself or its humaneva/), else the embedded one."""
    if not data_dir:
        return humaneva_data_dir() / "humaneva"
    folder = Path(data_dir)
    return folder / "humaneva" if (folder / "humaneva").is_dir() else folder
