"""Field access for the MPII readers (`annotations.py`): arrays checked for shape and values, with errors that name
the file and the field, and the head size of people without a head box."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from utils.errors import InputError
from utils.skeletons import MPII
from utils.validation import finite_values

NUM_JOINTS = MPII.num_joints
# Head size (0.6 x head-box diagonal) over the upper_neck - head_top distance, the mean over the MPII
# validation split (valid.h5); used only when a record has no head box.
HEAD_SIZE_PER_HEAD_SEGMENT = 0.75


def head_size_from_joints(joints_px: np.ndarray) -> np.ndarray:
    """(N, 16, 2) image px -> (N,) estimated PCKh normaliser, px."""
    segment = np.linalg.norm(joints_px[:, MPII.index("head_top")] - joints_px[:, MPII.index("upper_neck")], axis=-1)
    return HEAD_SIZE_PER_HEAD_SEGMENT * segment


def _readable(shape: tuple) -> str:
    return "(" + ", ".join("N" if size is None else str(size) for size in shape) + ")"


def checked_joints(values: Any, path: Path, field: str, shape: tuple, finite: bool = True) -> np.ndarray:
    """`values` (a file's field) as float64 of `shape` (None: any size there), finite; else an InputError."""
    if values is None:
        raise InputError(f"{path}: missing the field '{field}' (expected {_readable(shape)})")
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InputError(f"{path}: field '{field}' is not a regular array of numbers ({error})") from error
    if array.ndim != len(shape) or any(s is not None and a != s for a, s in zip(array.shape, shape)):
        hint = " (joints before x/y)" if shape == (None, NUM_JOINTS, 2) and array.shape[1:] == (2, NUM_JOINTS) else ""
        raise InputError(f"{path}: field '{field}' has shape {array.shape}, expected {_readable(shape)}{hint}")
    bad = ~np.isfinite(array)
    if finite and bad.any():
        where = np.argwhere(bad)[0]
        first = (f"person {where[0]}, joint {MPII.joint_names[where[1]]}" if shape[1:] == (NUM_JOINTS, 2)
                 else f"index {tuple(int(i) for i in where)}")
        raise InputError(f"{path}: field '{field}' holds {int(bad.sum())} NaN/inf values (first: {first}); remove "
                         f"or fill those rows")
    return array


def array_field(record: dict, key: str, shape: tuple, path: Path, position: int) -> np.ndarray:
    """One field of a JSON person record, as a float64 array of `shape`."""
    if key not in record:
        raise InputError(f"{path}: record {position} has no field '{key}'")
    try:
        value = np.asarray(record[key], dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InputError(f"{path}: record {position} field '{key}' is not numeric ({error})") from error
    if value.shape != shape:
        raise InputError(f"{path}: record {position} field '{key}' has shape {value.shape}, expected {shape}")
    if not np.isfinite(value).all():
        raise InputError(f"{path}: record {position} field '{key}' holds NaN/inf ({record[key]}); fix or remove the "
                         f"record")
    return value


def optional_rows(data: dict, key: str, shape: tuple, path: Path, finite: bool = False,
                  positive: bool = False) -> np.ndarray | None:
    """A per-person field (first dimension = the number of people) when the file has it, else None; `finite` /
    `positive`: every value must be (an InputError naming the first bad person otherwise)."""
    if key not in data:
        return None
    value = np.asarray(data[key])
    if value.shape != shape:
        raise InputError(f"{path}: field '{key}' has shape {value.shape}, expected {shape}")
    if finite or positive:
        try:
            value = finite_values(value, path, key, "person")
        except ValueError as error:
            raise InputError(f"{path}: field '{key}' is not numeric ({error})") from error
    if positive and not (value > 0).all():
        first = int(np.argwhere(~(value > 0))[0][0])
        raise InputError(f"{path}: field '{key}' must be positive, person {first} has "
                         f"{value.reshape(len(value), -1)[first].tolist()}")
    return value


def head_size_from_box(box: np.ndarray, path: Path, field: str, record: int | None = None) -> np.ndarray:
    """(N, 2, 2) head boxes [[x1, y1], [x2, y2]] image px (or one (2, 2) box of JSON record `record`) -> (N,) PCKh
    normaliser 0.6 x diagonal; a zero-size box (every PCKh of the person would be 0) is an InputError naming the
    first."""
    size = 0.6 * np.linalg.norm(box[..., 1, :] - box[..., 0, :], axis=-1)
    if not (size > 0).all():
        first = np.argwhere(~(size > 0))[0]
        who = f" (record {record})" if record is not None else f" (person {int(first[0])})" if first.size else ""
        raise InputError(f"{path}: field '{field}' has a zero-size head box{who}; PCKh needs the head size: fix or "
                         f"remove that person")
    return size


def mat_fields(path: Path) -> dict[str, Any]:
    """The variables of a MATLAB .mat file."""
    import scipy.io

    try:
        return scipy.io.loadmat(str(path))
    except Exception as error:  # scipy raises several types for a bad file
        raise InputError(f"{path}: cannot be read as a MATLAB .mat file ({error})") from error


def sibling_image_names(path: Path, count: int) -> np.ndarray | None:
    """Image names of a .mat written by run.py: they are in the .npz beside it (field image_names)."""
    sibling = path.with_suffix(".npz")
    if not sibling.is_file():
        return None
    try:
        with np.load(sibling) as data:
            names = data["image_names"] if "image_names" in data.files else None
    except (OSError, ValueError):
        return None
    return names.astype(str) if names is not None and len(names) == count else None
