"""Atomic file writes: readers (other processes, a resumed run) see the old file or the new one, never half of one.

`atomic_path` hands out a temporary file in the target's folder and renames it onto the target when the block ends
without error (removing it otherwise); every writer in stitchpose goes through it: checkpoints, cached tensors and
statistics, the hourglass crop cache.
"""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import torch


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path` (parents created); on success it is fsynced and renamed onto `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    temp = Path(temp_name)
    try:
        yield temp
        with open(temp, "rb+") as stream:
            os.fsync(stream.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


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
