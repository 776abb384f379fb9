"""The poses the prior learns from: Human3.6M 3D poses as root-relative H36M-17 joints in each camera's frame (mm).

Frame choice: the camera frame (x right, y down, z forward, as in Human3.6M's cameras), because the poses the prior
will judge -- the lifting network's outputs -- are camera-frame root-relative poses. Every world pose gives one
training pose per camera of its subject (4 in Human3.6M).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from twod_threed.h36m_files import read_h36m_poses
from utils.cameras import load_h36m_cameras
from utils.errors import InputError
from utils.skeletons import h36m17_from_32


def h36m_folder(data_dir: str | Path | None) -> Path:
    """The folder holding S<n>/... and cameras.h5: DATA_DIR/h36m when it exists, else DATA_DIR itself; without
    --data_dir, the embedded synthetic dataset's (generated on first use)."""
    if data_dir is None:
        try:
            from synthetic import default_data_dir
        except ImportError as error:
            raise InputError("no --data_dir given and the embedded synthetic dataset is not available in this "
                             "checkout; pass --data_dir with Human3.6M poses (S<n>/MyPoses/3D_positions/*.h5 "
                             "and cameras.h5)") from error
        data_dir = default_data_dir() if callable(default_data_dir) else default_data_dir
    data_dir = Path(data_dir)
    return data_dir / "h36m" if (data_dir / "h36m").is_dir() else data_dir


def camera_frame_poses(h36m_dir: str | Path, subjects: tuple[int, ...], frame_stride: int = 1) -> torch.Tensor:
    """Read the subjects' 3D poses -> (N, 17, 3) float32 root-relative H36M-17 joints, camera frame, mm.

    Every `frame_stride`-th frame of each sequence is kept, seen from every camera of its subject; order:
    sequences sorted by (subject, action), then frames, then cameras.
    """
    h36m_dir = Path(h36m_dir)
    if frame_stride <= 0:
        raise InputError(f"frame_stride must be positive, got {frame_stride}")
    sequences = read_h36m_poses(h36m_dir, subjects)
    if not sequences:
        raise InputError(f"{h36m_dir}: no 3D pose sequences for subjects {list(subjects)}")
    camera_file = h36m_dir / "cameras.h5"
    try:
        cameras = load_h36m_cameras(camera_file, list(subjects))
    except (KeyError, ValueError) as error:
        raise InputError(str(error)) from error
    chunks = []
    for (subject, _), world_32 in sorted(sequences.items()):
        world = h36m17_from_32(world_32[::frame_stride])  # (T, 17, 3) world mm
        rotations = [camera.R for (cam_subject, _), camera in sorted(cameras.items()) if cam_subject == subject]
        if not rotations:
            raise InputError(f"{camera_file}: no cameras for subject {subject} (expected a group 'subject{subject}')")
        centred = world - world[:, :1]  # root-relative; the camera's translation drops out
        chunks.append(np.einsum("cij,tkj->tcki", np.stack(rotations), centred).reshape(-1, 17, 3))
    return torch.from_numpy(np.concatenate(chunks).astype(np.float32))
