"""Write Human3.6M-style files: per-sequence 3D poses, cameras.h5, VideoPose3D npz files, the frame index.

Conventions (see ../shared/specimens/README.md): `S{n}/MyPoses/3D_positions/<Action>.h5` holds '3D_positions'
(96, T) float64, world mm, joint-major (x, y, z per joint); `data_3d_h36m.npz` holds positions_3d[subject][action]
(T, 32, 3) metres and `data_2d_h36m_gt.npz` positions_2d[subject][action] = 4 x (T, 32, 2) pixels in
`H36M_CAMERA_IDS` order, plus metadata. npz members carry a fixed timestamp so equal data gives equal bytes.
"""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import h5py
import numpy as np

from utils.cameras import H36M_CAMERA_IDS, Camera, save_h36m_cameras
from utils.skeletons import H36M32


def poses_path(h36m_dir: Path, subject: int, action: str) -> Path:
    return h36m_dir / f"S{subject}" / "MyPoses" / "3D_positions" / f"{action}.h5"


def frame_path(subject: int, action: str, camera_id: str, frame: int) -> str:
    """Image path relative to h36m/."""
    return f"S{subject}/Images/{action}.{camera_id}/{frame:06d}.jpg"


def write_poses(path: Path, joints_mm: np.ndarray) -> None:
    """(T, 32, 3) world mm -> '3D_positions' (96, T) float64."""
    assert joints_mm.ndim == 3 and joints_mm.shape[1:] == (32, 3), joints_mm.shape
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as handle:
        handle.create_dataset("3D_positions", data=joints_mm.reshape(len(joints_mm), 96).T.astype(np.float64))


def write_cameras(path: Path, cameras: dict[int, dict[str, Camera]]) -> None:
    """{subject: {camera_id: Camera}} -> cameras.h5 through `utils.cameras.save_h36m_cameras`."""
    save_h36m_cameras(path, {(subject, camera_id): camera for subject, rig in cameras.items()
                             for camera_id, camera in rig.items()})


def project_sequence(joints_mm: np.ndarray, rig: dict[str, Camera]) -> list[np.ndarray]:
    """(T, 32, 3) world mm -> 4 x (T, 32, 2) float32 pixels, one per camera in `H36M_CAMERA_IDS` order."""
    return [rig[camera_id].project_world(joints_mm).astype(np.float32) for camera_id in H36M_CAMERA_IDS]


def save_npz_reproducible(path: Path, **arrays: object) -> None:
    """Like `np.savez` (objects pickled), but with fixed member timestamps, so the file bytes depend on data only."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for key, value in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.asanyarray(value), allow_pickle=True)
            archive.writestr(zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0)), buffer.getvalue())


def _as_object(value: dict) -> np.ndarray:
    holder = np.empty((), dtype=object)
    holder[()] = value
    return holder


def write_videopose_files(h36m_dir: Path, poses_mm: dict[str, dict[str, np.ndarray]],
                          cameras: dict[int, dict[str, Camera]]) -> None:
    """data_3d_h36m.npz (metres, world) and data_2d_h36m_gt.npz (pixels) from {'S1': {'Walking': (T, 32, 3) mm}}."""
    positions_3d = {subject: {action: (joints / 1000.0).astype(np.float32) for action, joints in actions.items()}
                    for subject, actions in poses_mm.items()}
    positions_2d = {subject: {action: project_sequence(joints, cameras[int(subject[1:])])
                              for action, joints in actions.items()} for subject, actions in poses_mm.items()}
    left, right = zip(*H36M32.flip_pairs)
    metadata = {"num_joints": 32, "keypoints_symmetry": [list(left), list(right)], "layout_name": "h36m"}
    save_npz_reproducible(h36m_dir / "data_3d_h36m.npz", positions_3d=_as_object(positions_3d))
    save_npz_reproducible(h36m_dir / "data_2d_h36m_gt.npz", positions_2d=_as_object(positions_2d),
                          metadata=_as_object(metadata))


def write_frame_index(h36m_dir: Path, frames: list[dict]) -> None:
    """frames.json: one {subject, action, camera, frame, image} per rendered frame (image relative to h36m/)."""
    (h36m_dir / "frames.json").write_text(json.dumps(frames, indent=0) + "\n")
