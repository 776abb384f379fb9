"""Joint sets used by stitchpose: MPII-16 and Human3.6M-32/17/16, with parents and left/right flip pairs.

Every joint order here is the one of the published files (see the README's "Data formats"); other modules index
joints through these tables instead of writing the numbers again.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class Skeleton:
    """A joint set: names in file order, the parent of each joint (-1 for the root) and left/right pairs."""

    name: str
    joint_names: tuple[str, ...]
    parents: tuple[int, ...]
    flip_pairs: tuple[tuple[int, int], ...]

    def __post_init__(self) -> None:
        assert len(self.joint_names) == len(self.parents), self.name
        assert all(-1 <= p < len(self.parents) for p in self.parents), self.name

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    @property
    def bones(self) -> tuple[tuple[int, int], ...]:
        """(parent, child) index pairs, one per non-root joint."""
        return tuple((p, j) for j, p in enumerate(self.parents) if p >= 0)

    def flip_permutation(self) -> np.ndarray:
        """Index array that swaps every left joint with its right twin: `mirrored = joints[..., perm, :]`."""
        perm = np.arange(self.num_joints)
        for a, b in self.flip_pairs:
            perm[a], perm[b] = b, a
        return perm

    def index(self, joint_name: str) -> int:
        return self.joint_names.index(joint_name)

    def side_of(self, joint: int) -> str:
        """'left', 'right' or 'centre', from the joint name (used for consistent drawing colours)."""
        name = self.joint_names[joint]
        if name.startswith(("l_", "left")):
            return "left"
        if name.startswith(("r_", "right")):
            return "right"
        return "centre"


MPII = Skeleton(
    name="mpii16",
    joint_names=(
        "r_ankle", "r_knee", "r_hip", "l_hip", "l_knee", "l_ankle", "pelvis", "thorax",
        "upper_neck", "head_top", "r_wrist", "r_elbow", "r_shoulder", "l_shoulder", "l_elbow", "l_wrist",
    ),
    parents=(1, 2, 6, 6, 3, 4, -1, 6, 7, 8, 11, 12, 7, 7, 13, 14),
    flip_pairs=((0, 5), (1, 4), (2, 3), (10, 15), (11, 14), (12, 13)),
)

# PCKh reporting groups: name -> MPII joint indices (left/right averaged); the mean excludes pelvis and thorax.
MPII_PCKH_GROUPS: dict[str, tuple[int, ...]] = {
    "Head": (9,),
    "Shoulder": (12, 13),
    "Elbow": (11, 14),
    "Wrist": (10, 15),
    "Hip": (2, 3),
    "Knee": (1, 4),
    "Ankle": (0, 5),
}
MPII_PCKH_MEAN_JOINTS: tuple[int, ...] = tuple(j for j in range(16) if j not in (6, 7))

H36M32 = Skeleton(
    name="h36m32",
    joint_names=(
        "hip", "r_hip", "r_knee", "r_foot", "r_toe", "r_toe_site",
        "l_hip", "l_knee", "l_foot", "l_toe", "l_toe_site",
        "spine_base", "spine", "thorax", "neck_nose", "head",
        "l_shoulder_base", "l_shoulder", "l_elbow", "l_wrist", "l_thumb", "l_thumb_site", "l_hand", "l_hand_site",
        "r_shoulder_base", "r_shoulder", "r_elbow", "r_wrist", "r_thumb", "r_thumb_site", "r_hand", "r_hand_site",
    ),
    # Shoulders hang from the thorax (13), as drawn by the 3D pose baseline.
    parents=(-1, 0, 1, 2, 3, 4, 0, 6, 7, 8, 9, 0, 11, 12, 13, 14,
             13, 16, 17, 18, 19, 20, 19, 22, 13, 24, 25, 26, 27, 28, 27, 30),
    flip_pairs=tuple((l, r) for l, r in zip((6, 7, 8, 9, 10, 16, 17, 18, 19, 20, 21, 22, 23),
                                            (1, 2, 3, 4, 5, 24, 25, 26, 27, 28, 29, 30, 31))),
)

# The 17 joints of the 32 that the published systems use, in file order.
H36M17_FROM_32: tuple[int, ...] = (0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27)


def _subset(full: Skeleton, keep: tuple[int, ...], name: str) -> Skeleton:
    """The skeleton restricted to `keep` (indices into `full`); a dropped parent hands over to its own parent."""
    position = {old: new for new, old in enumerate(keep)}

    def kept_parent(joint: int) -> int:
        parent = full.parents[joint]
        while parent >= 0 and parent not in position:
            parent = full.parents[parent]
        return position.get(parent, -1)

    pairs = tuple((position[a], position[b]) for a, b in full.flip_pairs if a in position and b in position)
    return Skeleton(name, tuple(full.joint_names[j] for j in keep), tuple(kept_parent(j) for j in keep), pairs)


H36M17 = _subset(H36M32, H36M17_FROM_32, "h36m17")
# 2D input of the lifting network: the 17 without neck/nose.
H36M16_2D_FROM_17: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16)
H36M16_2D = _subset(H36M17, H36M16_2D_FROM_17, "h36m16_2d")
# 3D output of the lifting network: the 17 without the hip (the root, always zero after root subtraction).
H36M16_3D_FROM_17: tuple[int, ...] = tuple(range(1, 17))
H36M16_3D = _subset(H36M17, H36M16_3D_FROM_17, "h36m16_3d")

# MPII (hourglass) order -> the 16 H36M 2D joints: h36m16_2d = mpii[..., MPII_TO_H36M16_2D, :].
# MPII thorax / upper_neck / head_top stand in for H36M spine / thorax / head (an approximation).
MPII_TO_H36M16_2D: tuple[int, ...] = (6, 2, 1, 0, 3, 4, 5, 7, 8, 9, 13, 14, 15, 12, 11, 10)
# Its inverse (the mapping is a permutation of the 16 joints): mpii = h36m16_2d[..., H36M16_2D_TO_MPII, :].
H36M16_2D_TO_MPII: tuple[int, ...] = tuple(int(j) for j in np.argsort(MPII_TO_H36M16_2D))

# HumanEva-I's 15 joints as VideoPose3D prepares them (data_*_humaneva15.npz), its parents and left/right lists.
HUMANEVA15 = Skeleton(
    name="humaneva15",
    joint_names=("pelvis", "thorax", "l_shoulder", "l_elbow", "l_wrist", "r_shoulder", "r_elbow", "r_wrist",
                 "l_hip", "l_knee", "l_ankle", "r_hip", "r_knee", "r_ankle", "head"),
    parents=(-1, 0, 1, 2, 3, 1, 5, 6, 0, 8, 9, 0, 11, 12, 1),
    flip_pairs=((2, 5), (3, 6), (4, 7), (8, 11), (9, 12), (10, 13)),
)
# The H36M-32 joint drawn at each HumanEva-15 joint (the synthetic generator's bodies are H36M-32 trees).
HUMANEVA15_FROM_H36M32: tuple[int, ...] = (0, 13, 17, 18, 19, 25, 26, 27, 6, 7, 8, 1, 2, 3, 15)
# 3D output of a HumanEva lifter: the 15 without the pelvis (the root, zero after root subtraction).
HUMANEVA14_3D = _subset(HUMANEVA15, tuple(range(1, 15)), "humaneva14_3d")

SKELETONS: dict[str, Skeleton] = {s.name: s for s in (MPII, H36M32, H36M17, H36M16_2D, H36M16_3D, HUMANEVA15,
                                                       HUMANEVA14_3D)}


def h36m17_from_32(joints: np.ndarray) -> np.ndarray:
    """(..., 32, D) -> (..., 17, D) in H36M-17 order."""
    assert joints.shape[-2] == 32, f"expected 32 joints, got shape {joints.shape}"
    return joints[..., list(H36M17_FROM_32), :]


def with_root(poses):
    """(..., 16, 3) H36M16_3D (17 minus the root) or (..., 17, 3) -> (..., 17, 3) H36M-17 with the root (hip) at zero
    if it was absent; flat (..., 48) or (..., 51) inputs are reshaped first. torch tensors or numpy arrays."""
    if poses.shape[-1] in (48, 51):
        poses = poses.reshape(*poses.shape[:-1], poses.shape[-1] // 3, 3)
    assert poses.shape[-1] == 3 and poses.shape[-2] in (16, 17), \
        f"expected (..., 16, 3) or (..., 17, 3) H36M joints, got shape {tuple(poses.shape)}"
    if poses.shape[-2] == 17:
        return poses
    if isinstance(poses, np.ndarray):
        return np.concatenate([np.zeros_like(poses[..., :1, :]), poses], axis=-2)
    return torch.cat([torch.zeros_like(poses[..., :1, :]), poses], dim=-2)


def mpii_to_h36m16_2d(joints: np.ndarray) -> np.ndarray:
    """(..., 16, D) MPII order -> (..., 16, D) in the lifting network's 2D input order (works on tensors too)."""
    assert joints.shape[-2] == 16, f"expected 16 MPII joints, got shape {tuple(joints.shape)}"
    return joints[..., list(MPII_TO_H36M16_2D), :]


# COCO-17 keypoints (what most 2D detectors give), in file order.
COCO17_JOINT_NAMES: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder", "left_elbow",
    "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle",
    "right_ankle",
)


def _coco17_to_h36m17_weights() -> np.ndarray:
    """(17, 17): H36M-17 joint h = sum_c W[h, c] COCO joint c. An approximation, as commonly used to lift COCO
    detections: pelvis (hip) = mid-hips, thorax = mid-shoulders, spine = midway between them, neck/nose = the
    nose, head = mid-eyes (H36M's head marker sits higher, near the top of the head); limbs map one to one."""
    coco = {name: index for index, name in enumerate(COCO17_JOINT_NAMES)}

    def mean_of(*names: str) -> dict[int, float]:
        return {coco[name]: 1.0 / len(names) for name in names}

    sources = [mean_of("left_hip", "right_hip"), mean_of("right_hip"), mean_of("right_knee"),
               mean_of("right_ankle"), mean_of("left_hip"), mean_of("left_knee"), mean_of("left_ankle"),
               mean_of("left_hip", "right_hip", "left_shoulder", "right_shoulder"),  # spine: mid pelvis-thorax
               mean_of("left_shoulder", "right_shoulder"), mean_of("nose"), mean_of("left_eye", "right_eye"),
               mean_of("left_shoulder"), mean_of("left_elbow"), mean_of("left_wrist"),
               mean_of("right_shoulder"), mean_of("right_elbow"), mean_of("right_wrist")]
    weights = np.zeros((17, 17))
    for h36m_joint, combination in enumerate(sources):
        for coco_joint, weight in combination.items():
            weights[h36m_joint, coco_joint] = weight
    return weights


COCO17_TO_H36M17_WEIGHTS: np.ndarray = _coco17_to_h36m17_weights()


def coco17_to_h36m17(joints: np.ndarray) -> np.ndarray:
    """(..., 17, D) COCO-17 -> (..., 17, D) H36M-17 order (see `_coco17_to_h36m17_weights`: an approximation)."""
    assert joints.shape[-2] == 17, f"expected 17 COCO keypoints, got shape {tuple(joints.shape)}"
    return np.einsum("hc,...cd->...hd", COCO17_TO_H36M17_WEIGHTS, joints)
