"""Clip augmentation for training the recogniser: a left/right mirror and a turn of the whole clip about the world's
vertical axis through the hip (the person faces another way; the camera stays). One draw per clip, so the motion
stays a motion; padding (zeros) stays zero. Draws come from torch's global generator, which the training loop
re-seeds every step (exact resume).

3D features: (B, T, 48) H36M16_3D camera-frame mm; mirror = negate camera x and swap left/right joints (the mirror
image seen by the same camera). 2D features: (B, T, 30) hip-relative H36M16_2D px; mirror only.
"""
from __future__ import annotations

import torch

from twod_threed.augmentation import FLIP_PERMUTATION_3D, random_rotations
from utils.skeletons import H36M16_2D

FLIP_PERMUTATION_2D = torch.as_tensor(H36M16_2D.flip_permutation()[1:] - 1)  # (15,) the joints other than the hip


def augment_clips(features: torch.Tensor, up_camera: torch.Tensor | None, flip_prob: float,
                  rotate: bool) -> torch.Tensor:
    """features (B, T, 48 | 30); up_camera (B, 3) each clip's world up in its camera frame (None: no turn)."""
    batch, steps, width = features.shape
    dims = 3 if width == 48 else 2
    joints = features.reshape(batch, steps, -1, dims)  # (B, T, J, D)
    if rotate and up_camera is not None and dims == 3:
        rotations = random_rotations(batch, up_camera.float()).to(features)  # (B, 3, 3) about up
        joints = joints @ rotations[:, None].transpose(-1, -2)
    flip = torch.rand(batch) < flip_prob  # (B,)
    if flip.any():
        permutation = FLIP_PERMUTATION_3D if dims == 3 else FLIP_PERMUTATION_2D
        sign = torch.ones(dims, dtype=features.dtype, device=features.device)
        sign[0] = -1.0
        mirrored = joints[:, :, permutation.to(features.device)] * sign
        joints = torch.where(flip.to(features.device)[:, None, None, None], mirrored, joints)
    return joints.reshape(batch, steps, width)
