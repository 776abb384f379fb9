"""Readers for Human3.6M pose files, in the layouts users bring.

- 3D pose baseline layout: `S{n}/MyPoses/3D_positions/<Action[ N]>.h5` with `3D_positions` (96, T) world mm,
  optional detections `S{n}/StackedHourglass/<Action_N>.<camera>.h5` with `poses` (T, 16, 2), and `cameras.h5`.
- VideoPose3D layout: `data_3d_h36m.npz` (positions_3d[subject][action] (T, 32, 3) world metres) and
  `data_2d_h36m_*.npz` (positions_2d[subject][action] = 4 x (T, J, 2) px, plus metadata).
Both give {(subject, action): (T, 32, 3) world mm}; the rest of the code does not care which layout was read.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import h5py
import numpy as np

from synthetic import data_root
from utils.errors import InputError
from utils.npz import load_npz

TRAIN_SUBJECTS: tuple[int, ...] = (1, 5, 6, 7, 8)
TEST_SUBJECTS: tuple[int, ...] = (9, 11)
# Sequences known to be corrupt in the real data set: dropped by default.
CORRUPT_SEQUENCES: frozenset[tuple[int, str]] = frozenset({(11, "Directions")})

PoseSequences = dict[tuple[int, str], np.ndarray]
# Detections of the 3D pose baseline use other names for two actions of some subjects.
DETECTION_ACTION_ALIASES: dict[str, tuple[str, ...]] = {"Photo": ("TakingPhoto",), "TakingPhoto": ("Photo",),
                                                        "WalkDog": ("WalkingDog",), "WalkingDog": ("WalkDog",)}


def add_subject_options(group: argparse._ArgumentGroup, held_out: str = "test") -> None:
    """--train_subjects and --<held_out>_subjects (Human3.6M subject numbers), for the training scripts."""
    group.add_argument("--train_subjects", type=int, nargs="+", default=list(TRAIN_SUBJECTS),
                       help="Human3.6M subjects to train on")
    group.add_argument(f"--{held_out}_subjects", type=int, nargs="+", default=list(TEST_SUBJECTS),
                       help=f"Human3.6M subjects held out for {'testing' if held_out == 'test' else 'validation'}")


def check_subject_options(opts: argparse.Namespace, held_out: str = "test") -> str | None:
    """A usage message when the training and held-out subjects overlap, else None."""
    overlap = sorted(set(opts.train_subjects) & set(getattr(opts, f"{held_out}_subjects")))
    return f"--train_subjects and --{held_out}_subjects overlap: {overlap}" if overlap else None


def frame_names(subjects, actions, cameras, frames) -> np.ndarray:
    """(N,) row names 'S9/Walking 1/54138969/000123' (subject, action as in the files, camera id, frame)."""
    return np.array([f"S{int(s)}/{a}/{c}/{int(f):06d}" for s, a, c, f in zip(subjects, actions, cameras, frames)])


def h36m_folder(data_dir: str | Path | None) -> Path:
    """The folder holding S<n>/ (or data_3d_h36m.npz) and, optionally, cameras.h5 (without it the built-in
    Human3.6M cameras are used): DATA_DIR, or its h36m/ subfolder (the synthetic layout); without a DATA_DIR, the
    embedded synthetic dataset's (`synthetic.data_root`)."""
    folder = data_root(data_dir)
    if not (folder / "cameras.h5").is_file() and (folder / "h36m").is_dir():
        folder = folder / "h36m"
    return folder


def check_finite(values: np.ndarray, path: Path | str, field: str) -> None:
    """InputError naming the file, the field and the first bad frame when `values` holds NaN or inf."""
    bad = ~np.isfinite(values)
    if bad.any():
        frame = int(np.argwhere(bad)[0][0])
        raise InputError(f"{path}: '{field}' holds {int(bad.sum())} NaN/inf values (first in frame {frame}); "
                         f"remove or fill those frames")


def read_h5_dataset(path: Path, name: str, expected: str) -> np.ndarray:
    """The dataset `name` of an HDF5 file as float64; InputError naming the file for a corrupt file or a missing
    or non-numeric dataset."""
    try:
        with h5py.File(path, "r") as handle:
            if name not in handle:
                raise InputError(f"{path}: missing the dataset '{name}' (expected {expected})")
            return np.asarray(handle[name][()], dtype=np.float64)
    except (OSError, TypeError, ValueError) as error:
        if isinstance(error, InputError):
            raise
        raise InputError(f"{path}: cannot be read as HDF5 with a numeric '{name}' ({error})") from error


def _subject_number(name: str, where: Path) -> int:
    if not (name.startswith("S") and name[1:].isdigit()):
        raise InputError(f"{where}: subject key '{name}' is not of the form S<number>")
    return int(name[1:])


def read_baseline_3d(data_dir: str | Path, subjects: tuple[int, ...], drop_corrupt: bool = True) -> PoseSequences:
    """Read `S{n}/MyPoses/3D_positions/*.h5` -> {(subject, action): (T, 32, 3) world mm}."""
    data_dir = Path(data_dir)
    poses: PoseSequences = {}
    for subject in subjects:
        folder = data_dir / f"S{subject}" / "MyPoses" / "3D_positions"
        if not folder.is_dir():
            raise InputError(f"{folder}: folder not found (expected the 3D pose baseline layout "
                             f"S{subject}/MyPoses/3D_positions/<Action>.h5 under --data_dir)")
        for path in sorted(folder.glob("*.h5")):
            action = path.stem
            if drop_corrupt and (subject, action) in CORRUPT_SEQUENCES:
                continue
            positions = read_h5_dataset(path, "3D_positions", "(96, T) world mm")
            if positions.ndim != 2 or positions.shape[0] != 96:
                raise InputError(f"{path}: '3D_positions' has shape {positions.shape}, expected (96, T)")
            check_finite(positions.T, path, "3D_positions")
            poses[(subject, action)] = positions.T.reshape(-1, 32, 3)
    return poses


def videopose3d_table(path: Path, key: str, expected: str,
                      fields: dict[str, np.ndarray] | None = None) -> tuple[dict, dict[str, np.ndarray]]:
    """The {subject: {action: array}} table stored under `key` in a VideoPose3D npz file, and all its members.
    fields: the file's members when the caller has read them already (`utils.npz.load_npz`), so it is read once."""
    if fields is None and not path.is_file():
        raise InputError(f"{path}: file not found (expected VideoPose3D {expected})")
    data = load_npz(path) if fields is None else fields  # object members as plain data: a crafted file runs nothing
    if key not in data:
        raise InputError(f"{path}: missing the key '{key}'")
    table = data[key].item() if data[key].dtype == object and data[key].ndim == 0 else None
    if not isinstance(table, dict):
        raise InputError(f"{path}: '{key}' is not a {{subject: {{action: array}}}} table")
    return table, data


def videopose3d_layout(fields: dict[str, np.ndarray]) -> str:
    """'coco' for a VideoPose3D 2D file whose metadata says COCO keypoints (its detectron_pt_coco files), else
    'h36m' (its Human3.6M files: gt, cpn_ft_h36m_dbb, ...). fields: the file's members (`utils.npz.load_npz`)."""
    metadata = fields.get("metadata")
    metadata = metadata.item() if metadata is not None and metadata.dtype == object and metadata.ndim == 0 else None
    if not isinstance(metadata, dict):
        return "h36m"
    symmetry = metadata.get("keypoints_symmetry")
    left = list(symmetry[0])[:3] if isinstance(symmetry, (list, tuple)) and len(symmetry) == 2 else []
    return "coco" if metadata.get("layout_name") == "coco" or left == [1, 3, 5] else "h36m"


def read_videopose3d_3d(path: str | Path, subjects: tuple[int, ...], drop_corrupt: bool = True) -> PoseSequences:
    """Read VideoPose3D `data_3d_h36m.npz` -> {(subject, action): (T, 32, 3) world mm}."""
    path = Path(path)
    by_subject, _ = videopose3d_table(path, "positions_3d", "data_3d_h36m.npz")
    poses: PoseSequences = {}
    for subject_name, actions in by_subject.items():
        subject = _subject_number(subject_name, path)
        if subject not in subjects:
            continue
        for action, positions in actions.items():
            if drop_corrupt and (subject, action) in CORRUPT_SEQUENCES:
                continue
            positions = np.asarray(positions, dtype=np.float64)
            if positions.ndim != 3 or positions.shape[1:] != (32, 3):
                raise InputError(f"{path}: positions_3d['{subject_name}']['{action}'] has shape {positions.shape}, "
                                 f"expected (T, 32, 3)")
            check_finite(positions, path, f"positions_3d['{subject_name}']['{action}']")
            poses[(subject, action)] = positions * 1000.0  # metres -> mm
    return poses


def read_videopose3d_2d(path: str | Path, subjects: tuple[int, ...], fields: dict[str, np.ndarray] | None = None
                        ) -> tuple[dict[tuple[int, str], list[np.ndarray]], str]:
    """Read VideoPose3D `data_2d_h36m_*.npz` -> {(subject, action): [4 x (T, J, 2) px]} in camera order, and the
    file's joint layout from its metadata ('h36m' or 'coco', `videopose3d_layout`). fields: its members if read."""
    path = Path(path)
    by_subject, fields = videopose3d_table(path, "positions_2d", "data_2d_h36m_<source>.npz", fields)
    keypoints = {}
    for subject_name, actions in by_subject.items():
        subject = _subject_number(subject_name, path)
        if subject in subjects:
            for action, per_camera in actions.items():
                keypoints[(subject, action)] = [np.asarray(k, dtype=np.float64) for k in per_camera]
    return keypoints, videopose3d_layout(fields)


def read_baseline_detections(data_dir: str | Path, subject: int, action: str, camera_id: str) -> np.ndarray | None:
    """Stacked-hourglass detections `S{n}/StackedHourglass/<Action_N>.<camera>.h5` (T, 16, 2) px, or None."""
    base, _, number = action.partition(" ")
    folder = Path(data_dir) / f"S{subject}" / "StackedHourglass"
    candidates = [folder / f"{'_'.join(filter(None, (name, number)))}.{camera_id}.h5"
                  for name in (base, *DETECTION_ACTION_ALIASES.get(base, ()))]
    path = next((c for c in candidates if c.is_file()), None)
    if path is None:
        return None
    poses = read_h5_dataset(path, "poses", "(T, 16, 2) px")
    if poses.ndim != 3 or poses.shape[1:] != (16, 2):
        raise InputError(f"{path}: 'poses' has shape {poses.shape}, expected (T, 16, 2)")
    check_finite(poses, path, "poses")
    return poses


def read_h36m_poses(data_dir: str | Path, subjects: tuple[int, ...], drop_corrupt: bool = True) -> PoseSequences:
    """3D poses from whichever layout `data_dir` holds: the baseline's h5 files, else `data_3d_h36m.npz`."""
    data_dir = Path(data_dir)
    if any((data_dir / f"S{s}" / "MyPoses").is_dir() for s in subjects):
        return read_baseline_3d(data_dir, subjects, drop_corrupt)
    if (data_dir / "data_3d_h36m.npz").is_file():
        return read_videopose3d_3d(data_dir / "data_3d_h36m.npz", subjects, drop_corrupt)
    raise InputError(f"{data_dir}: no Human3.6M poses found (expected S<n>/MyPoses/3D_positions/*.h5 "
                     f"or data_3d_h36m.npz)")
