"""The one reader of MPII-format files: person records, ground truth and 2D predictions, whatever the layout.

Ground truth / records (`read_ground_truth` picks by suffix):
  .json  `mpii_annotations.json`, the pytorch-pose record list (img_paths, objpos, scale_provided, joint_self, ...)
  .h5    `annot/valid.h5` (imgname, center, scale, part, visible, normalize); .npz with the same keys
  .mat   the standard `detections_our_format.mat` (pos_gt_src (16, 2, N), jnt_missing (16, N), headboxes_src)
Predictions (`read_predictions`): .mat / .npz with `preds` (N, 16, 2) image px (or the standard layout's
`pos_pred_src` (16, 2, N)), plus, in run.py's .npz, image_names, center_px, box_px, missing.
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

from stacked_hourglass.mpii_fields import (NUM_JOINTS, array_field, checked_joints, head_size_from_box,
                                           head_size_from_joints, mat_fields, optional_rows, sibling_image_names)
from synthetic import data_root
from utils.errors import InputError
from utils.validation import relative_inside

JSON_NAME = "mpii_annotations.json"
VALID_H5_NAME = "annot/valid.h5"
STANDARD_MAT_NAME = "detections_our_format.mat"
CONVERTED_GT_NAME = "valid_gt.mat"  # the validation ground truth `python -m stacked_hourglass.convert_mpii` writes


@dataclass
class PersonRecords:
    """N people. Boxes use the hourglass convention: centre = objpos with y + 15 * s, side = 200 * s * 1.25 px.
    Fields a file does not hold are '' (names) or NaN (centres, boxes)."""

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


@dataclass
class MpiiPredictions:
    """N predicted people: joints_px (N, 16, 2) image px, and per row what the file holds besides (else None)."""

    joints_px: np.ndarray
    field: str  # the file's field: 'preds' or 'pos_pred_src'
    image_names: np.ndarray | None = None
    center_px: np.ndarray | None = None
    box_px: np.ndarray | None = None
    missing: np.ndarray | None = None  # (N,) the image could not be read when predicting


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
        joints.append(array_field(record, "joint_self", (NUM_JOINTS, 3), path, position))
        center.append(array_field(record, "objpos", (2,), path, position))
        scale.append(float(array_field(record, "scale_provided", (), path, position)))
        validation.append(bool(record.get("isValidation", 0)))
        head_sizes.append(np.nan if record.get("headboxes") is None else float(head_size_from_box(
            array_field(record, "headboxes", (2, 2), path, position), path, "headboxes", position)))
    joints_arr, center_arr, scale_arr = np.stack(joints), np.stack(center), np.asarray(scale)
    if not (scale_arr > 0).all():
        raise InputError(f"{path}: record {int(np.argmax(scale_arr <= 0))} has a non-positive 'scale_provided'")
    annotated = (joints_arr[..., :2] > 0).any(-1).astype(np.float32)
    head_size = np.asarray(head_sizes)
    missing_head = np.isnan(head_size)
    head_size[missing_head] = head_size_from_joints(joints_arr[missing_head, :, :2])
    records = PersonRecords(
        image_names=np.asarray(names), joints_px=joints_arr[..., :2], annotated=annotated,
        visible=annotated * (joints_arr[..., 2] > 0), center_px=center_arr + np.stack([0 * scale_arr, 15 * scale_arr], 1),
        box_px=200.0 * 1.25 * scale_arr, head_size_px=head_size)
    return records, np.asarray(validation)


def _valid_keys(path: Path) -> dict[str, np.ndarray]:
    """The fields of a valid.h5-layout file (.h5, or .npz with the same keys) as arrays."""
    try:
        if path.suffix == ".npz":
            with np.load(path) as data:
                return {key: data[key] for key in data.files}
        with h5py.File(path, "r") as data:
            return {key: data[key][()] for key in data}
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: cannot be read as {'an npz file' if path.suffix == '.npz' else 'HDF5'} "
                         f"({error})") from error


def read_h5_records(path: str | Path, ground_truth_only: bool = False, require_head_size: bool = False) -> PersonRecords:
    """Records of a valid.h5-layout file (.h5 or .npz): imgname, center, scale (already adjusted), part, and
    optionally visible, normalize (without it the head size comes from the joints, unless `require_head_size`).
    ground_truth_only: only `part` is required (names '', boxes NaN where absent): enough to score or draw."""
    path = Path(path)
    data = _valid_keys(path)
    required = ("part",) if ground_truth_only else ("imgname", "center", "scale", "part")
    missing = [key for key in required if key not in data]
    if missing:
        raise InputError(f"{path}: missing the field(s) {missing} (expected the valid.h5 layout)")
    joints = checked_joints(data["part"], path, "part", (None, NUM_JOINTS, 2))
    count = len(joints)
    if require_head_size and "normalize" not in data:
        raise InputError(f"{path}: missing the field 'normalize' (N,) head sizes, px (needed for PCKh)")
    names = data.get("imgname")
    names = np.full(count, "") if names is None else np.asarray(
        [n.decode() if isinstance(n, bytes) else str(n) for n in np.asarray(names).reshape(-1)])
    center = optional_rows(data, "center", (count, 2), path, finite=True)
    scale = optional_rows(data, "scale", (count,), path, positive=True)
    visible = optional_rows(data, "visible", (count, NUM_JOINTS), path, finite=True)
    head = optional_rows(data, "normalize", (count,), path, positive=True)
    if len(names) != count:
        raise InputError(f"{path}: field 'imgname' has {len(names)} entries for {count} people")
    annotated = (joints > 0).any(-1).astype(np.float32)  # valid.h5 marks unannotated joints by zero coordinates
    visible = annotated if visible is None else annotated * (visible > 0)
    return PersonRecords(names, joints, annotated, visible.astype(np.float32),
                         np.full((count, 2), np.nan) if center is None else center,
                         np.full(count, np.nan) if scale is None else 200.0 * scale,
                         head_size_from_joints(joints) if head is None else head)


def read_standard_mat(path: str | Path, require_head_size: bool = False) -> PersonRecords:
    """Ground truth of the standard layout: pos_gt_src (16, 2, N), jnt_missing (16, N), headboxes_src (2, 2, N)
    [[x1, y1], [x2, y2]] (head size 0.6 x its diagonal; from the joints when absent, unless `require_head_size`).
    Image names come from run.py's .npz beside the file when there is one, else ''."""
    path = Path(path)
    data = mat_fields(path)
    joints = checked_joints(data.get("pos_gt_src"), path, "pos_gt_src", (NUM_JOINTS, 2, None)).transpose(2, 0, 1)
    count = len(joints)
    missing = checked_joints(data.get("jnt_missing"), path, "jnt_missing", (NUM_JOINTS, count), finite=False).T
    if "headboxes_src" in data or require_head_size:
        boxes = checked_joints(data.get("headboxes_src"), path, "headboxes_src", (2, 2, count))
        head_size = head_size_from_box(boxes.transpose(2, 0, 1), path, "headboxes_src")  # (N, 2, 2) corners
    else:
        head_size = head_size_from_joints(joints)
    annotated = (1.0 - missing).astype(np.float32)
    names = sibling_image_names(path, count)
    return PersonRecords(np.full(count, "") if names is None else names, joints, annotated, annotated,
                         np.full((count, 2), np.nan), np.full(count, np.nan), head_size)


def read_ground_truth(path: str | Path, require_head_size: bool = False) -> PersonRecords:
    """MPII ground truth of any layout of the module docstring (a JSON list: all its records, in file order)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: ground-truth file not found")
    suffix = path.suffix.lower()
    if suffix == ".json":
        return read_json_records(path)[0]
    if suffix in (".h5", ".npz"):
        return read_h5_records(path, ground_truth_only=True, require_head_size=require_head_size)
    if suffix == ".mat":
        return read_standard_mat(path, require_head_size)
    raise InputError(f"{path}: unknown ground-truth format '{path.suffix}' (expected .mat, .h5, .npz or .json)")


def read_predictions(path: str | Path) -> MpiiPredictions:
    """2D predictions: `preds` (N, 16, 2) image px of a .mat or .npz, or a standard .mat's pos_pred_src."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: prediction file not found")
    suffix = path.suffix.lower()
    if suffix not in (".mat", ".npz"):
        raise InputError(f"{path}: unknown prediction format '{path.suffix}' (expected .mat or .npz with 'preds')")
    data = mat_fields(path) if suffix == ".mat" else _valid_keys(path)
    if "preds" in data:
        joints, field = checked_joints(data["preds"], path, "preds", (None, NUM_JOINTS, 2)), "preds"
    elif "pos_pred_src" in data:
        joints = checked_joints(data["pos_pred_src"], path, "pos_pred_src", (NUM_JOINTS, 2, None)).transpose(2, 0, 1)
        field = "pos_pred_src"
    else:
        raise InputError(f"{path}: missing the field 'preds' (N, 16, 2) image px (or the standard layout's "
                         f"'pos_pred_src' (16, 2, N))")
    count = len(joints)
    if suffix == ".mat":
        return MpiiPredictions(joints, field, sibling_image_names(path, count))
    names = data.get("image_names")
    return MpiiPredictions(joints, field, None if names is None else np.asarray(names).astype(str),
                           optional_rows(data, "center_px", (count, 2), path), optional_rows(data, "box_px", (count,), path),
                           optional_rows(data, "missing", (count,), path))


def mpii_folder(data_dir: str | Path | None) -> Path:
    """The folder that holds images/ and the annotations: DATA_DIR or DATA_DIR/mpii (the synthetic layout); without
    a DATA_DIR, the embedded synthetic dataset's (`synthetic.data_root`, generated once)."""
    data_dir = data_root(data_dir)
    for folder in (data_dir, data_dir / "mpii"):
        if (folder / JSON_NAME).is_file() or (folder / VALID_H5_NAME).is_file():
            return folder
    raise InputError(f"{data_dir}: no MPII annotations found; expected {JSON_NAME} or {VALID_H5_NAME} "
                     f"(with the images in images/) in this folder or in its mpii/ subfolder. From MPII's release "
                     f"file make them with: python -m stacked_hourglass.convert_mpii --release "
                     f"mpii_human_pose_v1_u12_1.mat [--valid_h5 valid.h5] --output_dir {data_dir}")


def load_split(data_dir: str | Path | None, split: str, allow_outside_paths: bool = False) -> PersonRecords:
    """'train' | 'valid' | 'all' records of an MPII folder (see the module docstring). Image names that leave
    images/ (absolute, or climbing out with '..') are refused unless `allow_outside_paths`."""
    folder = mpii_folder(data_dir)
    json_path, h5_path = folder / JSON_NAME, folder / VALID_H5_NAME
    if split == "valid" and h5_path.is_file():
        records = read_h5_records(h5_path)
        relative_inside(records.image_names, folder / "images", h5_path, "imgname", allow_outside_paths)
        return records
    if not json_path.is_file():
        raise InputError(f"{folder}: the '{split}' split needs {JSON_NAME}; only {VALID_H5_NAME} is there")
    records, is_validation = read_json_records(json_path)
    chosen = {"train": ~is_validation, "valid": is_validation, "all": np.ones_like(is_validation)}[split]
    if not chosen.any():
        raise InputError(f"{json_path}: no records of the '{split}' split (field 'isValidation')")
    relative_inside(records.image_names, folder / "images", json_path, "img_paths", allow_outside_paths)
    return records.subset(np.flatnonzero(chosen))


def annotation_files(data_dir: str | Path | None) -> list[Path]:
    """The annotation files of an MPII folder (for cache fingerprints)."""
    folder = mpii_folder(data_dir)
    return [p for p in (folder / JSON_NAME, folder / VALID_H5_NAME) if p.is_file()]
