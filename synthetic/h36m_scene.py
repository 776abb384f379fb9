"""Human3.6M-like recordings: one actor per subject, 15 actions x 2 sequences of poses, frames seen by 4 cameras.

Each subject keeps one body and one outfit for all sequences (as the real actors do); each camera sees a fixed
studio. S11 'Directions' keeps its poses but gets no frames, like the real recording whose video is corrupt.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from synthetic.appearance import Appearance, sample_appearance
from synthetic.backgrounds import add_noise, soften, studio_background
from synthetic.body import BodyShape, sample_body_shape
from synthetic.motions import ACTIONS, FPS, make_motion, sequence_points
from synthetic.mpii_scene import chair_boxes, scaled_lens
from synthetic.render import Canvas, Lens, draw_box, draw_person, part_geometry
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


@dataclass(frozen=True)
class StudioView:
    """What one camera of one subject's recordings sees without the actor: raw and finished (blur, cast)."""

    camera: Camera
    raw: np.ndarray  # (H, W, 3) uint8 RGB
    finished: np.ndarray
    blur_sigma: float
    cast: np.ndarray  # (3,) colour gains of this camera


def studio(subject: int, camera: Camera, seed: int) -> StudioView:
    """The fixed background of one camera of one subject's recordings."""
    rng = np.random.default_rng([seed, 5, subject, H36M_CAMERA_IDS.index(camera.name)])
    raw = studio_background(rng, camera.R, camera.T, lens_of(camera), camera.height, camera.width)
    blur_sigma, cast = float(rng.uniform(0.5, 0.9)), rng.uniform(0.94, 1.06, 3)
    return StudioView(camera, raw, soften(raw, blur_sigma, cast), blur_sigma, cast)


@dataclass(frozen=True)
class H36mFrame:
    image: np.ndarray  # (H, W, 3) uint8 RGB, finished
    canvas: Canvas  # clean render of the region around the actor, with depth and id buffers, at `scale` x size
    offset: tuple[int, int]  # (x, y) of that region's top-left pixel in the image
    scale: float


RENDER_SCALE = 0.5  # the actor is drawn at half size and upsampled (a 256 px crop of a ~400 px actor loses nothing)


def render_frame(view: StudioView, points_world: np.ndarray, shape: BodyShape, appearance: Appearance,
                 chairs_world: list[np.ndarray], rng: np.random.Generator) -> H36mFrame:
    """Draw one frame: the region around the actor (and chair) is drawn, then blended into the studio image."""
    camera, lens = view.camera, lens_of(view.camera)
    points_cam = camera.world_to_camera(points_world)
    chairs_cam = [camera.world_to_camera(chair) for chair in chairs_world]
    first, second, radii = part_geometry(points_cam, shape)
    reach = lens.f.mean() * radii.max() / max(points_cam[:, 2].min(), 100.0) + 12
    corners = lens.project(np.concatenate([first, second] + chairs_cam))
    x0, y0 = (np.maximum(np.floor(corners.min(0) - reach), 0).astype(int) // 2) * 2  # even, so halving is exact
    x1, y1 = np.minimum(np.ceil(corners.max(0) + reach).astype(int), (camera.width, camera.height))
    x1, y1 = max(x0 + 2, x1 + (x1 - x0) % 2), max(y0 + 2, y1 + (y1 - y0) % 2)
    image = view.finished.copy()
    size = (x1 - x0, y1 - y0)
    canvas = Canvas.over(cv2.resize(view.raw[y0:y1, x0:x1], (size[0] // 2, size[1] // 2),
                                    interpolation=cv2.INTER_AREA))
    if x1 <= camera.width and y1 <= camera.height:
        crop_lens = scaled_lens(Lens(f=lens.f, c=lens.c - (x0, y0), k=lens.k, p=lens.p), RENDER_SCALE)
        light = camera.R @ (_STUDIO_LIGHT / np.linalg.norm(_STUDIO_LIGHT))
        for chair in chairs_cam:
            draw_box(canvas, chair, crop_lens, np.array([70.0, 70.0, 80.0]), light)
        draw_person(canvas, points_cam, shape, appearance, crop_lens, light, 0)
        drawn = cv2.resize(soften(canvas.image, view.blur_sigma * RENDER_SCALE, view.cast), size,
                           interpolation=cv2.INTER_LINEAR)
        alpha = cv2.resize((canvas.ids > 0).astype(np.float32), size, interpolation=cv2.INTER_LINEAR)[..., None]
        region = image[y0:y1, x0:x1]
        image[y0:y1, x0:x1] = (region + alpha * (drawn.astype(np.float32) - region)).astype(np.uint8)
    return H36mFrame(add_noise(image, rng, rng.uniform(1.5, 3.5)), canvas, (int(x0), int(y0)), RENDER_SCALE)


def rendered_frames(frames: int, per_sequence: int, rng: np.random.Generator) -> list[int]:
    """Evenly spaced frame indices (from a random start) of the frames drawn for a sequence."""
    if per_sequence <= 0:
        return []
    stride = max(frames // per_sequence, 1)
    start = int(rng.integers(stride))
    return list(range(start, frames, stride))[:per_sequence]
