"""Procedural motions for the 15 Human3.6M action names: smooth joint angles and a root path over time.

Eight building blocks (walking, waving, squatting/sitting down, reaching, turning and pointing, sitting, hand to the
face, posing) are combined per action; every sequence draws its own speed, amplitudes, phases, path and handedness,
so two sequences of one action differ. Times are in seconds; the sequences are sampled at `FPS`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthetic.body import ABD, ANATOMY, FLEX, NUM_JOINTS, TWIST, BodyShape, forward_kinematics, root_rotation
from synthetic.body import SOLE_MM, stand_on_floor

FPS = 50
ACTIONS: tuple[str, ...] = ("Directions", "Discussion", "Eating", "Greeting", "Phoning", "Photo", "Posing",
                            "Purchases", "Sitting", "SittingDown", "Smoking", "Waiting", "WalkDog", "Walking",
                            "WalkTogether")
SEATED_ACTIONS = ("Eating", "Sitting", "SittingDown")


@dataclass(frozen=True)
class Motion:
    """Angles (T, 32, 3) side-normalised degrees, yaw (T,) rad, lean pitch/roll (T,) degrees, root xy (T, 2) mm."""

    angles_deg: np.ndarray
    yaw_rad: np.ndarray
    pitch_deg: np.ndarray
    roll_deg: np.ndarray
    root_xy_mm: np.ndarray
    seat_level: np.ndarray  # (T,) 0 standing .. 1 seated (a chair is drawn under seated actions)


def _add(angles: np.ndarray, name: str, flex=0.0, abd=0.0, twist=0.0) -> None:
    joint = ANATOMY[name]
    angles[:, joint, FLEX] += flex
    angles[:, joint, ABD] += abd
    angles[:, joint, TWIST] += twist


def _noise(rng: np.random.Generator, t: np.ndarray, low_hz: float = 0.08, high_hz: float = 0.5) -> np.ndarray:
    """A smooth random signal in about [-1, 1]: three sinusoids with random frequencies and phases."""
    freqs = rng.uniform(low_hz, high_hz, 3)
    phases = rng.uniform(0, 2 * np.pi, 3)
    weights = rng.dirichlet(np.ones(3))
    return (weights[None] * np.sin(2 * np.pi * freqs[None] * t[:, None] + phases[None])).sum(1)


def _pulse(t: np.ndarray, period: float, offset: float, duty: float = 0.5) -> np.ndarray:
    """Periodic 0 -> 1 -> 0 raised-cosine bumps, up for about `duty` of each period."""
    phase = ((t / period + offset) % 1.0) / duty
    return np.where(phase < 1.0, 0.5 - 0.5 * np.cos(2 * np.pi * np.clip(phase, 0, 1)), 0.0) ** 0.7


def _stance(t: np.ndarray, rng: np.random.Generator, amount: float = 1.0) -> np.ndarray:
    """A relaxed standing pose with weight shifts, breathing and a wandering gaze: (T, 32, 3)."""
    angles = np.zeros((len(t), NUM_JOINTS, 3))
    shift = amount * _noise(rng, t, 0.05, 0.25)
    for side, sign in (("l", 1.0), ("r", -1.0)):
        _add(angles, f"{side}_shoulder", flex=rng.uniform(-5, 10) + 4 * amount * _noise(rng, t),
             abd=rng.uniform(6, 14), twist=rng.uniform(-10, 20))
        _add(angles, f"{side}_elbow", flex=rng.uniform(8, 25) + 6 * amount * _noise(rng, t))
        _add(angles, f"{side}_hip", flex=2 + 2 * sign * shift, abd=rng.uniform(2, 7) + 3 * sign * shift)
        _add(angles, f"{side}_knee", flex=3 + 4 * np.clip(sign * shift, 0, None))
    _add(angles, "spine_low", abd=-3 * shift, flex=rng.uniform(-3, 6))
    _add(angles, "spine_up", flex=rng.uniform(-2, 6) + np.sin(2 * np.pi * 0.25 * t))
    _add(angles, "neck", flex=rng.uniform(-5, 10), twist=25 * amount * _noise(rng, t, 0.05, 0.3))
    _add(angles, "head", flex=8 * amount * _noise(rng, t, 0.05, 0.3))
    return angles


def _gait(angles: np.ndarray, phase: np.ndarray, amplitude: np.ndarray | float, arm_swing: float = 1.0) -> None:
    """Add a walking cycle; `phase` in radians (2 pi per stride), `amplitude` 0 (still) .. 1.3 (brisk)."""
    for side, offset in (("r", 0.0), ("l", np.pi)):
        cycle = phase + offset
        _add(angles, f"{side}_hip", flex=amplitude * (24 * np.sin(cycle) + 4))
        _add(angles, f"{side}_knee", flex=amplitude * (58 * np.clip(np.cos(cycle + np.pi / 4), 0, None) ** 1.5
                                                       + 10 * np.clip(np.sin(cycle - 0.3), 0, None)))
        _add(angles, f"{side}_ankle", flex=amplitude * 10 * np.sin(cycle + 0.8))
        _add(angles, f"{side}_shoulder", flex=-arm_swing * amplitude * 20 * np.sin(cycle))
        _add(angles, f"{side}_elbow", flex=arm_swing * amplitude * (12 + 10 * np.sin(cycle + np.pi)))
    _add(angles, "spine_low", twist=amplitude * 7 * np.sin(phase))
    _add(angles, "spine_up", twist=-amplitude * 9 * np.sin(phase))


def _loop_path(t: np.ndarray, rng: np.random.Generator, speed_mm_s: float):
    """Walk around an ellipse in the capture area: (xy (T, 2) mm, yaw (T,) rad, distance walked (T,) mm)."""
    half_axes = np.array([rng.uniform(1300, 2000), rng.uniform(800, 1400)])
    centre = rng.uniform(-300, 300, 2)
    direction = rng.choice([-1.0, 1.0])
    distance = speed_mm_s * t * (1 + 0.08 * _noise(rng, t, 0.05, 0.2))
    theta = rng.uniform(0, 2 * np.pi) + direction * distance / half_axes.mean()
    xy = centre + half_axes * np.stack([np.cos(theta), np.sin(theta)], axis=-1)
    heading = direction * half_axes * np.stack([-np.sin(theta), np.cos(theta)], axis=-1)
    yaw = np.arctan2(-heading[:, 0], heading[:, 1])
    return xy, np.unwrap(yaw), distance


def _spot(t: np.ndarray, rng: np.random.Generator, turn_deg: float, drift_mm: float):
    """Stay near one spot, turning slowly: (xy (T, 2), yaw (T,))."""
    start = rng.uniform(-700, 700, 2)
    xy = start + drift_mm * np.stack([_noise(rng, t, 0.03, 0.1), _noise(rng, t, 0.03, 0.1)], axis=-1)
    yaw = rng.uniform(-np.pi, np.pi) + np.deg2rad(turn_deg) * _noise(rng, t, 0.03, 0.15)
    return xy, yaw


def _hand_to_face(angles, side: str, level: np.ndarray, to_ear: bool = False) -> None:
    """Bring a hand to the mouth (or the ear) as `level` goes 0 -> 1."""
    _add(angles, f"{side}_shoulder", flex=level * (40 if to_ear else 55), abd=level * (35 if to_ear else 8),
         twist=level * 30)
    _add(angles, f"{side}_elbow", flex=level * 120)
    _add(angles, f"{side}_wrist", flex=level * 20)


def _reach(angles, side: str, level: np.ndarray, height: float, sideways: float) -> None:
    """Reach out: `height` -1 (floor) .. 1 (overhead), `sideways` 0 (front) .. 1 (to the side)."""
    _add(angles, f"{side}_shoulder", flex=level * (85 + 60 * height) * (1 - 0.6 * sideways),
         abd=level * 80 * sideways)
    _add(angles, f"{side}_elbow", flex=-level * 15)
    bend = level * np.clip(-height, 0, 1)
    _add(angles, "spine_low", flex=bend * 45)
    _add(angles, "spine_up", flex=bend * 20)
    _add(angles, "r_hip", flex=bend * 35)
    _add(angles, "l_hip", flex=bend * 35)
    _add(angles, "r_knee", flex=bend * 40)
    _add(angles, "l_knee", flex=bend * 40)


def _sit(angles, level: np.ndarray, lean: np.ndarray | float = 0.0) -> None:
    """Sit down as `level` goes 0 -> 1 (thighs horizontal, shins vertical); the trunk leans forward on the way."""
    transit = 4 * level * (1 - level)
    for side in ("r", "l"):
        _add(angles, f"{side}_hip", flex=level * 88 + transit * 25)
        _add(angles, f"{side}_knee", flex=level * 92 + transit * 10)
        _add(angles, f"{side}_ankle", flex=transit * 12)
        _add(angles, f"{side}_shoulder", flex=transit * 40)
    _add(angles, "spine_low", flex=transit * 30 + lean)
    _add(angles, "spine_up", flex=transit * 10)


def _wave(angles, side: str, t: np.ndarray, level: np.ndarray, rate_hz: float) -> None:
    _add(angles, f"{side}_shoulder", flex=level * 40, abd=level * 75, twist=-level * 70)
    _add(angles, f"{side}_elbow", flex=level * (75 + 25 * np.sin(2 * np.pi * rate_hz * t)))
    _add(angles, f"{side}_clavicle", abd=level * 12)


_KEY_POSES = (  # (name, flex, abd, twist) tuples for `Posing`
    (("r_shoulder", 0, 150, 0), ("l_shoulder", 0, 150, 0), ("r_elbow", 10, 0, 0), ("l_elbow", 10, 0, 0)),
    (("r_shoulder", 20, 40, 60), ("l_shoulder", 20, 40, 60), ("r_elbow", 110, 0, 0), ("l_elbow", 110, 0, 0)),
    (("r_hip", 70, 10, 0), ("r_knee", 90, 0, 0), ("r_shoulder", 90, 0, 0), ("l_shoulder", 90, 0, 0)),
    (("r_shoulder", 0, 90, 0), ("l_shoulder", 0, 90, 0), ("spine_low", 0, 15, 0), ("l_hip", 0, 30, 0)),
    (("r_hip", 60, 0, 0), ("r_knee", 60, 0, 0), ("l_hip", -15, 0, 0), ("spine_low", 15, 0, 0),
     ("r_shoulder", 130, 10, 0), ("l_shoulder", -30, 10, 0)),
    (("r_shoulder", 160, 10, 0), ("l_shoulder", 40, 50, -60), ("l_elbow", 130, 0, 0), ("neck", -25, 0, 0)),
)


def _posing(angles, t: np.ndarray, rng: np.random.Generator) -> None:
    hold = rng.uniform(1.2, 2.0)
    order = rng.permutation(len(_KEY_POSES))
    slot = np.floor(t / hold).astype(int)
    blend = np.clip((t / hold - slot) / 0.4, 0, 1)
    blend = blend * blend * (3 - 2 * blend)
    for index, pose in enumerate(_KEY_POSES):
        weight = ((order[slot % len(order)] == index) * blend
                  + (order[(slot - 1) % len(order)] == index) * (1 - blend))
        for name, flex, abd, twist in pose:
            _add(angles, name, flex=weight * flex, abd=weight * abd, twist=weight * twist)


def make_motion(action: str, t: np.ndarray, rng: np.random.Generator) -> Motion:
    """The motion of one sequence of `action` at times `t` (T,) seconds; `rng` draws the sequence's variations."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action '{action}', expected one of {', '.join(ACTIONS)}")
    hand, other = ("r", "l") if rng.random() < 0.7 else ("l", "r")
    angles = _stance(t, rng, amount=rng.uniform(0.6, 1.4))
    seat = np.zeros(len(t))
    pitch, roll = 3 * _noise(rng, t, 0.05, 0.2), 2 * _noise(rng, t, 0.05, 0.2)
    if action in ("Walking", "WalkDog", "WalkTogether"):
        speed = {"Walking": 1250.0, "WalkDog": 1000.0, "WalkTogether": 950.0}[action] * rng.uniform(0.8, 1.2)
        xy, yaw, distance = _loop_path(t, rng, speed)
        stride = speed / rng.uniform(0.85, 1.0)
        amplitude = speed / 1250.0 * rng.uniform(0.85, 1.15)
        _gait(angles, 2 * np.pi * distance / stride + rng.uniform(0, 2 * np.pi), amplitude,
              arm_swing=1.0 if action == "Walking" else 0.5)
        if action == "WalkDog":
            _reach(angles, hand, 0.5 + 0.15 * _noise(rng, t), height=-0.5, sideways=0.2)
            _add(angles, "spine_low", flex=8)
        if action == "WalkTogether":
            _add(angles, "neck", twist=rng.choice([-1, 1]) * (30 + 15 * _noise(rng, t)))
        return Motion(angles, yaw, pitch + 4 * amplitude, roll, xy, seat)
    turn = {"Directions": 120.0, "Photo": 90.0, "Discussion": 60.0, "Waiting": 70.0}.get(action, 40.0)
    seated = action in SEATED_ACTIONS  # on a chair: no sliding, little turning
    xy, yaw = _spot(t, rng, (8.0 if seated else turn) * rng.uniform(0.7, 1.3),
                    drift_mm=0.0 if seated else rng.uniform(100, 450))
    speed = np.abs(np.gradient(yaw, t)) if len(t) > 1 else np.zeros(1)
    _gait(angles, 2 * np.pi * 0.9 * t + rng.uniform(0, 2 * np.pi), np.clip(speed * 0.6, 0, 0.35), arm_swing=0.3)
    period = rng.uniform(2.5, 4.5)
    offset = rng.uniform(0, 1)
    if action == "Directions":
        level = _pulse(t, period, offset, 0.6)
        _add(angles, f"{hand}_shoulder", flex=level * rng.uniform(70, 110), abd=level * rng.uniform(0, 50))
        _add(angles, f"{hand}_elbow", flex=-level * 10)
    elif action == "Discussion":
        for side in (hand, other):
            _add(angles, f"{side}_shoulder", flex=30 + 25 * _noise(rng, t, 0.2, 0.8), abd=12 * _noise(rng, t))
            _add(angles, f"{side}_elbow", flex=60 + 35 * _noise(rng, t, 0.2, 0.8))
        _add(angles, "spine_up", twist=12 * _noise(rng, t))
    elif action in ("Eating", "Smoking", "Phoning"):
        level = _pulse(t, period, offset, 0.55) if action != "Phoning" else np.full(len(t), 1.0)
        _hand_to_face(angles, hand, level * rng.uniform(0.85, 1.0), to_ear=action == "Phoning")
        if action == "Eating":
            _hand_to_face(angles, other, 0.35 * _pulse(t, period, offset + 0.5, 0.4))
        if action == "Phoning":
            _add(angles, f"{other}_shoulder", flex=25 + 20 * _noise(rng, t, 0.2, 0.6))
            _add(angles, f"{other}_elbow", flex=50 + 30 * _noise(rng, t, 0.2, 0.6))
    elif action == "Greeting":
        level = _pulse(t, period * 1.3, offset, 0.6)
        _wave(angles, hand, t, level, rng.uniform(1.5, 2.5))
        _add(angles, "spine_low", flex=25 * _pulse(t, period * 1.3, offset + 0.65, 0.3))
    elif action == "Photo":
        level = np.clip(0.55 + 0.6 * _noise(rng, t, 0.1, 0.3), 0, 1)
        for side in ("r", "l"):
            _add(angles, f"{side}_shoulder", flex=level * 65, abd=level * 20, twist=level * 40)
            _add(angles, f"{side}_elbow", flex=level * 115)
        crouch = np.clip(_noise(rng, t, 0.05, 0.2), 0, 1)
        _add(angles, "r_hip", flex=50 * crouch)
        _add(angles, "l_hip", flex=50 * crouch)
        _add(angles, "r_knee", flex=80 * crouch)
        _add(angles, "l_knee", flex=80 * crouch)
        _add(angles, "spine_low", flex=20 * crouch)
    elif action == "Posing":
        _posing(angles, t, rng)
    elif action == "Purchases":
        level = _pulse(t, period, offset, 0.6)
        cycle = np.floor(t / period + offset)
        height = np.sin(cycle * 2.3 + rng.uniform(0, 6))
        _reach(angles, hand, level, height=height, sideways=0.5 + 0.5 * np.sin(cycle * 1.7))
        _add(angles, f"{other}_elbow", flex=40 * level)
    elif action in ("Sitting", "SittingDown"):
        if action == "Sitting":
            seat[:] = 1.0
            _add(angles, "spine_low", flex=15 * _noise(rng, t, 0.05, 0.2))
            for side in (hand, other):
                _add(angles, f"{side}_shoulder", flex=35 + 20 * _noise(rng, t, 0.1, 0.5))
                _add(angles, f"{side}_elbow", flex=55 + 30 * _noise(rng, t, 0.1, 0.5))
        else:
            seat = np.clip(1.6 * _pulse(t, period * 1.6, offset, 0.7), 0, 1)
            seat = seat * seat * (3 - 2 * seat)
        _sit(angles, seat, lean=rng.uniform(-10, 10))
        _add(angles, f"{hand}_knee", flex=seat * rng.uniform(-20, 25))
    elif action == "Waiting":
        level = _pulse(t, period * 1.5, offset, 0.7)
        for side in ("r", "l"):  # arms crossed or hands behind the back
            _add(angles, f"{side}_shoulder", flex=level * 25, abd=level * 10, twist=level * 45)
            _add(angles, f"{side}_elbow", flex=level * 100)
    if action == "Eating":
        seat[:] = 1.0
        _sit(angles, seat, lean=rng.uniform(5, 15))
    return Motion(angles, yaw, pitch, roll, xy, seat)


def sequence_points(shape: BodyShape, motion: Motion) -> np.ndarray:
    """Posed body in the world frame, feet on the floor: (T, 34, 3) mm (32 joints, crown, nose)."""
    frames_count = len(motion.yaw_rad)
    rotation = root_rotation(motion.yaw_rad, motion.pitch_deg, motion.roll_deg)
    root = np.concatenate([motion.root_xy_mm, np.zeros((frames_count, 1))], axis=1)
    points = forward_kinematics(shape, motion.angles_deg, rotation, root)
    return stand_on_floor(points, SOLE_MM * shape.girth)
