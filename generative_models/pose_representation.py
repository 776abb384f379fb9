"""How the pose prior sees a pose: root-relative, scale-normalised, in the body's own frame; bone vectors.

All functions are pure torch, vectorised over joints through the skeleton's parent table (`parents[j]` is the
parent of joint j, -1 for the root; parents precede children in Human3.6M order). Poses are (..., J, 3) in any
length unit; "normalised" means divided by the pose's mean bone length, so a normalised pose has mean bone length 1
whatever the person's size. "Canonical" means rotated into the pelvis/torso frame (x: left hip -> right hip,
z: root -> thorax, y = z cross x, forward), so the representation does not depend on the frame the pose came in
(camera or world) nor on where the person faces.
"""
from __future__ import annotations

from typing import Sequence

import torch

from utils.skeletons import H36M17, with_root

H36M17_PARENTS: tuple[int, ...] = H36M17.parents
NUM_JOINTS = H36M17.num_joints  # 17; the root (hip) is joint 0


def _parent_index(parents: Sequence[int], device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """(children, their parents) as index tensors: one entry per non-root joint, in joint order."""
    table = torch.as_tensor(parents, dtype=torch.long, device=device)
    children = torch.nonzero(table >= 0).flatten()
    return children, table[children]


def root_relative(poses: torch.Tensor, root: int = 0) -> torch.Tensor:
    """(..., J, 3) -> (..., J, 3) with joint `root` moved to the origin."""
    assert poses.shape[-1] == 3, f"expected (..., J, 3), got {tuple(poses.shape)}"
    return poses - poses[..., root:root + 1, :]


def bone_vectors(poses: torch.Tensor, parents: Sequence[int] = H36M17_PARENTS) -> torch.Tensor:
    """(..., J, 3) joints -> (..., J-1, 3) bone vectors child - parent, one per non-root joint, in joint order."""
    assert poses.shape[-2:] == (len(parents), 3), f"expected (..., {len(parents)}, 3), got {tuple(poses.shape)}"
    children, their_parents = _parent_index(parents, poses.device)
    return poses[..., children, :] - poses[..., their_parents, :]


def bone_lengths(poses: torch.Tensor, parents: Sequence[int] = H36M17_PARENTS) -> torch.Tensor:
    """(..., J, 3) joints -> (..., J-1) bone lengths, in the unit of `poses`."""
    return bone_vectors(poses, parents).norm(dim=-1)


def chain_matrix(parents: Sequence[int], device: torch.device | str = "cpu",
                 dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """(J, J) matrix A with A[j, k] = 1 when joint k lies on the path from the root to joint j (k = j included).

    With `step[k]` = joint k minus its parent (the root's own position for the root), joints = A @ step.
    Computed as (I - M)^-1 where M[j, parents[j]] = 1 (M is nilpotent, so the inverse is a finite sum).
    """
    count = len(parents)
    table = torch.as_tensor(parents, dtype=torch.long)
    step_matrix = torch.zeros(count, count, dtype=torch.float64)
    children = torch.nonzero(table >= 0).flatten()
    step_matrix[children, table[children]] = 1.0
    chain = torch.linalg.inv(torch.eye(count, dtype=torch.float64) - step_matrix).round()
    return chain.to(device=device, dtype=dtype)


def joints_from_bone_vectors(bones: torch.Tensor, parents: Sequence[int] = H36M17_PARENTS,
                             root_position: torch.Tensor | None = None) -> torch.Tensor:
    """(..., J-1, 3) bone vectors (the output of `bone_vectors`) -> (..., J, 3) joints, root at `root_position` (0).

    Assumes a single root at index 0.
    """
    assert parents[0] == -1 and all(p >= 0 for p in parents[1:]), "expected a single root at index 0"
    assert bones.shape[-2:] == (len(parents) - 1, 3), f"expected (..., {len(parents) - 1}, 3), got {tuple(bones.shape)}"
    root = torch.zeros_like(bones[..., :1, :]) if root_position is None else root_position.unsqueeze(-2)
    steps = torch.cat([root, bones], dim=-2)  # (..., J, 3)
    return chain_matrix(parents, bones.device, bones.dtype) @ steps


def pose_scale(poses: torch.Tensor, parents: Sequence[int] = H36M17_PARENTS) -> torch.Tensor:
    """(..., J, 3) -> (...) the mean bone length, in the unit of `poses` (articulation-independent)."""
    return bone_lengths(poses, parents).mean(dim=-1)


def normalise_pose(poses: torch.Tensor, parents: Sequence[int] = H36M17_PARENTS,
                   eps: float = 1e-6) -> tuple[torch.Tensor, torch.Tensor]:
    """(..., J, 3) -> ((..., J, 3) root-relative pose divided by its mean bone length, (...) that scale).

    Differentiable; `eps` keeps a collapsed pose (all joints equal) finite.
    """
    centred = root_relative(poses)
    scale = pose_scale(centred, parents)
    return centred / (scale[..., None, None] + eps), scale


def canonical_rotation(poses: torch.Tensor) -> torch.Tensor:
    """(..., 17, 3) H36M joints -> (..., 3, 3) rotation whose rows are the body's (right, forward, up) axes.

    `poses @ R.transpose(-1, -2)` expresses the joints in the body frame. A proper rotation (det +1).
    """
    return torch.stack(body_frame(poses), dim=-2)


def canonicalise(poses: torch.Tensor) -> torch.Tensor:
    """(..., 17, 3) -> (..., 17, 3) the same joints in the body frame (x right, y forward, z up); differentiable."""
    return poses @ canonical_rotation(poses).transpose(-1, -2)


def prior_representation(poses: torch.Tensor) -> torch.Tensor:
    """(..., 16 or 17, 3) root-relative H36M joints, any frame and unit -> (..., 17, 3) what the prior sees:
    root at zero, mean bone length 1, in the body frame."""
    return canonicalise(normalise_pose(with_root(poses))[0])


def body_frame(poses: torch.Tensor, right_hip: int = 1, left_hip: int = 4, thorax: int = 8,
               root: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(..., 17, 3) H36M joints -> unit (right, forward, up) axes of the pelvis/torso, each (..., 3).

    right: left hip -> right hip; up: root -> thorax made orthogonal to `right`; forward = up x right.
    """
    right = unit_vectors(poses[..., right_hip, :] - poses[..., left_hip, :])
    spine = poses[..., thorax, :] - poses[..., root, :]
    up = unit_vectors(spine - (spine * right).sum(-1, keepdim=True) * right)
    forward = torch.linalg.cross(up, right, dim=-1)
    return right, forward, up


def unit_vectors(vectors: torch.Tensor, eps: float = 1e-9) -> torch.Tensor:
    """(..., 3) -> (..., 3) divided by their norms (zero vectors stay near zero)."""
    return vectors / (vectors.norm(dim=-1, keepdim=True) + eps)
