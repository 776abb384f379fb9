"""MPII person records from the files users bring: `mpii_annotations.json` (record list) and `annot/valid.h5`.

A dataset folder holds `images/` plus `mpii_annotations.json` and/or `annot/valid.h5` (the embedded synthetic
dataset keeps them under `ROOT/mpii/`). The validation split is valid.h5 when present (the standard Tompson split,
in the order of the ground-truth files), otherwise the JSON records with `isValidation`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path

import h5py
import numpy as np

from synthetic import data_root
from utils.errors import InputError
from utils.skeletons import MPII

NUM_JOINTS = MPII.num_joints
JSON_NAME = "mpii_annotations.json"
VALID_H5_NAME = "annot/valid.h5"
# Head size (0.6 x head-box diagonal) over the upper_neck - head_top distance, the mean over the MPII
# validation split (valid.h5); used only when a record has no head box.
HEAD_SIZE_PER_HEAD_SEGMENT = 0.75


@dataclass
class PersonRecords:
    """N people. Boxes use the hourglass convention: centre = objpos with y + 15 * s, side = 200 * s * 1.25 px."""

    image_names: np.ndarray  # (N,) str, relative to images/
    joints_px: np.ndarray  # (N, 16, 2) image px
    annotated: np.ndarray  # (N, 16) 1 where the joint is labelled
    visible: np.ndarray  # (N, 16) 1 where the joint is labelled and not occluded
    center_px: np.ndarray  # (N, 2) adjusted box centre
    box_px: np.ndarray  # (N,) square box side
    head_size_px: np.ndarray  # (N,) PCKh normaliser, 0.6 x head-box diagonal

    def __len__(self) -> int:
        return len(self.image_names)

    def subset(self, index: np.ndarray) -> "PersonRecords":
        return PersonRecords(**{f.name: getattr(self, f.name)[index] for f in fields(self)})


def _head_size_from_joints(joints_px: np.ndarray) -> np.ndarray:
    segment = np.linalg.norm(joints_px[:, MPII.index("head_top")] - joints_px[:, MPII.index("upper_neck")], axis=-1)
    return HEAD_SIZE_PER_HEAD_SEGMENT * segment


def _array(record: dict, key: str, shape: tuple, path: Path, position: int) -> np.ndarray:
    if key not in record:
        raise InputError(f"{path}: record {position} has no field '{key}'")
    try:
        value = np.asarray(record[key], dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InputError(f"{path}: record {position} field '{key}' is not numeric ({error})") from error
    if value.shape != shape:
        raise InputError(f"{path}: record {position} field '{key}' has shape {value.shape}, expected {shape}")
    return value


def read_json_records(path: str | Path) -> tuple[PersonRecords, np.ndarray]:
    """Records of an MPII annotation list (pytorch-pose format). Returns (records, is_validation (N,) bool)."""
    path = Path(path)
    try:
        entries = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"{path}: cannot be read as a JSON annotation list ({error})") from error
    if not isinstance(entries, list) or not entries:
        raise InputError(f"{path}: expected a non-empty JSON list of person records")
    names, joints, center, scale, validation, head_sizes = [], [], [], [], [], []
    for position, record in enumerate(entries):
        if not isinstance(record, dict) or "img_paths" not in record:
            raise InputError(f"{path}: record {position} has no field 'img_paths'")
        names.append(str(record["img_paths"]))
        joints.append(_array(record, "joint_self", (NUM_JOINTS, 3), path, position))
        center.append(_array(record, "objpos", (2,), path, position))
        scale.append(float(_array(record, "scale_provided", (), path, position)))
        validation.append(bool(record.get("isValidation", 0)))
        box = record.get("headboxes")
        head_sizes.append(np.nan if box is None else 0.6 * float(np.linalg.norm(
            np.subtract(*np.asarray(box, dtype=np.float64)[::-1]))))
    joints_arr, center_arr, scale_arr = np.stack(joints), np.stack(center), np.asarray(scale)
    if (scale_arr <= 0).any():
        raise InputError(f"{path}: record {int(np.argmax(scale_arr <= 0))} has a non-positive 'scale_provided'")
    annotated = (joints_arr[..., :2] > 0).any(-1).astype(np.float32)
    head_size = np.asarray(head_sizes)
    missing_head = np.isnan(head_size)
    head_size[missing_head] = _head_size_from_joints(joints_arr[missing_head, :, :2])
    records = PersonRecords(
        image_names=np.asarray(names), joints_px=joints_arr[..., :2], annotated=annotated,
        visible=annotated * (joints_arr[..., 2] > 0), center_px=center_arr + np.stack([0 * scale_arr, 15 * scale_arr], 1),
        box_px=200.0 * 1.25 * scale_arr, head_size_px=head_size)
    return records, np.asarray(validation)


def read_h5_records(path: str | Path) -> PersonRecords:
    """Records of a valid.h5-layout file (imgname, center, scale already adjusted, part, visible, normalize)."""
    path = Path(path)
    try:
        with h5py.File(path, "r") as data:
            missing = [key for key in ("imgname", "center", "scale", "part") if key not in data]
            if missing:
                raise InputError(f"{path}: missing the field(s) {missing} (expected the valid.h5 layout)")
            names = np.asarray([n.decode() if isinstance(n, bytes) else str(n) for n in data["imgname"][()]])
            joints = np.asarray(data["part"][()], dtype=np.float64)
            center = np.asarray(data["center"][()], dtype=np.float64)
            scale = np.asarray(data["scale"][()], dtype=np.float64)
            visible = np.asarray(data["visible"][()], dtype=np.float64) if "visible" in data else None
            head = np.asarray(data["normalize"][()], dtype=np.float64) if "normalize" in data else None
    except OSError as error:
        raise InputError(f"{path}: cannot be read as HDF5 ({error})") from error
    count = len(names)
    for key, value, shape in (("part", joints, (count, NUM_JOINTS, 2)), ("center", center, (count, 2)),
                              ("scale", scale, (count,))):
        if value.shape != shape:
            raise InputError(f"{path}: field '{key}' has shape {value.shape}, expected {shape}")
    annotated = (joints > 0).any(-1).astype(np.float32)
    visible = annotated if visible is None else annotated * (visible > 0)
    head = _head_size_from_joints(joints) if head is None else head
    return PersonRecords(names, joints, annotated, visible.astype(np.float32), center, 200.0 * scale, head)


def mpii_folder(data_dir: str | Path | None) -> Path:
    """The folder that holds images/ and the annotations: DATA_DIR or DATA_DIR/mpii (the synthetic layout); without
    a DATA_DIR, the embedded synthetic dataset's (`synthetic.data_root`, generated once)."""
    data_dir = data_root(data_dir)
    for folder in (data_dir, data_dir / "mpii"):
        if (folder / JSON_NAME).is_file() or (folder / VALID_H5_NAME).is_file():
            return folder
    raise InputError(f"{data_dir}: no MPII annotations found; expected {JSON_NAME} or {VALID_H5_NAME} "
                     f"(with the images in images/) in this folder or in its mpii/ subfolder")


def load_split(data_dir: str | Path | None, split: str) -> PersonRecords:
    """'train' | 'valid' | 'all' records of an MPII folder (see the module docstring)."""
    folder = mpii_folder(data_dir)
    json_path, h5_path = folder / JSON_NAME, folder / VALID_H5_NAME
    if split == "valid" and h5_path.is_file():
        return read_h5_records(h5_path)
    if not json_path.is_file():
        raise InputError(f"{folder}: the '{split}' split needs {JSON_NAME}; only {VALID_H5_NAME} is there")
    records, is_validation = read_json_records(json_path)
    chosen = {"train": ~is_validation, "valid": is_validation, "all": np.ones_like(is_validation)}[split]
    if not chosen.any():
        raise InputError(f"{json_path}: no records of the '{split}' split (field 'isValidation')")
    return records.subset(np.flatnonzero(chosen))


def annotation_files(data_dir: str | Path | None) -> list[Path]:
    """The annotation files of an MPII folder (for cache fingerprints)."""
    folder = mpii_folder(data_dir)
    return [p for p in (folder / JSON_NAME, folder / VALID_H5_NAME) if p.is_file()]
