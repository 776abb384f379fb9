"""Reading other projects' torch files (released checkpoints, statistics) without running code from them.

Their files hold tensors and literals, which `torch.load(weights_only=True)` reads, and sometimes NumPy arrays
(3d_pose_baseline_pytorch's `stat_3d.pth.tar` is a dict of them; a checkpoint's `err` may be a NumPy scalar),
which it refuses. `load_peer_torch_file` allows exactly NumPy's array reconstruction on top of weights_only:
`numpy.core.multiarray._reconstruct` / `scalar` (under NumPy 1's and NumPy 2's module names), `numpy.ndarray`,
`numpy.dtype` and the dtype classes of the plain numeric types; no other class or function can be named by the
file, so nothing else is unpickled or called. The allowance is scoped to the one call (a context manager), not
added to torch's global list.
"""
from __future__ import annotations

import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from utils.errors import InputError
from utils.npz import ALLOWED as NUMPY_RECONSTRUCTION  # the same constructors `utils.npz` allows

_PLAIN_DTYPES = (np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
                 np.float16, np.float32, np.float64)


def numpy_array_globals() -> list:
    """What `torch.serialization.safe_globals` needs to rebuild NumPy arrays and scalars, and nothing more."""
    named = [(function, f"{module}.{name}") for (module, name), function in NUMPY_RECONSTRUCTION.items()]
    return named + [type(np.dtype(kind)) for kind in _PLAIN_DTYPES]


def load_peer_torch_file(path: str | Path, what: str) -> Any:
    """The object in a torch file (legacy or zip format), tensors on the CPU; NumPy arrays allowed (see above).

    what: the file's role for messages ('a 3d_pose_baseline_pytorch checkpoint'). InputError naming the file when
    it is missing, unreadable or holds anything else (the name of the refused object in the message)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found (expected {what})")
    try:
        with torch.serialization.safe_globals(numpy_array_globals()):
            return torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, zipfile.BadZipFile, EOFError, RuntimeError, OSError) as error:
        detail = next((line.strip() for line in str(error).splitlines() if "Unsupported global" in line
                       or "allowlisted" in line), str(error).strip().splitlines()[0] if str(error).strip() else "")
        raise InputError(f"{path}: cannot be read as {what}: truncated or corrupt, or it holds Python objects "
                         f"other than tensors, literals and NumPy arrays, which are not loaded ({detail})") from error
