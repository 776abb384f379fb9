"""Human3.6M-like recordings: one actor per subject, 15 actions x 2 sequences of poses, frames seen by 4 cameras.

Each subject keeps one body and one outfit for all sequences (as the real actors do); each camera sees a fixed
studio. S11 'Directions' keeps its poses but gets no frames, like the real recording whose video is corrupt.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthetic.appearance import Appearance, sample_appearance
from synthetic.backgrounds import finish, studio_background
from synthetic.body import BodyShape, sample_body_shape
from synthetic.motions import ACTIONS, FPS, make_motion, sequence_points
from synthetic.mpii_scene import chair_boxes
from synthetic.render import Canvas, draw_box, draw_person
from synthetic.scene_cameras import lens_of
from utils.cameras import H36M_CAMERA_IDS, Camera

SUBJECTS: tuple[int, ...] = (1, 5, 6, 7, 8, 9, 11)
TRAIN_SUBJECTS: tuple[int, ...] = (1, 5, 6, 7, 8)
TEST_SUBJECTS: tuple[int, ...] = (9, 11)
CORRUPT_SEQUENCES: tuple[tuple[int, str], ...] = ((11, "Directions"),)  # no frames rendered (loaders drop it)
_STUDIO_LIGHT = np.array([0.3, -0.4, 0.87])  # world frame, towards the light


@dataclass(frozen=True)
class Sequence:
    subject: int
    action: str  # file stem: "Walking" or "Walking 1"
    points_mm: np.ndarray  # (T, 34, 3) world mm: 32 joints, crown, nose
    chairs_mm: list[np.ndarray]  # (8, 3) world-mm box corners, empty unless seated


def sequence_names(action: str, count: int) -> list[str]:
    """File stems of an action's sequences, as in the released poses: 'Walking', 'Walking 1', 'Walking 2', ..."""
    return [action] + [f"{action} {index}" for index in range(1, count)]


def subject_identity(subject: int, seed: int) -> tuple[BodyShape, Appearance]:
    rng = np.random.default_rng([seed, 7, subject])
    return sample_body_shape(rng), sample_appearance(rng)


def make_sequence(subject: int, action_index: int, take: int, frames: int, seed: int) -> Sequence:
    """Poses of one sequence: `frames` frames at `FPS`, drawn from the seeded stream (seed, subject, action, take)."""
    rng = np.random.default_rng([seed, 11, subject, action_index, take])
    shape, _ = subject_identity(subject, seed)
    action = ACTIONS[action_index]
    motion = make_motion(action, np.arange(frames) / FPS, rng)
    points = sequence_points(shape, motion)
    chairs = []
    if motion.seat_level.max() > 0.3:
        chairs = chair_boxes(points[int(np.argmax(motion.seat_level))], shape.girth)
    return Sequence(subject, sequence_names(action, take + 1)[take], points, chairs)


def studio(subject: int, camera: Camera, seed: int) -> np.ndarray:
    """The fixed background of one camera of one subject's recordings (H, W, 3) uint8."""
    rng = np.random.default_rng([seed, 5, subject, H36M_CAMERA_IDS.index(camera.name)])
    return studio_background(rng, camera.R, camera.T, lens_of(camera), camera.height, camera.width)


def render_frame(background: np.ndarray, camera: Camera, points_world: np.ndarray, shape: BodyShape,
                 appearance: Appearance, chairs_world: list[np.ndarray], rng: np.random.Generator) -> Canvas:
    """Draw one frame (clean canvas; pass `canvas.image` through `finish_frame` for the written JPEG)."""
    canvas = Canvas.over(background)
    lens = lens_of(camera)
    light = camera.R @ (_STUDIO_LIGHT / np.linalg.norm(_STUDIO_LIGHT))
    for chair in chairs_world:
        draw_box(canvas, camera.world_to_camera(chair), lens, np.array([70.0, 70.0, 80.0]), light)
    draw_person(canvas, camera.world_to_camera(points_world), shape, appearance, lens, light, 0)
    return canvas


def finish_frame(canvas: Canvas, rng: np.random.Generator) -> np.ndarray:
    return finish(canvas.image, rng, blur_sigma=rng.uniform(0.5, 0.9), noise_std=rng.uniform(1.5, 3.5))


def rendered_frames(frames: int, per_sequence: int, rng: np.random.Generator) -> list[int]:
    """Evenly spaced frame indices (from a random start) of the frames drawn for a sequence."""
    if per_sequence <= 0:
        return []
    stride = max(frames // per_sequence, 1)
    start = int(rng.integers(stride))
    return list(range(start, frames, stride))[:per_sequence]
