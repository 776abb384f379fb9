"""The poses the prior learns from: Human3.6M 3D poses as root-relative H36M-17 joints, world frame, mm.

The prior is rotation-invariant (it looks at every pose in the pose's own body frame, see `pose_representation`),
so the world frame serves as well as any camera frame, and one copy of each pose is enough.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from twod_threed.h36m_files import read_h36m_poses
from utils.errors import InputError
from utils.skeletons import h36m17_from_32


def root_relative_poses(h36m_dir: str | Path, subjects: tuple[int, ...], frame_stride: int = 1) -> torch.Tensor:
    """Read the subjects' 3D poses -> (N, 17, 3) float32 root-relative H36M-17 joints, world frame, mm.

    Every `frame_stride`-th frame of each sequence is kept; sequences in (subject, action) order.
    """
    if frame_stride <= 0:
        raise InputError(f"frame_stride must be positive, got {frame_stride}")
    sequences = read_h36m_poses(h36m_dir, subjects)
    if not sequences:
        raise InputError(f"{h36m_dir}: no 3D pose sequences for subjects {list(subjects)}")
    chunks = []
    for _, world_32 in sorted(sequences.items()):
        joints = h36m17_from_32(world_32[::frame_stride])  # (T, 17, 3) world mm
        chunks.append(joints - joints[:, :1])
    return torch.from_numpy(np.concatenate(chunks).astype(np.float32))
