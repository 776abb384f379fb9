"""Checks every reader and command shares, each raising an `InputError` (`OutputError` for outputs) that names the
file or option, the field and what was expected:

- `finite_values`: NaN/inf in a field, with the first record that holds one;
- `check_output_location`: an output folder (--output_dir, --checkpoint_dir, ...) that can be created and written,
  checked before the work starts, so that no work is lost to a typo or a read-only disk;
- `plain_name`: a name that becomes part of a file or folder name (--exp, --model_names) stays one name;
- `relative_inside`: an image path of an annotation file stays inside the image folder;
- `check_image_file` / `check_image_pixels`: a path named like an image is a regular file (not a FIFO, which would
  block the reader forever, nor a folder) of a sane size;
- `unit_scale_hint`: 3D predictions about 1000x smaller or larger than the ground truth (metres scored as mm).
"""
from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Iterable

import numpy as np

from utils.errors import InputError, OutputError

# PIL refuses images above twice its MAX_IMAGE_PIXELS (89,478,485) as decompression bombs; the same limit for OpenCV.
MAX_IMAGE_PIXELS = 2 * 89_478_485


def finite_values(values: np.ndarray, path: str | Path, field: str, record_name: str = "record") -> np.ndarray:
    """`values` as float64 when every entry is finite; else an InputError naming the first bad record (axis 0)."""
    array = np.asarray(values, dtype=np.float64)
    bad = ~np.isfinite(array)
    if bad.any():
        first = np.argwhere(bad)[0]
        where = f"{record_name} {int(first[0])}" if array.ndim else "the value"
        raise InputError(f"{path}: field '{field}' holds {int(bad.sum())} NaN/inf value(s) (first: {where}); remove "
                         f"or fix those records")
    return array


def check_output_location(path: str | Path, option: str) -> None:
    """The folder `path` (given as `option`) exists and is writable, or can be created: the first existing ancestor
    is a writable folder. Creates nothing."""
    path = Path(path)
    probe = path
    while not os.path.lexists(probe):
        if probe.parent == probe:
            break
        probe = probe.parent
    if os.path.lexists(probe) and not probe.is_dir():
        raise OutputError(f"{option} {path}: {probe} is a file, not a folder; give a folder to write into")
    if not os.access(probe, os.W_OK | os.X_OK):
        what = "folder" if probe == path else f"folder {probe}, where {path} would be created,"
        raise OutputError(f"{option} {path}: the {what} is not writable; give a writable folder")


def plain_name(name: str, option: str) -> str | None:
    """A usage message when `name` (a part of a file or folder name) is empty, '.'/'..' or holds a path separator,
    so that it could not write outside its folder; else None."""
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        return (f"{option} '{name}' must be a plain name (no '/', '\\', '..'): it becomes part of a file or folder "
                f"name inside its folder")
    return None


def relative_inside(names: Iterable[str], folder: str | Path, source: str | Path, field: str,
                    allow_outside: bool = False) -> None:
    """Image paths of an annotation file are relative and stay inside `folder`: an absolute path or one that
    climbs out with '..' is an InputError unless `allow_outside` (--allow_outside_paths)."""
    if allow_outside:
        return
    for position, name in enumerate(names):
        name = str(name)
        windows = PureWindowsPath(name)
        if PurePosixPath(name).is_absolute() or windows.drive or windows.root:
            problem = "is an absolute path"
        else:
            depth = 0
            for part in PurePosixPath(name.replace("\\", "/")).parts:
                depth += -1 if part == ".." else (0 if part == "." else 1)
                if depth < 0:
                    break
            if depth >= 0:
                continue
            problem = "leaves the folder ('..')"
        raise InputError(f"{source}: {field} of record {position} ('{name}') {problem}; image paths are read "
                         f"relative to {folder}. Fix the file, or pass --allow_outside_paths if it is meant")


def check_image_file(path: str | Path) -> None:
    """InputError unless `path` is a regular file (a FIFO would block its reader forever; a folder is no image).
    A path that does not exist passes: readers report missing images their own way."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as error:
        raise InputError(f"{path}: cannot be read ({error.strerror})") from error
    if stat.S_ISREG(mode):
        return
    kind = ("a folder" if stat.S_ISDIR(mode) else "a FIFO (named pipe)" if stat.S_ISFIFO(mode)
            else "a socket" if stat.S_ISSOCK(mode) else "a device")
    raise InputError(f"{path}: is {kind}, not an image file")


def check_image_pixels(width: int, height: int, path: str | Path) -> None:
    """InputError for an image above MAX_IMAGE_PIXELS (a decompression bomb or a mislabelled file)."""
    if int(width) * int(height) > MAX_IMAGE_PIXELS:
        raise InputError(f"{path}: image of {width} x {height} px ({width * height / 1e6:.0f} megapixels) is above "
                         f"the limit of {MAX_IMAGE_PIXELS / 1e6:.0f} megapixels; downscale it first")


def unit_scale_hint(pred: np.ndarray, truth: np.ndarray) -> str | None:
    """A warning when the predictions' size (mean distance of the joints to the root) is about 1000x off the
    ground truth's (metres against mm, or mm against metres); pred, truth: (N, J, 3) root-relative. Else None."""
    pred_size = float(np.linalg.norm(pred, axis=-1).mean())
    truth_size = float(np.linalg.norm(truth, axis=-1).mean())
    if pred_size <= 0 or truth_size <= 0:
        return None
    ratio = truth_size / pred_size
    if 100.0 <= ratio:
        return (f"the predictions are {ratio:.0f}x smaller than the ground truth (mean joint distance to the root "
                f"{pred_size:.4g} against {truth_size:.4g} mm): are they in metres? They are scored as mm")
    if ratio <= 0.01:
        return (f"the predictions are {1 / ratio:.0f}x larger than the ground truth (mean joint distance to the "
                f"root {pred_size:.4g} against {truth_size:.4g} mm): is the ground truth in metres?")
    return None
