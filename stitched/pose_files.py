"""Pose files for pictures: every file `run.py` writes and every ground-truth format the loaders read, as arrays.

2D rows (`read_poses_2d`) -> `Poses2D`: joints_px (N, 16, 2) image px in MPII order; Human3.6M sources keep the
lifter's H36M16_2D order (`skeleton` says which), since MPII's thorax/neck stand-ins would bend the shoulders.
  .npz  `preds` (N, 16, 2) + image_names, center_px, box_px, missing   run.py hourglass_mpii, stitched_mpii
  .mat  `preds` (N, 16, 2) or `pos_pred_src` (16, 2, N); ground truth `pos_gt_src` + `jnt_missing` (standard)
  .json {"people": [{"image", "joints_2d_px", ...}]} (stitched_mpii); a list of MPII records (mpii_annotations.json)
  .h5 / .npz  valid.h5 layout (imgname, part, visible, ...) or its keys part / visible / normalize in an npz
  .npz / .json  lifter input (poses_2d, joints_2d, keypoints: H36M 16/17/32 joints), VideoPose3D `positions_2d`
  .npz  MMPose Human3.6M (imgname, part (N, 17, 3))
3D rows (`read_poses_3d`) -> `Poses3D`: poses_mm (N, 17, 3) H36M-17 root-relative camera-frame mm, root = 0.
  .npz  `poses_3d` (N, 17 | 16 | 32, 3) + names / image_names    run.py 2d3d_h36m, stitched_mpii, ground-truth npz
  .npz  `ground_truth_3d` (a predictions file that carries its ground truth; read when asking for ground truth)
  .json {"people": [{"joints_3d_mm", ...}]} (stitched_mpii);  .npz MMPose Human3.6M `S` (N, 17, 4) metres
  a Human3.6M folder (cameras.h5 + either pose layout) or its data_3d_h36m.npz: `stitched.h36m_truth`, by frame name.
Rows are paired with `stitched.pairing.align`. MPII-format files go through the hourglass's one MPII reader
(`stacked_hourglass.annotations`), lifter inputs through `twod_threed.inputs`; every problem is an InputError
naming the file and the field. npz files are read without unpickling (object fields are left out).
"""
from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np

from stacked_hourglass.annotations import (MpiiPredictions, PersonRecords, read_h5_records, read_json_records,
                                           read_predictions, read_standard_mat)
from twod_threed.inputs import read_2d_input, row_names
from utils.errors import InputError
from utils.skeletons import H36M16_2D, MPII, Skeleton, h36m17_from_32


@dataclass
class Poses2D:
    joints_px: np.ndarray  # (N, 16, 2) image px, in `skeleton` order
    names: np.ndarray | None  # (N,) image names (relative to the image folder) or Human3.6M frame names
    skeleton: Skeleton  # MPII or H36M16_2D
    source: str  # 'file:field', for messages
    centre_px: np.ndarray | None = None  # (N, 2) person box centres (tell people of one image apart)
    box_px: np.ndarray | None = None  # (N,) square person box sides
    visible: np.ndarray | None = None  # (N, 16) annotated joints (ground truth); None: all
    missing: np.ndarray | None = None  # (N,) the image could not be read when predicting
    image_names: np.ndarray | None = None  # (N,) image file per row when `names` are frame names ('' = none)

    def __len__(self) -> int:
        return len(self.joints_px)

    def rows(self, index: np.ndarray) -> "Poses2D":
        return replace(self, **{f.name: getattr(self, f.name)[index] for f in fields(self)
                                if isinstance(getattr(self, f.name), np.ndarray)})


@dataclass
class Poses3D:
    poses_mm: np.ndarray  # (N, 17, 3) H36M-17 root-relative camera-frame mm, root = 0
    names: np.ndarray | None
    source: str

    def __len__(self) -> int:
        return len(self.poses_mm)

    def rows(self, index: np.ndarray) -> "Poses3D":
        return Poses3D(self.poses_mm[index], None if self.names is None else self.names[index], self.source)


# ---------------------------------------------------------------------------------------------------------- checks
def checked(values, path: Path, field: str, joints: tuple[int, ...], dims: tuple[int, ...]) -> np.ndarray:
    """values as (N, J, D) float64 with J in `joints`, D in `dims`, all finite; else InputError (file, field)."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InputError(f"{path}: field '{field}' is not a regular array of numbers ({error})") from error
    if array.ndim != 3 or array.shape[1] not in joints or array.shape[2] not in dims:
        wanted = " or ".join(f"(N, {j}, {'|'.join(map(str, dims))})" for j in joints)
        raise InputError(f"{path}: field '{field}' has shape {array.shape}, expected {wanted}")
    bad = ~np.isfinite(array)
    if bad.any():
        row, joint = (int(v) for v in np.argwhere(bad)[0][:2])
        raise InputError(f"{path}: field '{field}' holds NaN/inf values ({int(bad.any(-1).sum())} joints, first: "
                         f"row {row}, joint {joint}); remove or fill those rows")
    return array


def existing(path: str | Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found")
    return path


def _npz(path: Path) -> dict[str, np.ndarray | None]:
    """The fields of an npz archive, read without unpickling: object fields (VideoPose3D dictionaries) are None."""
    if not zipfile.is_zipfile(path):
        raise InputError(f"{path}: not an npz archive (numpy.savez output)")
    fields_read: dict[str, np.ndarray | None] = {}
    try:
        with np.load(path) as data:
            for key in data.files:
                try:
                    fields_read[key] = data[key]
                except ValueError:  # an object array: needs pickle
                    fields_read[key] = None
    except (OSError, zipfile.BadZipFile) as error:
        raise InputError(f"{path}: cannot be read as an npz file ({error})") from error
    return fields_read


def _json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"{path}: cannot be read as JSON ({error})") from error


def _names(values, count: int, path: Path, field: str) -> np.ndarray:
    names = np.asarray(values).astype(str).reshape(-1)
    if len(names) != count:
        raise InputError(f"{path}: field '{field}' has {len(names)} entries for {count} poses")
    return names


# -------------------------------------------------------------------------------------------------------------- 2D
def _mpii_rows(joints, path: Path, field: str, names=None, names_field: str = "image_names", **extra) -> Poses2D:
    joints_px = checked(joints, path, field, (16,), (2,))
    names = None if names is None else _names(names, len(joints_px), path, names_field)
    return Poses2D(joints_px, names, MPII, f"{path}:{field}", **extra)


def _known(values: np.ndarray) -> np.ndarray | None:
    """values, or None where the file held none of them (names all '', centres or boxes all NaN)."""
    empty = values == "" if values.dtype.kind in "US" else np.isnan(values)
    return None if empty.all() else values


def _from_records(records: PersonRecords, path: Path, field: str) -> Poses2D:
    return Poses2D(records.joints_px, _known(records.image_names), MPII, f"{path}:{field}",
                   centre_px=_known(records.center_px), box_px=_known(records.box_px),
                   visible=records.annotated > 0)


def _from_predictions(found: MpiiPredictions, path: Path) -> Poses2D:
    return Poses2D(found.joints_px, found.image_names, MPII, f"{path}:{found.field}", centre_px=found.center_px,
                   box_px=found.box_px, missing=found.missing)


def _read_mat_2d(path: Path, ground_truth: bool) -> Poses2D:
    """A standard-layout ground truth (pos_gt_src) or predictions (preds / pos_pred_src): ground_truth says which to
    prefer where a file holds both."""
    import scipy.io

    try:
        variables = {name for name, _, _ in scipy.io.whosmat(str(path))}
    except Exception as error:  # scipy raises several types for a bad file
        raise InputError(f"{path}: cannot be read as a MATLAB .mat file ({error})") from error
    has_predictions = bool(variables & {"preds", "pos_pred_src"})
    if "pos_gt_src" in variables and (ground_truth or not has_predictions):
        return _from_records(read_standard_mat(path), path, "pos_gt_src")
    return _from_predictions(read_predictions(path), path)


def _read_json_2d(path: Path) -> Poses2D:
    content = _json(path)
    if isinstance(content, dict) and "people" in content:  # run.py stitched_mpii
        people = content["people"]
        if not isinstance(people, list) or not people or not all(isinstance(p, dict) for p in people):
            raise InputError(f"{path}: field 'people' is not a non-empty list of objects")
        if "joints_2d_px" not in people[0]:
            raise InputError(f"{path}: field 'people[0].joints_2d_px' is missing (16 x [x, y] image px)")
        return _mpii_rows([p.get("joints_2d_px") for p in people], path, "people[].joints_2d_px",
                          [p.get("image", "") for p in people], "people[].image",
                          missing=np.asarray([bool(p.get("missing", False)) for p in people]))
    if isinstance(content, list) and content and isinstance(content[0], dict) and "img_paths" in content[0]:
        return _from_records(read_json_records(path)[0], path, "joint_self")
    return _lifter_input(path)


def _lifter_input(path: Path) -> Poses2D:
    """Files `run.py 2d3d_h36m` reads (H36M joint orders): lifter input npz/json, VideoPose3D positions_2d."""
    joints, meta = read_2d_input(path)  # (N, 16, 2) H36M16_2D; InputError with the file and field
    has_names = "names" in meta or all(k in meta for k in ("subjects", "actions", "cameras", "frames"))
    return Poses2D(joints, row_names(meta, len(joints)) if has_names else None, H36M16_2D, f"{path}:poses_2d")


def read_poses_2d(path: str | Path, ground_truth: bool = False) -> Poses2D:
    """2D poses of any supported file (see the module docstring). ground_truth: prefer ground-truth fields where a
    file holds both (the standard .mat's pos_gt_src over pos_pred_src)."""
    path = existing(path)
    suffix = path.suffix.lower()
    if suffix == ".mat":
        return _read_mat_2d(path, ground_truth)
    if suffix == ".json":
        return _read_json_2d(path)
    if suffix == ".h5":
        return _from_records(read_h5_records(path, ground_truth_only=True), path, "part")
    if suffix != ".npz":
        raise InputError(f"{path}: unknown 2D pose format '{suffix}' (expected .npz, .mat, .json or .h5)")
    data = _npz(path)
    if "preds" in data:  # run.py hourglass_mpii / stitched_mpii
        return _from_predictions(read_predictions(path), path)
    if "part" in data and "S" in data:  # MMPose Human3.6M: the lifter's reader (`twod_threed.inputs`)
        return _lifter_input(path)
    if "part" in data:  # valid.h5 keys
        return _from_records(read_h5_records(path, ground_truth_only=True), path, "part")
    if "positions_3d" in data or ("poses_3d" in data and not any(k in data for k in ("poses_2d", "keypoints"))):
        raise InputError(f"{path}: holds 3D poses ('positions_3d' / 'poses_3d'), not 2D poses; expected 'preds' "
                         f"(N, 16, 2) image px or another 2D field (see stitched/pose_files.py)")
    return _lifter_input(path)


# -------------------------------------------------------------------------------------------------------------- 3D
def as_root_relative(poses, path: Path, field: str, metres: bool = False) -> np.ndarray:
    """(N, 17 | 32, 3) any origin, or (N, 16, 3) H36M16_3D root-relative -> (N, 17, 3) root-relative mm."""
    poses = checked(poses, path, field, (16, 17, 32), (3,)) * (1000.0 if metres else 1.0)
    if poses.shape[1] == 32:
        poses = h36m17_from_32(poses)
    if poses.shape[1] == 16:
        return np.concatenate([np.zeros_like(poses[:, :1]), poses], axis=1)
    return poses - poses[:, :1]


def _names_of(data: dict, count: int, path: Path) -> np.ndarray | None:
    key = next((k for k in ("names", "image_names", "imgname") if k in data), None)
    return None if key is None else _names(data[key], count, path, key)


def read_poses_3d(path: str | Path, ground_truth: bool = False) -> Poses3D:
    """3D poses of a file (see the module docstring). ground_truth: read `ground_truth_3d` where a predictions
    file carries it. A Human3.6M folder or data_3d_h36m.npz needs frame names: see `read_h36m_dataset`."""
    path = existing(path)
    if path.is_dir():
        raise InputError(f"{path}: a folder; Human3.6M folders are read by frame name (read_h36m_dataset)")
    suffix = path.suffix.lower()
    if suffix == ".json":
        content = _json(path)
        people = content.get("people") if isinstance(content, dict) else None
        if not isinstance(people, list) or not people or "joints_3d_mm" not in people[0]:
            raise InputError(f"{path}: expected {{\"people\": [{{\"image\", \"joints_3d_mm\", ...}}]}} as written "
                             f"by run.py stitched_mpii (field 'people[].joints_3d_mm')")
        poses = as_root_relative([p.get("joints_3d_mm") for p in people], path, "people[].joints_3d_mm")
        return Poses3D(poses, _names([p.get("image", "") for p in people], len(poses), path, "people[].image"),
                       f"{path}:people[].joints_3d_mm")
    if suffix != ".npz":
        raise InputError(f"{path}: unknown 3D pose format '{suffix}' (expected .npz or .json)")
    data = _npz(path)
    if "positions_3d" in data:
        raise InputError(f"{path}: a VideoPose3D world-frame file ('positions_3d'); pass the Human3.6M folder that "
                         f"holds it (cameras.h5 optional), and name the frames")
    order = ("ground_truth_3d", "poses_3d", "S") if ground_truth else ("poses_3d", "S")
    key = next((k for k in order if k in data), None)
    if key is None:
        raise InputError(f"{path}: no 3D poses; expected the field 'poses_3d' (N, 17, 3) or (N, 16, 3) mm"
                         f"{' or ground_truth_3d' if ground_truth else ''}")
    if key == "S":  # MMPose Human3.6M: (N, 17, 4) camera-frame metres + visibility
        values = np.asarray(data["S"])
        if values.ndim != 3 or values.shape[1:] != (17, 4):
            raise InputError(f"{path}: field 'S' has shape {values.shape}, expected (N, 17, 4) metres + visibility")
        poses = as_root_relative(values[..., :3], path, "S", metres=True)
    else:
        poses = as_root_relative(data[key], path, key)
    return Poses3D(poses, _names_of(data, len(poses), path), f"{path}:{key}")
