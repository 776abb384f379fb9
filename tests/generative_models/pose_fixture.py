"""A small Human3.6M-format pose set for the prior's command tests: random bodies inside rough joint limits.

Writes DATA_DIR/h36m/S{n}/MyPoses/3D_positions/<Action>.h5 (`3D_positions` (96, T) world mm), the layout of the
embedded synthetic dataset, so the prior's code reads it unchanged. (Independent random angles make a sparse, hard
pose set: good for checking files and commands, not for judging the prior; the AUC test uses the synthetic data.)
Poses: forward kinematics of the H36M-17 tree (body frame x right, y forward, z up) with hip, knee, spine, neck,
shoulder and elbow angles drawn inside joint limits, a random body size and a random heading.
"""
from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from utils.skeletons import H36M17, H36M17_FROM_32

SUBJECTS = (1, 5, 6, 7, 8, 9, 11)
OFFSETS_MM = np.array([
    [0, 0, 0], [110, 0, 0], [0, 0, -443], [0, 0, -454], [-110, 0, 0], [0, 0, -443], [0, 0, -454],
    [0, 0, 233], [0, 0, 257], [0, 20, 121], [0, 10, 115],
    [-145, 0, -40], [0, 0, -279], [0, 0, -252], [145, 0, -40], [0, 0, -279], [0, 0, -252],
], dtype=np.float64)


def _rot(axis: int, angles_deg: np.ndarray) -> np.ndarray:
    cos, sin = np.cos(np.deg2rad(angles_deg)), np.sin(np.deg2rad(angles_deg))
    out = np.zeros(angles_deg.shape + (3, 3))
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    out[..., axis, axis] = 1.0
    out[..., i, i], out[..., j, j], out[..., i, j], out[..., j, i] = cos, cos, -sin, sin
    return out


def sample_poses(count: int, rng: np.random.Generator) -> np.ndarray:
    """(count, 17, 3) world mm, H36M-17 order, z up."""
    u = lambda low, high: rng.uniform(low, high, count)  # noqa: E731
    local = np.tile(np.eye(3), (count, 17, 1, 1))
    for hip, knee, side in ((2, 3, -1.0), (5, 6, 1.0)):  # rotations stored at the joint whose bone they turn
        local[:, hip] = _rot(1, side * u(-10, 40)) @ _rot(0, u(-20, 100)) @ _rot(2, u(-30, 30))
        local[:, knee] = _rot(0, -u(0, 130))
    local[:, 7] = _rot(0, -u(-10, 30)) @ _rot(1, u(-15, 15))
    local[:, 9] = _rot(0, -u(-20, 30))
    for shoulder, elbow, side in ((12, 13, 1.0), (15, 16, -1.0)):
        local[:, shoulder] = _rot(1, side * u(0, 110)) @ _rot(0, u(-40, 150)) @ _rot(2, u(-60, 60))
        local[:, elbow] = _rot(0, u(0, 140))
    frames = np.empty((count, 17, 3, 3))
    points = np.zeros((count, 17, 3))
    frames[:, 0] = _rot(2, u(0, 360))
    points[:, 0] = np.stack([u(-500, 500), u(-500, 500), u(880, 960)], axis=-1)
    scale = u(0.9, 1.05)[:, None]
    for joint in range(1, 17):  # fixture construction only; parents precede children
        parent = H36M17.parents[joint]
        frames[:, joint] = frames[:, parent] @ local[:, joint]
        points[:, joint] = points[:, parent] + scale * (frames[:, joint] @ OFFSETS_MM[joint])
    return points


def write_pose_set(data_dir: Path, frames_per_action: int = 120, actions: int = 2, seed: int = 0,
                   nan_frames: int = 0) -> Path:
    """Write the fixture under DATA_DIR/h36m (the first `nan_frames` frames of every file NaN); returns that folder."""
    rng = np.random.default_rng(seed)
    h36m_dir = Path(data_dir) / "h36m"
    for subject in SUBJECTS:
        folder = h36m_dir / f"S{subject}" / "MyPoses" / "3D_positions"
        folder.mkdir(parents=True, exist_ok=True)
        for action in range(actions):
            joints_17 = sample_poses(frames_per_action, rng)
            joints_32 = np.repeat(joints_17[:, :1], 32, axis=1)
            joints_32[:, list(H36M17_FROM_32)] = joints_17
            joints_32[:nan_frames] = np.nan
            with h5py.File(folder / f"Action{action} 1.h5", "w") as handle:
                handle["3D_positions"] = joints_32.reshape(frames_per_action, 96).T
    return h36m_dir
