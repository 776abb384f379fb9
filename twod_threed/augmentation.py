"""Orthogonal augmentation: rotate the 3D pose about its root, mirror it left/right, re-project it to 2D.

Works on whole batches of camera-frame tensors; each sample is re-projected with its own sequence's camera
(intrinsics packed as (fx, fy, cx, cy, k1, k2, k3, p1, p2), Human3.6M's distortion model as in
`utils.cameras.project_to_pixels`). The augmented 2D input is exactly the projection of the augmented 3D target.
"""
from __future__ import annotations

import math

import torch

from utils.cameras import Camera
from utils.skeletons import H36M16_2D_FROM_17, H36M16_3D

FLIP_PERMUTATION_3D = torch.as_tensor(H36M16_3D.flip_permutation())  # (16,) left <-> right in H36M16_3D order
_NECK_NOSE_DROPPED = torch.as_tensor(H36M16_2D_FROM_17)  # (16,) indices into H36M-17


def pack_intrinsics(camera: Camera) -> torch.Tensor:
    """(9,) = (fx, fy, cx, cy, k1, k2, k3, p1, p2) of one camera, float64."""
    values = [camera.f.reshape(2), camera.c.reshape(2), camera.k.reshape(3), camera.p.reshape(2)]
    return torch.cat([torch.as_tensor(v, dtype=torch.float64) for v in values])


def project_batch(points_camera: torch.Tensor, intrinsics: torch.Tensor) -> torch.Tensor:
    """Distorted pinhole projection with one camera per sample.

    points_camera: (B, J, 3) camera frame, z > 0; intrinsics: (B, 9) as `pack_intrinsics`. Returns (B, J, 2) px.
    """
    assert points_camera.dim() == 3 and points_camera.shape[-1] == 3, tuple(points_camera.shape)
    assert intrinsics.shape == (points_camera.shape[0], 9), tuple(intrinsics.shape)
    focal, centre = intrinsics[:, None, 0:2], intrinsics[:, None, 2:4]  # (B, 1, 2)
    k1, k2, k3, p1, p2 = (intrinsics[:, None, i:i + 1] for i in range(4, 9))  # (B, 1, 1) each
    xy = points_camera[..., :2] / points_camera[..., 2:3]  # (B, J, 2)
    r2 = xy.square().sum(-1, keepdim=True)  # (B, J, 1)
    radial = 1 + k1 * r2 + k2 * r2 ** 2 + k3 * r2 ** 3
    tangential = p1 * xy[..., 0:1] + p2 * xy[..., 1:2]
    shift = torch.cat([p1 * r2, p2 * r2], dim=-1)  # (B, J, 2)
    return (xy * (radial + tangential) + shift) * focal + centre


def random_rotations(count: int, up_axes: torch.Tensor | None = None, generator: torch.Generator | None = None,
                     dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """(count, 3, 3) rotation matrices: uniform on SO(3), or uniform angles about the given unit axes (count, 3)."""
    if up_axes is None:
        quaternion = torch.randn(count, 4, generator=generator, dtype=dtype)
        w, x, y, z = (quaternion / quaternion.norm(dim=1, keepdim=True)).unbind(1)
        rows = [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
                2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
                2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]
        return torch.stack(rows, dim=1).reshape(count, 3, 3)
    assert up_axes.shape == (count, 3), tuple(up_axes.shape)
    angle = (torch.rand(count, generator=generator, dtype=dtype) * 2 - 1) * math.pi  # (count,)
    axis = up_axes.to(dtype) / up_axes.to(dtype).norm(dim=1, keepdim=True)
    zero = torch.zeros_like(angle)
    cross = torch.stack([zero, -axis[:, 2], axis[:, 1], axis[:, 2], zero, -axis[:, 0],
                         -axis[:, 1], axis[:, 0], zero], dim=1).reshape(count, 3, 3)  # [axis]_x
    eye = torch.eye(3, dtype=dtype).expand(count, 3, 3)
    sin, cos = angle.sin()[:, None, None], angle.cos()[:, None, None]
    return eye + sin * cross + (1 - cos) * cross @ cross  # Rodrigues


def full_pose(root_relative_mm: torch.Tensor, root_camera_mm: torch.Tensor) -> torch.Tensor:
    """(B, 16, 3) H36M16_3D root-relative + (B, 3) root -> (B, 17, 3) H36M-17 joints in the camera frame."""
    return torch.cat([root_camera_mm[:, None], root_relative_mm + root_camera_mm[:, None]], dim=1)


def project_h36m16_2d(root_relative_mm: torch.Tensor, root_camera_mm: torch.Tensor,
                      intrinsics: torch.Tensor) -> torch.Tensor:
    """The lifter's 2D input of a camera-frame pose: (B, 16, 3), (B, 3), (B, 9) -> (B, 16, 2) px, H36M16_2D order."""
    pixels = project_batch(full_pose(root_relative_mm, root_camera_mm), intrinsics)  # (B, 17, 2)
    return pixels[:, _NECK_NOSE_DROPPED.to(pixels.device)]


def augment_orthogonal(root_relative_mm: torch.Tensor, root_camera_mm: torch.Tensor, intrinsics: torch.Tensor,
                       up_camera: torch.Tensor, flip_prob: float = 0.5, z_rotations_only: bool = False,
                       generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Random rotation about the root (any, or about world up only), then a left/right mirror with `flip_prob`.

    root_relative_mm (B, 16, 3) H36M16_3D camera frame; root_camera_mm (B, 3); intrinsics (B, 9); up_camera (B, 3)
    the world's up axis in each camera's frame. The mirror negates camera x about the root and swaps left and right
    joints. Returns (joints_2d_px (B, 16, 2) H36M16_2D, root_relative_mm (B, 16, 3)) of the augmented pose.
    """
    count, device = root_relative_mm.shape[0], root_relative_mm.device
    rotation = random_rotations(count, up_camera.cpu() if z_rotations_only else None, generator,
                                root_relative_mm.dtype).to(device)  # (B, 3, 3)
    rotated = root_relative_mm @ rotation.transpose(1, 2)  # (B, 16, 3)
    flip = (torch.rand(count, generator=generator) < flip_prob).to(device)  # (B,)
    mirror = torch.ones(count, 1, 3, dtype=rotated.dtype, device=device)
    mirror[flip, 0, 0] = -1.0
    mirrored = (rotated * mirror)[:, FLIP_PERMUTATION_3D.to(device)]  # (B, 16, 3)
    augmented = torch.where(flip[:, None, None], mirrored, rotated)
    return project_h36m16_2d(augmented, root_camera_mm, intrinsics), augmented
