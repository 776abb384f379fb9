"""A kinematic human on the Human3.6M 32-joint tree: bone lengths, body proportions, joint limits, forward kinematics.

Body frame: x to the person's right, y forward, z up (the Human3.6M world frame is z-up with the floor at z = 0).
Joint angles are side-normalised degrees (flexion, abduction, twist) per joint; the rotation stored at joint j turns
the bone that leads into j (parent -> j) and everything below it, so "r_shoulder" is the rotation at the r_elbow
index. Left and right use the same numbers for mirror-image poses.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from utils.skeletons import H36M32

NUM_JOINTS = 32
PARENTS = np.array(H36M32.parents)
CROWN, NOSE = 32, 33  # extra points returned by `forward_kinematics` after the 32 joints
NUM_POINTS = 34
FOOT_POINTS = (3, 4, 5, 8, 9, 10)
SOLE_MM = 44.0  # foot point above the floor at contact (the foot radius), for girth 1
FLEX, ABD, TWIST = 0, 1, 2

# Anatomical joint -> the H36M index whose rotation moves the bone it drives.
ANATOMY: dict[str, int] = {
    "r_hip": 2, "r_knee": 3, "r_ankle": 4, "l_hip": 7, "l_knee": 8, "l_ankle": 9,
    "spine_low": 12, "spine_up": 13, "neck": 14, "head": 15,
    "l_clavicle": 17, "l_shoulder": 18, "l_elbow": 19, "l_wrist": 22,
    "r_clavicle": 25, "r_shoulder": 26, "r_elbow": 27, "r_wrist": 30,
}
_RIGHT = {1, 2, 3, 4, 5, 24, 25, 26, 27, 28, 29, 30, 31}
_LEFT = {6, 7, 8, 9, 10, 16, 17, 18, 19, 20, 21, 22, 23}
_SIDE_SIGN = np.array([-1.0 if j in _RIGHT else 1.0 for j in range(NUM_JOINTS)])
# Matrix-angle sign of (flex, abd, twist) per joint: knees flex backwards, the spine bends forwards and to the left.
_AXIS_SIGN = np.ones((NUM_JOINTS, 3))
for _joint in (3, 8):
    _AXIS_SIGN[_joint, FLEX] = -1.0
for _joint in (12, 13, 14, 15):
    _AXIS_SIGN[_joint, FLEX] = -1.0
    _AXIS_SIGN[_joint, ABD] = -1.0

# Rest pose of an average adult, offsets from the parent in mm (Human3.6M bone lengths; arms hanging down).
_REST_RIGHT = {1: (110, 0, 0), 2: (0, 0, -443), 3: (0, 0, -454), 4: (0, 153, -55), 5: (0, 75, 0),
               25: (145, 0, -40), 26: (0, 0, -279), 27: (0, 0, -252), 29: (0, 50, -85), 30: (0, 0, -100)}
_LEFT_OF_RIGHT = {right: left for left, right in H36M32.flip_pairs}
_REST_CENTRE = {12: (0, 0, 233), 13: (0, 0, 257), 14: (0, 20, 121), 15: (0, 10, 115)}
REST_OFFSETS_MM = np.zeros((NUM_JOINTS, 3))
for _joint, _offset in _REST_CENTRE.items():
    REST_OFFSETS_MM[_joint] = _offset
for _joint, _offset in _REST_RIGHT.items():
    REST_OFFSETS_MM[_joint] = _offset
    REST_OFFSETS_MM[_LEFT_OF_RIGHT[_joint]] = (-_offset[0], _offset[1], _offset[2])
CROWN_FRACTION = 0.7  # crown = head + 0.7 x (head - neck): the top of the skull, just inside the drawn head
NOSE_OFFSET = np.array([0.0, 0.75, -0.2])  # nose tip in the head frame, in units of the neck->head bone

# Joint limits, side-normalised degrees: [min, max] for flexion, abduction, twist.
_LIMITS = {
    "hip": ((-30, 125), (-30, 50), (-40, 45)), "knee": ((0, 150), (-3, 3), (-10, 10)),
    "ankle": ((-45, 35), (-15, 15), (-10, 10)), "spine_low": ((-25, 60), (-30, 30), (-35, 35)),
    "spine_up": ((-20, 40), (-20, 20), (-30, 30)), "neck": ((-40, 50), (-30, 30), (-60, 60)),
    "head": ((-30, 35), (-20, 20), (-40, 40)), "clavicle": ((0, 0), (-10, 30), (-15, 15)),
    "shoulder": ((-60, 180), (-30, 170), (-90, 90)), "elbow": ((0, 150), (0, 0), (-80, 80)),
    "wrist": ((-70, 70), (-30, 30), (0, 0)),
}
JOINT_LIMITS_DEG = np.zeros((NUM_JOINTS, 3, 2))
for _name, _joint in ANATOMY.items():
    JOINT_LIMITS_DEG[_joint] = _LIMITS[_name.removeprefix("l_").removeprefix("r_")]


@dataclass(frozen=True)
class BodyShape:
    """One person's skeleton: rest offsets (32, 3) mm in the body frame and a limb-thickness factor."""

    offsets_mm: np.ndarray
    girth: float  # multiplies every limb radius (1 = average build)

    @property
    def height_mm(self) -> float:
        """Standing height from the floor to the crown, arms down (mm)."""
        rest = forward_kinematics(self, np.zeros((1, NUM_JOINTS, 3)), np.eye(3)[None], np.zeros((1, 3)))
        return float(rest[0, CROWN, 2] - rest[0, list(FOOT_POINTS), 2].min() + SOLE_MM * self.girth)


def sample_body_shape(rng: np.random.Generator) -> BodyShape:
    """A random adult: overall scale 0.88-1.03 (about 1.6-1.9 m) and per-segment proportions within +-6 %."""
    scale = rng.uniform(0.88, 1.03)
    factors = {name: rng.uniform(0.94, 1.06) for name in ("leg", "arm", "trunk", "shoulder", "hip", "head")}
    segment = np.ones(NUM_JOINTS)
    segment[[2, 3, 7, 8]] = factors["leg"]
    segment[[18, 19, 26, 27, 22, 30, 21, 29]] = factors["arm"]
    segment[[12, 13, 14]] = factors["trunk"]
    segment[[15]] = factors["head"]
    segment[[17, 25]] = factors["shoulder"]
    segment[[1, 6]] = factors["hip"]
    offsets = REST_OFFSETS_MM * (scale * segment)[:, None]
    return BodyShape(offsets_mm=offsets, girth=float(rng.uniform(0.85, 1.15) * scale))


def clamp_to_limits(angles_deg: np.ndarray) -> np.ndarray:
    """(..., 32, 3) side-normalised angles -> the same, clipped to `JOINT_LIMITS_DEG` (joints without limits: 0)."""
    return np.clip(angles_deg, JOINT_LIMITS_DEG[..., 0], JOINT_LIMITS_DEG[..., 1])


def _rotations(axis: int, angles_rad: np.ndarray) -> np.ndarray:
    """(...,) angles -> (..., 3, 3) rotations about the x (0), y (1) or z (2) axis."""
    cos, sin = np.cos(angles_rad), np.sin(angles_rad)
    out = np.zeros(angles_rad.shape + (3, 3))
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    out[..., axis, axis] = 1.0
    out[..., i, i], out[..., j, j] = cos, cos
    out[..., i, j], out[..., j, i] = -sin, sin
    return out


def local_rotations(angles_deg: np.ndarray) -> np.ndarray:
    """(T, 32, 3) side-normalised (flex, abd, twist) degrees -> (T, 32, 3, 3) = Ry(abd) Rx(flex) Rz(twist)."""
    matrix_angles = np.deg2rad(angles_deg) * _AXIS_SIGN
    matrix_angles[..., ABD] *= _SIDE_SIGN
    matrix_angles[..., TWIST] *= _SIDE_SIGN
    return _rotations(1, matrix_angles[..., ABD]) @ _rotations(0, matrix_angles[..., FLEX]) @ _rotations(
        2, matrix_angles[..., TWIST])


def root_rotation(yaw_rad: np.ndarray, pitch_deg: np.ndarray, roll_deg: np.ndarray) -> np.ndarray:
    """(T,) yaw about world z (0 faces +y), forward lean (pitch) and sideways lean (roll) -> (T, 3, 3)."""
    return _rotations(2, yaw_rad) @ _rotations(0, -np.deg2rad(pitch_deg)) @ _rotations(1, np.deg2rad(roll_deg))


def forward_kinematics(shape: BodyShape, angles_deg: np.ndarray, root_rot: np.ndarray,
                       root_mm: np.ndarray) -> np.ndarray:
    """Joint positions in the world frame.

    angles_deg (T, 32, 3) side-normalised, root_rot (T, 3, 3) body -> world, root_mm (T, 3) hip position, mm.
    Returns (T, 34, 3) mm: the 32 Human3.6M joints, then the crown (`CROWN`) and the nose tip (`NOSE`).
    """
    frames_count = angles_deg.shape[0]
    assert angles_deg.shape == (frames_count, NUM_JOINTS, 3), angles_deg.shape
    local = local_rotations(clamp_to_limits(angles_deg))
    frames = np.empty((frames_count, NUM_JOINTS, 3, 3))
    points = np.empty((frames_count, NUM_POINTS, 3))
    frames[:, 0] = root_rot
    points[:, 0] = root_mm
    for joint in range(1, NUM_JOINTS):  # parents precede children in the Human3.6M order
        parent = PARENTS[joint]
        frames[:, joint] = frames[:, parent] @ local[:, joint]
        points[:, joint] = points[:, parent] + frames[:, joint] @ shape.offsets_mm[joint]
    neck_to_head = np.linalg.norm(shape.offsets_mm[15])
    points[:, CROWN] = points[:, 15] + CROWN_FRACTION * (points[:, 15] - points[:, 14])
    points[:, NOSE] = points[:, 15] + frames[:, 15] @ (NOSE_OFFSET * neck_to_head)
    return points


def stand_on_floor(points_mm: np.ndarray, sole_mm: float) -> np.ndarray:
    """(T, P, 3) world mm -> the same, shifted in z per frame so the lowest foot point rests `sole_mm` above z = 0."""
    lowest = points_mm[:, list(FOOT_POINTS), 2].min(axis=1)
    shifted = points_mm.copy()
    shifted[..., 2] += (sole_mm - lowest)[:, None]
    return shifted
