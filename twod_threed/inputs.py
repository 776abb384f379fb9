"""The 2D poses `run.py 2d3d_h36m` lifts, from the files users bring (see docs/lifter_formats.md).

- `.npz` with `poses_2d` (or `joints_2d`, `keypoints`, `preds`) of shape (N, J, 2) or (N, J, 3) (the third value,
  a confidence, is ignored) and optional per-row `names`, `subjects`, `actions`, `cameras`, `frames`,
  `ground_truth_3d`; or a VideoPose3D `data_2d_h36m_*.npz` (`positions_2d`).
- `.json`: the same keys in one object, or a list of objects {"name", "joints_2d", "subject", "action", ...}.
- MMPose's Human3.6M `.npz` (`part` (N, 17, 3) H36M-17 px + visibility, `S` (N, 17, 4) camera-frame metres, `imgname`).
J = 16 in H36M16_2D or MPII order (MPII by default for `preds`, the field `run.py hourglass_mpii` writes, H36M16_2D
otherwise), 17 (H36M-17 or COCO-17: `joint_order` must say which) or 32 (H36M-32). Rows are named
'S9/Walking 1/54138969/000123' where the file says so.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from twod_threed.h36m_files import CORRUPT_SEQUENCES, frame_names, read_videopose3d_2d
from utils.cameras import H36M_CAMERA_IDS
from utils.errors import InputError
from utils.npz import load_npz
from utils.run_logging import get_logger
from utils.skeletons import H36M16_2D_FROM_17, MPII_TO_H36M16_2D, coco17_to_h36m17, h36m17_from_32

POSE_KEYS = ("poses_2d", "joints_2d", "keypoints", "preds")
META_KEYS = ("names", "subjects", "actions", "cameras", "frames", "ground_truth_3d")


JOINT_ORDERS = ("h36m", "mpii", "coco")


def to_h36m16_2d(joints: np.ndarray, joint_order: str | None, path: Path, field: str) -> np.ndarray:
    """(N, J, 2|3) in the file's order -> (N, 16, 2) px in H36M16_2D order; InputError for other shapes or NaN.

    joint_order: 'h36m' (J = 16: H36M16_2D; J = 17: H36M-17), 'mpii' (J = 16), 'coco' (J = 17, COCO keypoints,
    mapped by `utils.skeletons.coco17_to_h36m17`, an approximation) or None (J = 16: H36M16_2D; J = 17 is an error:
    H36M-17 and COCO-17 cannot be told apart). J = 32 is always H36M-32."""
    if joints.ndim != 3 or joints.shape[-1] not in (2, 3) or joints.shape[1] not in (16, 17, 32):
        raise InputError(f"{path}: field '{field}' has shape {joints.shape}; expected (N, J, 2) with J = 16 "
                         f"(H36M16_2D or MPII order, see --joint_order), 17 (H36M-17 or COCO) or 32 (H36M-32)")
    joints = joints[..., :2].astype(np.float64)
    bad = ~np.isfinite(joints)
    if bad.any():
        raise InputError(f"{path}: field '{field}' holds NaN/inf coordinates (first at row "
                         f"{int(np.argwhere(bad)[0][0])}); remove those rows or fill them in")
    count = joints.shape[1]
    if (count == 16 and joint_order == "coco") or (count == 17 and joint_order == "mpii"):
        raise InputError(f"{path}: field '{field}' has {count} joints, which --joint_order {joint_order} does not "
                         f"have ({'COCO has 17' if joint_order == 'coco' else 'MPII has 16'})")
    if count == 17 and joint_order is None:
        raise InputError(f"{path}: field '{field}' has 17 joints: say which order with --joint_order h36m "
                         f"(Human3.6M's 17: hip, r_hip, r_knee, ...) or --joint_order coco (COCO keypoints: nose, "
                         f"left_eye, right_eye, ...)")
    if count == 32:
        joints = h36m17_from_32(joints)
    if joints.shape[1] == 17:
        joints = coco17_to_h36m17(joints) if joint_order == "coco" else joints
        return joints[:, list(H36M16_2D_FROM_17)]
    return joints[:, list(MPII_TO_H36M16_2D)] if joint_order == "mpii" else joints


def _videopose3d_rows(path: Path, fields: dict[str, np.ndarray], subjects: list[int] | None,
                      joint_order: str | None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    wanted = tuple(subjects) if subjects else tuple(range(1, 100))
    blocks, meta = [], {"subjects": [], "actions": [], "cameras": [], "frames": []}
    sequences, layout = read_videopose3d_2d(path, wanted, fields)
    for (subject, action), per_camera in sorted(sequences.items()):
        if (subject, action) in CORRUPT_SEQUENCES:
            get_logger().info(f"{path}: skipping the corrupt sequence S{subject} '{action}'")
            continue
        for camera_id, keypoints in zip(H36M_CAMERA_IDS, per_camera):
            field = f"positions_2d['S{subject}']['{action}']"
            blocks.append(to_h36m16_2d(keypoints, joint_order or layout, path, field))
            count = len(keypoints)
            meta["subjects"].append(np.full(count, subject))
            meta["actions"].append(np.full(count, action))
            meta["cameras"].append(np.full(count, camera_id))
            meta["frames"].append(np.arange(count))
    if not blocks:
        raise InputError(f"{path}: no sequences{f' for subjects {subjects}' if subjects else ''} in positions_2d")
    return np.concatenate(blocks), {k: np.concatenate(v) for k, v in meta.items()}


def _mmpose_rows(path: Path, fields: dict[str, np.ndarray]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """MMPose's Human3.6M npz: `part` (N, 17, 3) px + visibility, H36M-17 order; `S` (N, 17, 4) camera-frame metres
    + visibility (kept as `ground_truth_3d`, mm); `imgname` (N,) as the row names."""
    joints = to_h36m16_2d(np.asarray(fields["part"]), "h36m", path, "part")
    truth = np.asarray(fields["S"], dtype=np.float64)
    if truth.shape != (len(joints), 17, 4):
        raise InputError(f"{path}: field 'S' has shape {truth.shape}, expected ({len(joints)}, 17, 4) metres + "
                         f"visibility")
    meta = {"ground_truth_3d": truth[..., :3] * 1000.0}
    if "imgname" in fields:
        meta["names"] = np.asarray(fields["imgname"]).astype(str)
    return joints, meta


def _fields_from_json(path: Path) -> dict:
    try:
        content = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise InputError(f"{path}: not valid JSON ({error})") from error
    if isinstance(content, dict):
        return content
    if not isinstance(content, list) or not all(isinstance(e, dict) for e in content):
        raise InputError(f"{path}: expected an object with 'poses_2d' or a list of objects with 'joints_2d'")
    singular = {"names": "name", "subjects": "subject", "actions": "action", "cameras": "camera", "frames": "frame"}
    pose_key = next((k for k in ("joints_2d", "keypoints", "poses_2d") if content and k in content[0]), None)
    if pose_key is None:
        raise InputError(f"{path}: list entries have no 'joints_2d' field (16 x [x, y] pixels)")
    fields = {"poses_2d": [entry.get(pose_key) for entry in content]}
    for plural, single in singular.items():
        if content and single in content[0]:
            fields[plural] = [entry.get(single) for entry in content]
    return fields


def read_2d_input(path: str | Path, joint_order: str | None = None,
                  subjects: list[int] | None = None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(N, 16, 2) px in H36M16_2D order and the per-row fields present in the file (names, subjects, ...).

    joint_order (see `to_h36m16_2d`): None means 'mpii' for a `preds` field, H36M16_2D for other 16-joint fields,
    the metadata's layout for VideoPose3D files, H36M-17 for MMPose's; other 17-joint poses need it."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: input file not found")
    if path.suffix == ".npz":
        fields = load_npz(path)  # object members as plain data only: a crafted file runs nothing
        if "positions_2d" in fields:
            return _videopose3d_rows(path, fields, subjects, joint_order)
        if "part" in fields and "S" in fields:
            return _mmpose_rows(path, fields)
    elif path.suffix == ".json":
        fields = _fields_from_json(path)
    else:
        raise InputError(f"{path}: unknown input format '{path.suffix}' (expected .npz or .json)")
    if "names" not in fields and "image_names" in fields:  # run.py hourglass_mpii's npz
        fields["names"] = fields["image_names"]
    pose_key = next((k for k in POSE_KEYS if k in fields), None)
    if pose_key is None:
        raise InputError(f"{path}: no 2D poses; expected one of the fields {list(POSE_KEYS)} (N, 16, 2) pixels")
    try:
        joints = np.asarray(fields[pose_key], dtype=np.float64)
    except (ValueError, TypeError) as error:
        raise InputError(f"{path}: field '{pose_key}' is not a regular (N, J, 2) array of numbers") from error
    joint_order = joint_order or ("mpii" if pose_key == "preds" else None)
    joints = to_h36m16_2d(joints, joint_order, path, pose_key)
    meta = {}
    for key in META_KEYS:
        if key in fields:
            meta[key] = np.asarray(fields[key])
            if len(meta[key]) != len(joints):
                raise InputError(f"{path}: field '{key}' has {len(meta[key])} rows but '{pose_key}' has {len(joints)}")
    return joints, meta


def row_names(meta: dict[str, np.ndarray], count: int) -> np.ndarray:
    """Names of the rows: the file's `names`, else 'S9/Walking 1/54138969/000123' from its fields, else indices."""
    if "names" in meta:
        return meta["names"].astype(str)
    if all(k in meta for k in ("subjects", "actions", "cameras", "frames")):
        return frame_names(meta["subjects"], meta["actions"], meta["cameras"], meta["frames"])
    return np.array([f"{i:06d}" for i in range(count)])
