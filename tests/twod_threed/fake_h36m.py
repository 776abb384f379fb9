"""A tiny Human3.6M-like dataset written in the real file layouts, for tests and benchmarks.

Poses come from a small forward-kinematics model on the 32-joint tree (swinging limbs, turning and walking root),
cameras from four calibrated views per subject with mild distortion. Written as the 3D pose baseline layout
(S*/MyPoses/3D_positions/*.h5 + cameras.h5), the VideoPose3D layout (data_3d_h36m.npz, data_2d_h36m_gt.npz) or both.
"""
from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from utils.cameras import H36M_CAMERA_IDS, Camera, save_h36m_cameras
from utils.skeletons import H36M32, h36m17_from_32

# Rest offsets from the parent, mm, world frame (x right, y forward, z up) for the right side and the centre.
_RIGHT = {1: (-130, 0, 0), 2: (0, 0, -440), 3: (0, 0, -450), 4: (0, 120, -50), 5: (0, 60, 0),
          24: (-40, 0, 0), 25: (-140, 0, -20), 26: (0, 0, -280), 27: (0, 0, -250), 28: (0, 20, -40),
          29: (0, 20, -20), 30: (0, 0, -80), 31: (0, 0, -20)}
_CENTRE = {11: (0, 0, 1), 12: (0, 0, 230), 13: (0, 0, 250), 14: (0, 20, 115), 15: (0, 0, 110)}
ACTIONS = ("Directions", "Walking 1", "Eating", "Sitting 1")


def rest_offsets() -> np.ndarray:
    offsets = np.zeros((32, 3))
    for joint, offset in _CENTRE.items():
        offsets[joint] = offset
    for right, offset in _RIGHT.items():
        offsets[right] = offset
    for left, right in H36M32.flip_pairs:
        offsets[left] = offsets[right] * np.array([-1.0, 1.0, 1.0])
    return offsets


def _rotation_x(angle: np.ndarray) -> np.ndarray:
    c, s, o, i = np.cos(angle), np.sin(angle), np.zeros_like(angle), np.ones_like(angle)
    return np.stack([i, o, o, o, c, -s, o, s, c], -1).reshape(*angle.shape, 3, 3)


def _rotation_z(angle: np.ndarray) -> np.ndarray:
    c, s, o, i = np.cos(angle), np.sin(angle), np.zeros_like(angle), np.ones_like(angle)
    return np.stack([c, -s, o, s, c, o, o, o, i], -1).reshape(*angle.shape, 3, 3)


def sequence_world_mm(frames: int, rng: np.random.Generator, scale: float = 1.0) -> np.ndarray:
    """(T, 32, 3) world mm: limbs swinging about x, the body turning about z and drifting on the floor."""
    t = np.arange(frames) / 10.0
    offsets = rest_offsets() * scale
    swing = np.zeros((frames, 32))
    for joints, amplitude in (((2, 7), 0.6), ((3, 8), 0.8), ((26, 18), 1.2), ((27, 19), 1.0), ((13,), 0.3)):
        for k, joint in enumerate(joints):
            phase = rng.uniform(0, 2 * np.pi)
            swing[:, joint] = amplitude * rng.uniform(0.3, 1.0) * np.sin(rng.uniform(0.5, 2.0) * t + phase)
    local = _rotation_x(swing)  # (T, 32, 3, 3): rotation at each joint's parent end
    yaw = rng.uniform(-np.pi, np.pi) + rng.uniform(-0.5, 0.5) * t
    global_rotation = _rotation_z(yaw)  # (T, 3, 3)
    positions = np.zeros((frames, 32, 3))
    rotations = np.zeros((frames, 32, 3, 3))
    positions[:, 0] = np.stack([300 * np.sin(0.3 * t), 300 * np.cos(0.2 * t), 900 * scale + 0 * t], -1)
    rotations[:, 0] = global_rotation
    for joint in range(1, 32):
        parent = H36M32.parents[joint]
        rotations[:, joint] = rotations[:, parent] @ local[:, joint]
        positions[:, joint] = positions[:, parent] + np.einsum("tij,j->ti", rotations[:, parent] @ local[:, joint],
                                                               offsets[joint])
    return positions


def make_cameras(subject: int) -> dict[tuple[int, str], Camera]:
    """Four cameras on a 4.5 m circle, 1.6 m up, looking at (0, 0, 0.9 m), Human3.6M-like intrinsics."""
    cameras = {}
    for index, name in enumerate(H36M_CAMERA_IDS):
        angle = np.pi / 4 + index * np.pi / 2 + 0.05 * subject
        centre = np.array([4500 * np.cos(angle), 4500 * np.sin(angle), 1600.0])
        forward = np.array([0.0, 0.0, 900.0]) - centre
        forward /= np.linalg.norm(forward)
        right = np.cross(forward, [0.0, 0.0, 1.0])
        right /= np.linalg.norm(right)
        down = np.cross(forward, right)
        cameras[(subject, name)] = Camera(
            R=np.stack([right, down, forward]), T=centre, f=np.array([1145.0, 1144.0]) + index,
            c=np.array([512.0, 515.0]) - index, k=np.array([-0.2, 0.2, -0.002]) * (1 + 0.1 * index),
            p=np.array([-0.0009, -0.0015]), name=name, height=1002 if name == "60457274" else 1000)
    return cameras


def write_fake_h36m(root: str | Path, subjects=(1, 5, 9, 11), frames: int = 40, layout: str = "baseline",
                    actions=ACTIONS, seed: int = 0) -> Path:
    """Write the dataset under `root` and return it. layout: 'baseline', 'videopose3d' or 'both'.
    S11 also gets a 'Directions' sequence (the one real data set's loaders must drop)."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    cameras, positions_3d = {}, {}
    for subject in subjects:
        cameras.update(make_cameras(subject))
        scale = rng.uniform(0.9, 1.1)
        positions_3d[f"S{subject}"] = {action: sequence_world_mm(frames, rng, scale) for action in actions}
    save_h36m_cameras(root / "cameras.h5", cameras)
    if layout in ("baseline", "both"):
        for subject_name, actions_3d in positions_3d.items():
            folder = root / subject_name / "MyPoses" / "3D_positions"
            folder.mkdir(parents=True, exist_ok=True)
            for action, world_mm in actions_3d.items():
                with h5py.File(folder / f"{action}.h5", "w") as handle:
                    handle["3D_positions"] = world_mm.reshape(len(world_mm), 96).T
    if layout in ("videopose3d", "both"):
        metres = {s: {a: p / 1000.0 for a, p in acts.items()} for s, acts in positions_3d.items()}
        np.savez(root / "data_3d_h36m.npz", positions_3d=np.array(metres, dtype=object))
        keypoints = {s: {a: [cameras[(int(s[1:]), c)].project_world(h36m17_from_32(p)) for c in H36M_CAMERA_IDS]
                         for a, p in acts.items()} for s, acts in positions_3d.items()}
        metadata = {"num_joints": 17, "layout_name": "h36m",
                    "keypoints_symmetry": [[4, 5, 6, 11, 12, 13], [1, 2, 3, 14, 15, 16]]}
        np.savez(root / "data_2d_h36m_gt.npz", positions_2d=np.array(keypoints, dtype=object),
                 metadata=np.array(metadata, dtype=object))
    return root
