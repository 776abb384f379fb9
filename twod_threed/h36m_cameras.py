"""The published Human3.6M cameras, shipped with the project: 4 cameras x 7 subjects (S1 S5 S6 S7 S8 S9 S11).

Human3.6M's calibration (intrinsics per camera, extrinsics per subject and camera) is the same set of numbers every
tool carries (the 3D pose baseline's `cameras.h5`, VideoPose3D's `h36m_dataset.py`). `h36m_cameras.json`, next to
this module, holds them in `utils.cameras.Camera`'s conventions (R world -> camera, T the camera centre in world mm,
f and c in px, radial k1..k3, tangential (p1, p2)), so that data in VideoPose3D's npz files alone is enough: a
`cameras.h5` next to the poses still overrides them (`twod_threed.data.read_cameras`).

The table was written from the 3D pose baseline's cameras.h5 with `camera_table(load_h36m_cameras(path))`.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from utils.cameras import H36M_CAMERA_IDS, Camera
from utils.errors import InputError

TABLE_PATH = Path(__file__).with_name("h36m_cameras.json")
BUILTIN_SUBJECTS: tuple[int, ...] = (1, 5, 6, 7, 8, 9, 11)


def _image_size(camera_id: str) -> tuple[int, int]:
    """(width, height) px: 1000 x 1000, except 1000 x 1002 for camera 60457274."""
    return (1000, 1002) if camera_id == "60457274" else (1000, 1000)


def camera_table(cameras: dict[tuple[int, str], Camera]) -> dict:
    """{(subject, camera_id): Camera} -> the JSON table: {"intrinsics": {id: {f, c, k, p}}, "extrinsics":
    {"S<n>": {id: {R, T}}}} (intrinsics are per camera; the first subject's are kept)."""
    table: dict = {"intrinsics": {}, "extrinsics": {}}
    for (subject, camera_id), camera in sorted(cameras.items()):
        table["intrinsics"].setdefault(camera_id, {k: getattr(camera, k).tolist() for k in ("f", "c", "k", "p")})
        table["extrinsics"].setdefault(f"S{subject}", {})[camera_id] = {"R": camera.R.tolist(),
                                                                         "T": camera.T.tolist()}
    return table


@lru_cache(maxsize=1)
def _table() -> dict:
    return json.loads(TABLE_PATH.read_text())


def builtin_cameras(subjects: tuple[int, ...] | list[int] | None = None) -> dict[tuple[int, str], Camera]:
    """{(subject, camera_id): Camera} of `subjects` (default: all seven), cameras in Human3.6M's order.
    InputError for a subject the table lacks (only a cameras.h5 can give its cameras)."""
    table = _table()
    wanted = BUILTIN_SUBJECTS if subjects is None else tuple(int(s) for s in subjects)
    missing = [s for s in wanted if f"S{s}" not in table["extrinsics"]]
    if missing:
        raise InputError(f"no built-in Human3.6M cameras for subjects {missing} (built in: S"
                         f"{', S'.join(map(str, BUILTIN_SUBJECTS))}); put their cameras.h5 next to the poses")
    cameras = {}
    for subject in wanted:
        for camera_id in H36M_CAMERA_IDS:
            intrinsic, extrinsic = table["intrinsics"][camera_id], table["extrinsics"][f"S{subject}"][camera_id]
            width, height = _image_size(camera_id)
            cameras[(subject, camera_id)] = Camera(
                R=np.asarray(extrinsic["R"], dtype=np.float64), T=np.asarray(extrinsic["T"], dtype=np.float64),
                **{k: np.asarray(intrinsic[k], dtype=np.float64) for k in ("f", "c", "k", "p")},
                name=camera_id, width=width, height=height)
    return cameras
