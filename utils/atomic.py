"""Atomic file writes: readers (other processes, a resumed run) see the old file or the new one, never half of one.

`atomic_path` hands out a temporary file in the target's folder and renames it onto the target when the block ends
without error (removing it otherwise); every writer in stitchpose goes through it: checkpoints, cached tensors and
statistics, the hourglass crop cache, predictions, reports and pictures.
- The finished file gets the permissions of any other new file (0o666 minus the umask), not mkstemp's 0600.
- A write that fails (a full disk, a folder turned read-only) raises `OutputError` naming the file and the cause;
  the target keeps its earlier content.
- Temporary files are named `.<target>.<pid>.<random>.tmp`: one left by a killed writer (its process is gone) is
  removed by `remove_orphan_temps` when the run or cache that owns the folder starts again.
"""
from __future__ import annotations

import errno
import os
import re
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch

from utils.errors import OutputError
from utils.processes import process_alive

TEMP_PATTERN = re.compile(r"^\..+\.(?P<pid>\d+)\.[^.]+\.tmp$")
UNTAGGED_TEMP_AGE_S = 3600.0  # a temporary file without a writer pid is an orphan once this old
WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO, errno.EFBIG,
                errno.ENOENT}


def file_mode() -> int:
    """The permissions a newly created file gets under the process's umask (0o644 under umask 022)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _is_write_failure(error: BaseException) -> bool:
    """A full disk, a quota, a read-only or vanished folder, an I/O error; torch.save reports those as a
    RuntimeError ("PytorchStreamWriter failed writing file ...")."""
    if isinstance(error, OSError) and not isinstance(error, OutputError):
        return error.errno in WRITE_ERRNOS
    return isinstance(error, RuntimeError) and "writ" in str(error).lower()


def _write_failed(path: Path, error: BaseException) -> OutputError:
    text = str(error).strip()
    cause = getattr(error, "strerror", None) or (text.splitlines()[0] if text else type(error).__name__)
    return OutputError(f"{path}: cannot be written ({cause}); the earlier file, if any, is unchanged")


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path` (parents created); on success it is fsynced and renamed onto `path`."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
        os.close(handle)
    except OSError as error:
        raise _write_failed(path, error) from error
    temp = Path(temp_name)
    try:
        yield temp
        with open(temp, "rb+") as stream:
            os.fsync(stream.fileno())
        os.chmod(temp, file_mode())
        os.replace(temp, path)
    except BaseException as error:
        temp.unlink(missing_ok=True)
        if _is_write_failure(error):
            raise _write_failed(path, error) from error
        raise


def remove_orphan_temps(folder: str | Path) -> list[Path]:
    """Remove the temporary files of `atomic_path` in `folder` whose writer process is gone (untagged ones once
    an hour old); returns what was removed."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    removed = []
    for entry in folder.iterdir():
        if not entry.name.endswith(".tmp") or not entry.name.startswith(".") or entry.is_symlink():
            continue
        match = TEMP_PATTERN.match(entry.name)
        try:
            orphan = (not process_alive(int(match["pid"]))) if match else \
                time.time() - entry.stat().st_mtime > UNTAGGED_TEMP_AGE_S
            if orphan and entry.is_file():
                entry.unlink()
                removed.append(entry)
        except OSError:
            continue
    return removed


def save_torch_atomic(payload: Any, path: str | Path) -> Path:
    """`torch.save(payload)` to `path` atomically (tensors and literals only, so `weights_only` loading reads it)."""
    with atomic_path(path) as temp:
        torch.save(payload, temp)
    return Path(path)


def write_text_atomic(text: str, path: str | Path) -> Path:
    """Write a small text file (JSON statistics, ...) atomically."""
    with atomic_path(path) as temp:
        temp.write_text(text)
    return Path(path)


def save_npz_atomic(path: str | Path, **arrays: Any) -> Path:
    """`np.savez(path, **arrays)` atomically (written through a file object: np.savez would append '.npz')."""
    with atomic_path(path) as temp, open(temp, "wb") as stream:
        np.savez(stream, **arrays)
    return Path(path)


def save_mat_atomic(path: str | Path, variables: dict[str, Any]) -> Path:
    """`scipy.io.savemat(path, variables)` atomically."""
    import scipy.io

    with atomic_path(path) as temp, open(temp, "wb") as stream:
        scipy.io.savemat(stream, variables)
    return Path(path)


def save_figure_atomic(figure: Any, path: str | Path, **savefig_options: Any) -> Path:
    """`figure.savefig(path)` (matplotlib) atomically; the format is the target's suffix (png by default)."""
    fmt = savefig_options.pop("format", None) or (Path(path).suffix.lstrip(".") or "png")
    with atomic_path(path) as temp, open(temp, "wb") as stream:
        figure.savefig(stream, format=fmt, **savefig_options)
    return Path(path)
