"""Implausible versions of real poses, to check that the prior ranks real poses above them.

Three kinds, each picking one limb per pose at random (a seeded `torch.Generator` makes them repeatable):
- `bone_scale`: the two bones of one limb (upper arm + forearm, or thigh + shin) made 1.3 times longer; the joints
  below move with them, directions unchanged.
- `limb_swap`: the left and right arm (or the left and right leg) exchange places: the joints keep their positions
  but swap labels, so the limb hangs from the wrong side of the body.
- `joint_limits`: one elbow or knee bent the wrong way (hyperextended) by 45-90 degrees past straight; the
  bone keeps its length. The bend direction is the limb's current one when it is bent by more than 20 degrees, else
  the anatomical one from the pelvis frame (knees bend backwards, elbows forwards).
Poses are (B, 17, 3) H36M-17 joints in any frame and unit; every function is vectorised over the batch.
"""
from __future__ import annotations

import math
from typing import Callable

import torch

from generative_models.pose_representation import (H36M17_PARENTS, bone_vectors, body_frame,
                                                   joints_from_bone_vectors, unit_vectors)
from utils.skeletons import H36M17

# (proximal, hinge, distal) joints per limb, H36M-17 indices; legs first.
LIMBS: dict[str, tuple[int, int, int]] = {
    "r_leg": (1, 2, 3), "l_leg": (4, 5, 6), "l_arm": (11, 12, 13), "r_arm": (14, 15, 16),
}
_LIMB_JOINTS = torch.tensor(list(LIMBS.values()))  # (4, 3)
_IS_LEG = torch.tensor([name.endswith("_leg") for name in LIMBS])
_STRAIGHT_BELOW_RAD = math.radians(20.0)


def _swap_permutation(pairs: list[tuple[int, int]]) -> torch.Tensor:
    perm = torch.arange(H36M17.num_joints)
    for left, right in pairs:
        perm[left], perm[right] = right, left
    return perm


# Row 0 swaps the legs, row 1 the arms (H36M17.flip_pairs: legs first, then arms).
_SWAPS = torch.stack([_swap_permutation(list(H36M17.flip_pairs[:3])), _swap_permutation(list(H36M17.flip_pairs[3:]))])


def _check(poses: torch.Tensor) -> None:
    assert poses.dim() == 3 and poses.shape[1:] == (17, 3), f"expected (B, 17, 3) H36M joints, got {tuple(poses.shape)}"


def scale_bones(poses: torch.Tensor, bone_mask: torch.Tensor, factor: float | torch.Tensor) -> torch.Tensor:
    """(B, 17, 3) -> (B, 17, 3) with the bone leading into each joint where `bone_mask` (B, 17) is True multiplied
    in length by `factor` (a number or (B,) per pose); the joints below follow rigidly, the root stays put."""
    _check(poses)
    bones = bone_vectors(poses, H36M17_PARENTS)  # (B, 16, 3)
    factor = torch.as_tensor(factor, dtype=poses.dtype, device=poses.device).reshape(-1, 1)
    scale = 1.0 + (factor - 1.0) * bone_mask[:, 1:].to(poses.dtype)  # (B, 16)
    return joints_from_bone_vectors(bones * scale[..., None], H36M17_PARENTS, root_position=poses[:, 0])


def swap_left_right(poses: torch.Tensor, swap_arms: torch.Tensor) -> torch.Tensor:
    """(B, 17, 3) -> (B, 17, 3) with the left and right arms (where `swap_arms` (B,) is True) or legs exchanged."""
    _check(poses)
    perm = _SWAPS.to(poses.device)[swap_arms.long()]  # (B, 17)
    return torch.gather(poses, 1, perm[..., None].expand(-1, -1, 3))


def hyperextend(poses: torch.Tensor, limb: torch.Tensor, angle_rad: torch.Tensor) -> torch.Tensor:
    """(B, 17, 3) -> (B, 17, 3) with limb `limb[i]` (index into LIMBS) bent the wrong way by `angle_rad[i]` past
    straight: the distal segment (forearm or shin) turns in its bending plane to the side opposite to flexion."""
    _check(poses)
    rows = torch.arange(poses.shape[0], device=poses.device)
    joints = _LIMB_JOINTS.to(poses.device)[limb]  # (B, 3)
    proximal, hinge, distal = (poses[rows, joints[:, k]] for k in range(3))  # (B, 3) each
    upper = unit_vectors(hinge - proximal)
    lower = distal - hinge
    along = (lower * upper).sum(-1, keepdim=True)
    across = lower - along * upper
    bent = torch.atan2(across.norm(dim=-1), along.squeeze(-1)) > _STRAIGHT_BELOW_RAD  # (B,)
    right, forward, _ = body_frame(poses)
    front = torch.linalg.cross(right, upper, dim=-1)  # knees flex away from it, elbows towards it
    degenerate = front.norm(dim=-1, keepdim=True) < 0.3  # limb along the hip line: use the body's forward axis
    front = torch.where(degenerate, forward - (forward * upper).sum(-1, keepdim=True) * upper, front)
    is_leg = _IS_LEG.to(poses.device)[limb][:, None]
    anatomical = unit_vectors(torch.where(is_leg, -front, front))
    flexion = torch.where(bent[:, None], unit_vectors(across), anatomical)  # (B, 3)
    angle = angle_rad[:, None].to(poses.dtype)
    new_lower = lower.norm(dim=-1, keepdim=True) * (torch.cos(angle) * upper - torch.sin(angle) * flexion)
    corrupted = poses.clone()
    corrupted[rows, joints[:, 2]] = hinge + new_lower  # the distal joints (wrists, feet) are leaves
    return corrupted


def corrupt_bone_scale(poses: torch.Tensor, generator: torch.Generator | None = None,
                       factor: float | torch.Tensor = 1.3) -> torch.Tensor:
    """One random limb per pose with both its bones `factor` (a number or (B,)) times longer."""
    limb = torch.randint(len(LIMBS), (poses.shape[0],), generator=generator).to(poses.device)
    mask = torch.zeros(poses.shape[:2], dtype=torch.bool, device=poses.device)
    joints = _LIMB_JOINTS.to(poses.device)[limb]
    rows = torch.arange(poses.shape[0], device=poses.device)
    mask[rows, joints[:, 1]] = True
    mask[rows, joints[:, 2]] = True
    return scale_bones(poses, mask, factor)


def corrupt_limb_swap(poses: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Left/right arms or legs (half each, at random) exchanged."""
    swap_arms = torch.randint(2, (poses.shape[0],), generator=generator).bool().to(poses.device)
    return swap_left_right(poses, swap_arms)


def corrupt_joint_limits(poses: torch.Tensor, generator: torch.Generator | None = None,
                         min_deg: float = 45.0, max_deg: float = 90.0) -> torch.Tensor:
    """One random elbow or knee per pose hyperextended by U(min_deg, max_deg) degrees."""
    limb = torch.randint(len(LIMBS), (poses.shape[0],), generator=generator).to(poses.device)
    degrees = min_deg + (max_deg - min_deg) * torch.rand(poses.shape[0], generator=generator)
    return hyperextend(poses, limb, torch.deg2rad(degrees).to(poses.device))


CORRUPTIONS: dict[str, Callable[..., torch.Tensor]] = {
    "bone_scale": corrupt_bone_scale,
    "limb_swap": corrupt_limb_swap,
    "joint_limits": corrupt_joint_limits,
}


def negative_examples(poses: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """(B, 17, 3) -> (B, 17, 3) training negatives for the critic: each pose corrupted by one of the three kinds at
    random, with random strengths wider than the evaluation's (a limb x1.15-1.5 longer or shorter, a limb swap, a
    hyperextension of 20-120 degrees)."""
    _check(poses)
    count = poses.shape[0]
    kind = torch.randint(3, (count,), generator=generator).to(poses.device)[:, None, None]
    longer = 1.15 + 0.35 * torch.rand(count, generator=generator)
    factor = torch.where(torch.rand(count, generator=generator) < 0.5, longer, 1.0 / longer)
    scaled = corrupt_bone_scale(poses, generator, factor.to(poses.device))
    swapped = corrupt_limb_swap(poses, generator)
    bent = corrupt_joint_limits(poses, generator, min_deg=20.0, max_deg=120.0)
    return torch.where(kind == 0, scaled, torch.where(kind == 1, swapped, bent))


def corrupt(poses: torch.Tensor, kind: str, generator: torch.Generator | None = None) -> torch.Tensor:
    """(B, 17, 3) -> (B, 17, 3) corrupted copies of `poses` of the given kind (a key of CORRUPTIONS)."""
    if kind not in CORRUPTIONS:
        raise ValueError(f"unknown corruption '{kind}' (expected one of {sorted(CORRUPTIONS)})")
    _check(poses)
    return CORRUPTIONS[kind](poses, generator)
