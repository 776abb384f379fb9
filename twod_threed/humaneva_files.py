"""HumanEva-I in VideoPose3D's layout: readers, cameras, and camera-frame 2D/3D pairs for the lifters.

Files (what VideoPose3D's preparation step writes, and what the synthetic generator writes):
- `data_3d_humaneva15.npz`: positions_3d[subject][action] (T, 15, 3) metres, world frame; subjects 'Train/S1' ...
  'Validate/S3'; actions 'Walking 1', 'Jog 1', 'Box 1', ... (VideoPose3D's real files split takes into chunks,
  'Walking 1 chunk0': an action's group is its first word).
- `data_2d_humaneva15_<source>.npz`: positions_2d[subject][action] = 3 x (T, 15, 2) px (C1, C2, C3), metadata.
- cameras: `humaneva_cameras.json` beside them when present (the synthetic data's), else VideoPose3D's published
  extrinsics of S1-S3 (`humaneva_cameras.json` in this package): per subject and camera the camera -> world
  quaternion (w, x, y, z) and the camera centre in world mm. Only extrinsics are needed: the 3D is lifted in the
  camera frame, the 2D comes from the files.
Joints: HUMANEVA15 (pelvis root); lifters see all 15 in 2D and predict the 14 others root-relative (HUMANEVA14_3D).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from twod_threed.data import PosePairs
from twod_threed.h36m_files import check_finite
from utils.cameras import Camera, camera_from_videopose3d
from utils.errors import InputError
from utils.npz import load_npz

TRAIN_SUBJECTS = ("Train/S1", "Train/S2", "Train/S3")
TEST_SUBJECTS = ("Validate/S1", "Validate/S2", "Validate/S3")
EVAL_ACTIONS = ("Walking", "Jog", "Box")  # the published protocol's actions (groups)
CAMERA_IDS = ("C1", "C2", "C3")
FILE_3D, FILE_2D_GT, CAMERAS_FILE = "data_3d_humaneva15.npz", "data_2d_humaneva15_gt.npz", "humaneva_cameras.json"
JOINT_ORDERS = {"input": "humaneva15", "output": "humaneva14_3d"}
BUILTIN_CAMERAS = Path(__file__).with_name(CAMERAS_FILE)


def action_group(action: str) -> str:
    """'Walking 1 chunk0' -> 'Walking'."""
    return str(action).split(" ")[0]


def _table(path: Path, key: str) -> dict:
    data = load_npz(path)  # object members as plain data only
    if key not in data:
        raise InputError(f"{path}: missing the key '{key}'")
    table = data[key].item() if data[key].dtype == object and data[key].ndim == 0 else None
    if not isinstance(table, dict):
        raise InputError(f"{path}: '{key}' is not a {{subject: {{action: array}}}} table")
    return table


def read_humaneva_3d(path: str | Path) -> dict[tuple[str, str], np.ndarray]:
    """{(subject, action): (T, 15, 3) world mm} from data_3d_humaneva15.npz."""
    path = Path(path)
    poses = {}
    for subject, actions in _table(path, "positions_3d").items():
        for action, positions in actions.items():
            positions = np.asarray(positions, dtype=np.float64)
            if positions.ndim != 3 or positions.shape[1:] != (15, 3):
                raise InputError(f"{path}: positions_3d['{subject}']['{action}'] has shape {positions.shape}, "
                                 f"expected (T, 15, 3) metres")
            check_finite(positions, path, f"positions_3d['{subject}']['{action}']")
            poses[(str(subject), str(action))] = positions * 1000.0
    return poses


def read_humaneva_2d(path: str | Path) -> dict[tuple[str, str], list[np.ndarray]]:
    """{(subject, action): 3 x (T, 15, 2) px} from data_2d_humaneva15_<source>.npz (cameras C1, C2, C3)."""
    path = Path(path)
    keypoints = {}
    for subject, actions in _table(path, "positions_2d").items():
        for action, per_camera in actions.items():
            arrays = [np.asarray(k, dtype=np.float64) for k in per_camera]
            for camera, k in zip(CAMERA_IDS, arrays):
                if k.ndim != 3 or k.shape[1:] != (15, 2):
                    raise InputError(f"{path}: positions_2d['{subject}']['{action}'] camera {camera} has shape "
                                     f"{k.shape}, expected (T, 15, 2) px")
                check_finite(k, path, f"positions_2d['{subject}']['{action}']")
            keypoints[(str(subject), str(action))] = arrays
    return keypoints


def read_frame_starts(path: str | Path) -> dict[str, dict[str, int]] | None:
    """metadata['frame_start'] of a 2D file that covers part of each take (run.py hourglass_eva: the rendered clip):
    {subject: {action: first frame}}; None for files of whole takes."""
    metadata = load_npz(Path(path)).get("metadata")
    value = metadata.item() if metadata is not None and metadata.dtype == object and metadata.ndim == 0 else None
    return value.get("frame_start") if isinstance(value, dict) else None


def read_humaneva_cameras(path: Path) -> dict[str, list[Camera]]:
    """{'S1': [C1, C2, C3]} from a humaneva_cameras.json (VideoPose3D's extrinsics convention)."""
    try:
        records = json.loads(path.read_text())
        return {subject: [camera_from_videopose3d(np.array(c["orientation"]), np.array(c["translation"]),
                                                  name=c.get("id", CAMERA_IDS[i]),
                                                  f=np.array(c.get("focal_length", [1.0, 1.0]), dtype=np.float64),
                                                  c=np.array(c.get("center", [0.0, 0.0]), dtype=np.float64),
                                                  width=int(c.get("res_w", 640)), height=int(c.get("res_h", 480)))
                            for i, c in enumerate(cameras)]
                for subject, cameras in records.items()}
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise InputError(f"{path}: not a HumanEva cameras file ({type(error).__name__}: {error})") from error


def cameras_for(folder: Path) -> dict[str, list[Camera]]:
    own = folder / CAMERAS_FILE
    return read_humaneva_cameras(own if own.is_file() else BUILTIN_CAMERAS)


def _base_subject(subject: str) -> str:
    return subject.rsplit("/", 1)[-1]  # 'Validate/S2' -> 'S2'


def load_humaneva_pairs(folder: str | Path, subjects: tuple[str, ...], input_2d: str = "gt",
                        actions: tuple[str, ...] | None = EVAL_ACTIONS) -> PosePairs:
    """Camera-frame pairs of `subjects` ('Train/S1', ...) whose action group is in `actions` (None: all), one row per
    (subject, action, camera, frame): root_relative_mm (N, 14, 3), joints_2d_px (N, 15, 2), root_camera_mm (N, 3);
    sequences[s] = (subject, action, camera). input_2d: 'gt' (the folder's data_2d_humaneva15_gt.npz) or a path."""
    folder = Path(folder)
    poses = read_humaneva_3d(folder / FILE_3D)
    path_2d = folder / FILE_2D_GT if input_2d == "gt" else Path(input_2d)
    keypoints = read_humaneva_2d(path_2d)
    starts = read_frame_starts(path_2d)  # a file of clips: takes without 2D are left out
    cameras = cameras_for(folder)
    columns: dict[str, list] = {"rel": [], "px": [], "root": [], "seq": [], "frame": []}
    sequences = []
    for (subject, action), world_mm in sorted(poses.items()):
        if subject not in subjects or (actions is not None and action_group(action) not in actions):
            continue
        if starts is not None:
            if (subject, action) not in keypoints:
                continue
            first = int(starts[subject][action])
            world_mm = world_mm[first:first + len(keypoints[(subject, action)][0])]
        if (subject, action) not in keypoints:
            raise InputError(f"{path_2d}: positions_2d has no sequence '{subject}' '{action}'")
        if _base_subject(subject) not in cameras:
            raise InputError(f"no cameras of '{_base_subject(subject)}' (in {folder / CAMERAS_FILE} or the built-in "
                             f"VideoPose3D extrinsics of S1-S3)")
        for camera, joints_2d in zip(cameras[_base_subject(subject)], keypoints[(subject, action)]):
            camera_mm = camera.world_to_camera(world_mm)  # (T, 15, 3)
            count = min(len(camera_mm), len(joints_2d))
            columns["rel"].append(camera_mm[:count, 1:] - camera_mm[:count, :1])
            columns["px"].append(joints_2d[:count])
            columns["root"].append(camera_mm[:count, 0])
            columns["seq"].append(np.full(count, len(sequences)))
            columns["frame"].append(np.arange(count))  # positions in the 2D file's rows
            sequences.append((subject, action, camera.name))
    if not sequences:
        raise InputError(f"{folder}: no HumanEva sequences for subjects {list(subjects)} and actions "
                         f"{list(actions) if actions else 'any'}")
    tensor = lambda name, dtype=torch.float32: torch.as_tensor(np.concatenate(columns[name]), dtype=dtype)
    count = len(sequences)
    return PosePairs(tensor("rel"), tensor("px"), tensor("root"), tensor("seq", torch.long), tensor("frame", torch.long),
                     sequences, torch.zeros(count, 9), torch.zeros(count, 3))
