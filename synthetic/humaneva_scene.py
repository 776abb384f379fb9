"""HumanEva-I-like recordings in VideoPose3D's layout: 3 subjects, Train and Validate takes of 5 actions, 3 cameras.

The real HumanEva-I (as VideoPose3D prepares it) has subjects 'Train/S1' ... 'Validate/S3', actions 'Walking 1',
'Jog 1', 'Box 1', 'Gestures 1', 'ThrowCatch 1', 60 fps mocap of 15 joints and three 640 x 480 colour cameras C1-C3
per subject. Here the 15 joints are those of the generator's Human3.6M-32 bodies (`HUMANEVA15_FROM_H36M32`), the
motions come from `motions.py` (Walking; Jog = Walking played 1.8x faster; Box = Discussion's arm work; Gestures =
Directions; ThrowCatch = Purchases' reaching), and each sequence and camera gets a run of consecutive rendered
frames (the same frames in the three cameras), so clip-based 2D training has video. Everything draws from streams keyed by (seed, 21, ...), apart from those
of the MPII and Human3.6M parts: generating HumanEva changes none of their bytes.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from synthetic.backgrounds import soften, studio_background
from synthetic.h36m_scene import StudioView, render_frame
from synthetic.motions import make_motion, sequence_points
from synthetic.body import sample_body_shape
from synthetic.appearance import sample_appearance
from synthetic.scene_cameras import lens_of, look_at
from utils.cameras import Camera
from utils.skeletons import HUMANEVA15_FROM_H36M32

FPS = 60
SUBJECTS: tuple[str, ...] = ("S1", "S2", "S3")
SPLITS: tuple[str, ...] = ("Train", "Validate")
ACTIONS: tuple[str, ...] = ("Walking 1", "Jog 1", "Box 1", "Gestures 1", "ThrowCatch 1")
CAMERA_IDS: tuple[str, ...] = ("C1", "C2", "C3")
# action -> (motions.py action, time scale)
_MOTIONS = {"Walking 1": ("Walking", 1.0), "Jog 1": ("Walking", 1.8), "Box 1": ("Discussion", 1.6),
            "Gestures 1": ("Directions", 1.0), "ThrowCatch 1": ("Purchases", 1.3)}
# camera id -> (azimuth of its position around the capture area, degrees; distance mm), after the real C1-C3 layout
_RIG = {"C1": (0.0, 5100.0), "C2": (-90.0, 4900.0), "C3": (90.0, 4950.0)}


@dataclass(frozen=True)
class HumanEvaSize:
    name: str
    frames_per_sequence: tuple[int, int]  # at 60 fps
    clip_frames: int  # consecutive frames rendered per sequence and camera


HUMANEVA_SIZES: dict[str, HumanEvaSize] = {
    "tiny": HumanEvaSize("tiny", (32, 40), 4),
    "small": HumanEvaSize("small", (300, 480), 40),
}


def subject_number(subject: str) -> int:
    return int(subject[1:])


def humaneva_rig(subject: str, seed: int) -> dict[str, Camera]:
    """The three 640 x 480 cameras of one subject (distortion-free, f ~ 560 px, about 1.5 m high)."""
    rng = np.random.default_rng([seed, 21, 1, subject_number(subject)])
    cameras = {}
    for camera_id in CAMERA_IDS:
        azimuth, distance = _RIG[camera_id]
        angle = np.radians(azimuth + rng.uniform(-4, 4))
        centre = np.array([distance * np.cos(angle), distance * np.sin(angle), 1500.0]) + rng.uniform(-60, 60, 3)
        target = np.array([0.0, 0.0, 900.0]) + rng.uniform(-100, 100, 3)
        focal = rng.uniform(540, 580)
        cameras[camera_id] = Camera(R=look_at(centre, target, rng.uniform(-0.02, 0.02)), T=centre,
                                    f=np.array([focal, focal * rng.uniform(0.998, 1.002)]),
                                    c=np.array([320.0, 240.0]) + rng.uniform(-4, 4, 2), k=np.zeros(3), p=np.zeros(2),
                                    name=camera_id, width=640, height=480)
    return cameras


def humaneva_identity(subject: str, seed: int):
    rng = np.random.default_rng([seed, 21, 2, subject_number(subject)])
    return sample_body_shape(rng), sample_appearance(rng)


def sequence_length(subject: str, split: str, action: str, size: HumanEvaSize, seed: int) -> int:
    rng = np.random.default_rng([seed, 21, 3, subject_number(subject), SPLITS.index(split), ACTIONS.index(action)])
    return int(rng.integers(size.frames_per_sequence[0], size.frames_per_sequence[1] + 1))


def make_humaneva_sequence(subject: str, split: str, action: str, frames: int, seed: int) -> np.ndarray:
    """(T, 34, 3) world mm body points (H36M-32 joints, crown, nose) of one take; paths are shrunk to 3/4 so the
    actor stays inside every camera's view."""
    rng = np.random.default_rng([seed, 21, 4, subject_number(subject), SPLITS.index(split), ACTIONS.index(action)])
    shape, _ = humaneva_identity(subject, seed)
    motion_name, time_scale = _MOTIONS[action]
    motion = make_motion(motion_name, np.arange(frames) / FPS * time_scale, rng)
    return sequence_points(shape, replace(motion, root_xy_mm=0.75 * motion.root_xy_mm))


def humaneva15(points_mm: np.ndarray) -> np.ndarray:
    """(..., 34, 3) body points -> (..., 15, 3) HumanEva-15 joints."""
    return points_mm[..., list(HUMANEVA15_FROM_H36M32), :]


def studio_view(subject: str, camera: Camera, seed: int) -> StudioView:
    rng = np.random.default_rng([seed, 21, 5, subject_number(subject), CAMERA_IDS.index(camera.name)])
    raw = studio_background(rng, camera.R, camera.T, lens_of(camera), camera.height, camera.width)
    blur_sigma, cast = float(rng.uniform(0.5, 0.9)), rng.uniform(0.94, 1.06, 3)
    return StudioView(camera, raw, soften(raw, blur_sigma, cast), blur_sigma, cast)


def clip_start(subject: str, split: str, action: str, frames: int, clip_frames: int, seed: int) -> int:
    """First frame of the take's rendered clip: the same for the three cameras (synchronised video)."""
    rng = np.random.default_rng([seed, 21, 6, subject_number(subject), SPLITS.index(split), ACTIONS.index(action)])
    return int(rng.integers(0, max(frames - clip_frames, 0) + 1))


def render_humaneva_frame(view: StudioView, points_mm: np.ndarray, subject: str, seed: int,
                          key: tuple) -> np.ndarray:
    """(480, 640, 3) uint8 RGB frame of one pose (34, 3) world mm; `key` names the frame's noise stream."""
    shape, appearance = humaneva_identity(subject, seed)
    rng = np.random.default_rng([seed, 21, 7, *key])
    return render_frame(view, points_mm, shape, appearance, [], rng).image
