"""Reading `.npz` files without running code from them.

NumPy stores object arrays (VideoPose3D's `positions_3d`, `positions_2d`, `metadata`: dicts of arrays) as pickles,
and `np.load(..., allow_pickle=True)` would run whatever a crafted file's pickle asks for. `load_npz` reads numeric
and string members as NumPy does with pickles off, and rebuilds object members with an unpickler that knows only
the few NumPy constructors such arrays need (plain dicts, lists, tuples, strings and numbers need none); any other
name in the pickle stops the read with an `InputError` naming the file, the member and the name.
"""
from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

from utils.errors import InputError

_MULTIARRAY = ("numpy._core.multiarray", "numpy.core.multiarray")
ALLOWED = {**{(module, name): getattr(np._core.multiarray, name)
              for module in _MULTIARRAY for name in ("_reconstruct", "scalar")},
           ("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype}


class _PlainDataUnpickler(pickle.Unpickler):
    def __init__(self, stream, where: str):
        super().__init__(stream)
        self.where = where

    def find_class(self, module: str, name: str):
        if (module, name) in ALLOWED:
            return ALLOWED[(module, name)]
        raise InputError(f"{self.where}: holds a pickled '{module}.{name}', which is not plain data (arrays, dicts, "
                         f"lists, strings, numbers); refusing to unpickle it")


def _read_member(stream, where: str) -> np.ndarray:
    version = npy_format.read_magic(stream)
    read_header = npy_format.read_array_header_1_0 if version == (1, 0) else npy_format.read_array_header_2_0
    shape, _, dtype = read_header(stream)
    if not dtype.hasobject:
        stream.seek(0)
        return npy_format.read_array(stream, allow_pickle=False)
    try:
        array = _PlainDataUnpickler(stream, where).load()
    except InputError:
        raise
    except Exception as error:  # a truncated or malformed pickle
        raise InputError(f"{where}: unreadable object data ({type(error).__name__}: {error})") from error
    if not isinstance(array, np.ndarray) or array.shape != shape:
        raise InputError(f"{where}: object data does not match its header (expected an array of shape {shape})")
    return array


def load_npz(path: str | Path) -> dict[str, np.ndarray]:
    """{member name: array} of an `.npz` file (object members rebuilt as plain data only, see above)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise InputError(f"{path}: not an .npz file ({error})") from error
    members: dict[str, np.ndarray] = {}
    with archive:
        for name in archive.namelist():
            key = name.removesuffix(".npy")
            try:
                data = io.BytesIO(archive.read(name))
                members[key] = _read_member(data, f"{path}: '{key}'")
            except (ValueError, OSError, zipfile.BadZipFile, EOFError) as error:
                raise InputError(f"{path}: member '{key}' is not a readable array ({error})") from error
    return members
