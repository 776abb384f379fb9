"""One MPII-like photo: 1-3 posed people at different depths over a varied background, some occluders, labels.

The MPII joints are the Human3.6M joints the figure is drawn from (`MPII_FROM_POINTS`), projected with the same
lens, so every label sits where its joint is drawn. Visibility comes from the z-buffer.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import cv2
import numpy as np

from synthetic.appearance import sample_appearance
from synthetic.backgrounds import add_noise, random_background, soften
from synthetic.body import CROWN, BodyShape, sample_body_shape
from synthetic.motions import ACTIONS, make_motion, sequence_points
from synthetic.render import (MPII_OWN_RADIUS_MM, OCCLUDER_ID, Canvas, Lens, box_corners, draw_box,
                              draw_person, joint_visibility, part_geometry)
from synthetic.scene_cameras import photo_lens

# MPII order (r_ankle ... l_wrist) -> body point index (Human3.6M joints, 32 = crown).
MPII_FROM_POINTS: tuple[int, ...] = (3, 2, 1, 6, 7, 8, 0, 13, 14, CROWN, 27, 26, 25, 17, 18, 19)
IMAGE_SIZES = ((1280, 720), (854, 480), (640, 480), (720, 576), (1024, 768))
IMAGE_SIZE_WEIGHTS = (0.4, 0.25, 0.2, 0.1, 0.05)
_HEAD_PART = 6  # index of the head in the renderer's part table
# Photos are drawn at half size and upsampled: a 256 x 256 crop of a person keeps its detail (people are
# 140-630 px tall) at a quarter of the cost, and the result has the softness of video frames.
RENDER_SCALE = 0.5


@dataclass(frozen=True)
class MpiiPerson:
    joints_px: np.ndarray  # (16, 2) MPII order, pixels
    visible: np.ndarray  # (16,) bool: inside the image and not occluded
    inside: np.ndarray  # (16,) bool: inside the image (labels outside it are written as missing)
    headbox_px: np.ndarray  # (2, 2) [[x1, y1], [x2, y2]]
    objpos_px: np.ndarray  # (2,) centre of the person's box
    scale: float  # larger side of the person's box / 200 px
    depth_mm: float


@dataclass(frozen=True)
class MpiiImage:
    image: np.ndarray  # (H, W, 3) uint8 RGB, finished (blur, noise)
    people: list[MpiiPerson]
    canvas: Canvas  # the clean render with its depth and id buffers, at `canvas_scale` x the image size
    canvas_scale: float
    lens: Lens | None = None  # the photo's camera (full-size pixels)
    points_cam: tuple[np.ndarray, ...] = ()  # per person (34, 3) camera-frame mm body points, in `people` order
    girths: tuple[float, ...] = ()  # per person, the body shape's girth (flesh radii scale)


def _random_pose(rng: np.random.Generator, shape: BodyShape) -> tuple[np.ndarray, float]:
    """(34, 3) world mm of one person at the origin facing a random way, and the seat level (0 standing)."""
    action = ACTIONS[rng.integers(len(ACTIONS))]
    motion = make_motion(action, np.array([rng.uniform(0, 20)]), rng)
    angles = motion.angles_deg + rng.normal(0, 1, motion.angles_deg.shape) * rng.uniform(4, 14)
    motion = dataclasses.replace(motion, angles_deg=angles, yaw_rad=rng.uniform(-np.pi, np.pi, 1),
                                 root_xy_mm=np.zeros((1, 2)))
    return sequence_points(shape, motion)[0], float(motion.seat_level[0])


def chair_boxes(points_world: np.ndarray, girth: float) -> list[np.ndarray]:
    """Seat and backrest under a seated person: two (8, 3) world-mm corner sets."""
    hips = points_world[[1, 6]].mean(0)
    forward = points_world[[2, 7]].mean(0)[:2] - hips[:2]
    forward = forward / (np.linalg.norm(forward) + 1e-6)
    yaw = np.arctan2(forward[1], forward[0])
    rotation = np.array([[np.cos(yaw), -np.sin(yaw), 0], [np.sin(yaw), np.cos(yaw), 0], [0, 0, 1]])
    top = hips[2] - 95 * girth
    seat_centre = np.r_[hips[:2] + 40 * forward, top / 2]
    back_centre = np.r_[hips[:2] - 200 * forward, top + 160]
    return [box_corners(seat_centre, np.array([220, 220, top / 2]), rotation),
            box_corners(back_centre, np.array([30, 200, 160]), rotation)]


def _to_camera(points_world: np.ndarray, rotation: np.ndarray, anchor: np.ndarray, offset: np.ndarray) -> np.ndarray:
    return (points_world - anchor) @ rotation.T + offset


def _tilted_view(rng: np.random.Generator) -> np.ndarray:
    """World (z up) -> camera (y down) rotation of a camera looking slightly down, with a little roll."""
    pitch, roll = np.deg2rad(rng.normal(6, 8)), np.deg2rad(rng.normal(0, 3))
    axes = np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])
    tilt = np.array([[1, 0, 0], [0, np.cos(pitch), -np.sin(pitch)], [0, np.sin(pitch), np.cos(pitch)]])
    spin = np.array([[np.cos(roll), -np.sin(roll), 0], [np.sin(roll), np.cos(roll), 0], [0, 0, 1]])
    return spin @ tilt @ axes


def scaled_lens(lens: Lens, scale: float) -> Lens:
    """The lens of the same camera on an image resized by `scale` (pixel centres at integers in both)."""
    return Lens(f=lens.f * scale, c=(lens.c + 0.5) * scale - 0.5, k=lens.k, p=lens.p)


def _label(canvas: Canvas, lens: Lens, points_cam: np.ndarray, shape: BodyShape, scale: float = 1.0) -> MpiiPerson:
    """Labels in the pixels of `lens` (the full-size image); `canvas` was drawn at `scale` times that size."""
    height, width = np.round(np.array(canvas.depth.shape) / scale).astype(int)
    joints_cam = points_cam[list(MPII_FROM_POINTS)]
    joints_px = lens.project(joints_cam)
    visible = joint_visibility(canvas, (joints_px + 0.5) * scale - 0.5, joints_cam[:, 2],
                               MPII_OWN_RADIUS_MM * shape.girth)
    inside = (joints_px[:, 0] >= 0) & (joints_px[:, 0] <= width - 1) & (joints_px[:, 1] >= 0) & (
        joints_px[:, 1] <= height - 1)
    first, second, radii = part_geometry(points_cam, shape)
    ends = lens.project(np.stack([first, second], 1))  # (P, 2, 2)
    radii_px = lens.f.mean() * radii / np.stack([first[:, 2], second[:, 2]], 1)
    low, high = (ends - radii_px[..., None]).min(axis=(0, 1)), (ends + radii_px[..., None]).max(axis=(0, 1))
    head_low = (ends[_HEAD_PART] - radii_px[_HEAD_PART, :, None]).min(0)
    head_high = (ends[_HEAD_PART] + radii_px[_HEAD_PART, :, None]).max(0)
    return MpiiPerson(joints_px, visible & inside, inside, np.stack([head_low, head_high]),
                      np.round((low + high) / 2), float((high - low).max() / 200), float(joints_cam[6, 2]))


def _keep_in_frame(points_cam: np.ndarray, offset: np.ndarray, lens: Lens, width: int, height: int,
                   girth: float) -> np.ndarray:
    """The placement `offset` (3,) mm moved back and sideways until the drawn person lies inside the photo."""
    margin_mm = 120 * girth
    for _ in range(3):
        pixels = lens.project(points_cam)
        pad = lens.f[0] * margin_mm / points_cam[:, 2].min()
        low, high = pixels.min(0) - pad, pixels.max(0) + pad
        grow = max((high[0] - low[0]) / (0.98 * width), (high[1] - low[1]) / (0.98 * height), 1.0)
        shift = np.clip(-low, 0, None) - np.clip(high - (width - 1, height - 1), 0, None)  # px
        step = np.r_[shift * offset[2] / lens.f, offset[2] * (grow - 1)]
        points_cam, offset = points_cam + step, offset + step
    return offset


def render_mpii_image(rng: np.random.Generator, size: tuple[int, int] | None = None,
                      num_people: int | None = None, occluders: bool = True,
                      render_scale: float = RENDER_SCALE) -> MpiiImage:
    """Draw one photo. size (width, height) and the number of people are drawn from `rng` unless given.

    render_scale: the canvas is drawn at this fraction of the photo's size, then resized (1.0 for small photos)."""
    if size is None:
        size = IMAGE_SIZES[rng.choice(len(IMAGE_SIZES), p=IMAGE_SIZE_WEIGHTS)]
    width, height = size
    num_people = num_people or int(rng.choice([1, 2, 3], p=[0.4, 0.35, 0.25]))
    lens = photo_lens(rng, width, height)
    draw_lens = scaled_lens(lens, render_scale)
    canvas = Canvas.over(random_background(rng, round(height * render_scale), round(width * render_scale)))
    light = np.array([rng.uniform(-0.6, 0.6), rng.uniform(-1, -0.3), rng.uniform(-1, -0.4)])
    light /= np.linalg.norm(light)
    placed, boxes = [], []
    for index in range(num_people):
        shape, appearance = sample_body_shape(rng), sample_appearance(rng)
        points, seat = _random_pose(rng, shape)
        view = _tilted_view(rng)
        anchor = (points.min(0) + points.max(0)) / 2
        extent = (points - anchor) @ view.T
        extent_mm = np.ptp(extent[:, :2], axis=0) + 250 * shape.girth  # (w, h) mm incl. flesh
        target_px = height * rng.uniform(*((0.45, 0.88), (0.38, 0.75), (0.3, 0.65))[num_people - 1])
        depth = lens.f[0] * max(extent_mm[1] / target_px, extent_mm[0] / (0.9 * width))  # fits in the photo
        slot = (index + 0.5 + rng.uniform(-0.3, 0.3)) / num_people
        for other_depth, other_box in boxes:  # people whose boxes overlap stand well apart in depth
            if abs(slot * width - other_box) < lens.f[0] * extent_mm[0] / depth:
                depth = max(depth, other_depth + rng.uniform(800, 2000))
        half = lens.f[0] * extent_mm / depth / 2
        u = np.clip(slot * width, half[0] * 0.9, width - half[0] * 0.9)
        v = np.clip(height / 2 + rng.uniform(-0.15, 0.15) * height, half[1] * 0.95, height - half[1] * 0.95)
        offset = np.array([(u - lens.c[0]) * depth / lens.f[0], (v - lens.c[1]) * depth / lens.f[1], depth])
        offset = _keep_in_frame(_to_camera(points, view, anchor, offset), offset, lens, width, height, shape.girth)
        boxes.append((offset[2], u))
        points_cam = _to_camera(points, view, anchor, offset)
        chairs = [_to_camera(box, view, anchor, offset) for box in chair_boxes(points, shape.girth)
                  if seat > 0.3]
        placed.append((shape, appearance, points_cam, chairs))
    for person, (shape, appearance, points_cam, chairs) in enumerate(placed):
        for chair in chairs:
            draw_box(canvas, chair, draw_lens, np.array([110, 80, 55]) * rng.uniform(0.6, 1.4), light, OCCLUDER_ID + 1)
        draw_person(canvas, points_cam, shape, appearance, draw_lens, light, person)
    if occluders and rng.random() < 0.35:
        _add_occluder(rng, canvas, draw_lens, light, placed[rng.integers(len(placed))][2])
    people = [_label(canvas, lens, points_cam, shape, render_scale) for shape, _, points_cam, _ in placed]
    softened = add_noise(soften(canvas.image, rng.uniform(0.0, 0.6), rng.uniform(0.92, 1.08, 3)), rng,
                         rng.uniform(1, 6))
    image = softened if softened.shape[:2] == (height, width) else cv2.resize(
        softened, (width, height), interpolation=cv2.INTER_LINEAR)
    return MpiiImage(image, people, canvas, render_scale, lens, tuple(p[2] for p in placed),
                     tuple(p[0].girth for p in placed))


def _add_occluder(rng: np.random.Generator, canvas: Canvas, lens: Lens, light: np.ndarray,
                  points_cam: np.ndarray) -> None:
    """A crate, counter or pole between the camera and one person, covering part of the body."""
    floor_y = points_cam[:, 1].max() + 50  # camera y points down: the person's feet
    depth = points_cam[0, 2] - rng.uniform(300, 700)
    if depth < 500:
        return
    if rng.random() < 0.3:  # pole
        half = np.array([rng.uniform(35, 90), rng.uniform(800, 1400), rng.uniform(35, 90)])
    else:  # crate or counter, at most about half a person high
        half = np.array([rng.uniform(150, 400), rng.uniform(180, 450), rng.uniform(100, 300)])
    centre = np.array([points_cam[0, 0] + rng.uniform(-500, 500), floor_y - half[1], depth])
    yaw = rng.uniform(-0.5, 0.5)
    rotation = np.array([[np.cos(yaw), 0, np.sin(yaw)], [0, 1, 0], [-np.sin(yaw), 0, np.cos(yaw)]])
    colour = rng.integers(30, 230, 3).astype(np.float64)
    draw_box(canvas, box_corners(centre, half, rotation), lens, colour, light, OCCLUDER_ID,
             stripe_px=float(rng.integers(6, 30)) if rng.random() < 0.5 else 0.0)

