"""Backgrounds (gradients, textures, rooms, clutter), the Human3.6M-like studio, and the camera finish (blur, noise).

Everything is drawn at low resolution and upsampled, or with OpenCV primitives, to stay fast on a CPU.
Images are RGB uint8.
"""
from __future__ import annotations

import cv2
import numpy as np

from synthetic.render import Lens


def _colour(rng: np.random.Generator, low: int = 20, high: int = 235) -> np.ndarray:
    return rng.integers(low, high, 3).astype(np.float32)


def _gradient(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    top, bottom = _colour(rng), _colour(rng)
    mix = np.linspace(0, 1, height, dtype=np.float32)[:, None, None] ** rng.uniform(0.5, 2.0)
    return np.broadcast_to(top * (1 - mix) + bottom * mix, (height, width, 3)).copy()


def _blobs(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Smooth coloured noise (foliage, plaster, carpet) from a coarse grid, upsampled."""
    cells = rng.integers(3, 24)
    coarse = rng.random((cells, max(2, cells * width // height), 1)).astype(np.float32)
    smooth = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)[..., None]
    return _colour(rng) * (1 - smooth) + _colour(rng) * smooth


def _tiles(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Wallpaper: stripes or checks of two colours, possibly slanted."""
    period = rng.integers(3, 20)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, np.pi) if rng.random() < 0.4 else 0.0
    u = xs * np.cos(angle) + ys * np.sin(angle)
    pattern = (u // period) % 2 if rng.random() < 0.5 else ((u // period) + (ys // period)) % 2
    return np.where(pattern[..., None] > 0, _colour(rng), _colour(rng)).astype(np.float32)


def _room(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A wall above a floor with receding floorboards."""
    image = _gradient(rng, height, width)
    horizon = int(height * rng.uniform(0.45, 0.8))
    floor = _colour(rng, 40, 200)
    image[horizon:] = floor * np.linspace(0.8, 1.1, height - horizon, dtype=np.float32)[:, None, None]
    vanish = rng.uniform(0, width)
    for x in np.linspace(-width, 2 * width, rng.integers(8, 30)):
        cv2.line(image, (int(vanish), horizon), (int(x), height), (floor * 0.7).tolist(), 1)
    return image


def _clutter(rng: np.random.Generator, image: np.ndarray) -> None:
    """Furniture-like rectangles, discs and lines drawn over the background."""
    height, width = image.shape[:2]
    for _ in range(rng.integers(3, 14)):
        kind = rng.integers(3)
        colour = _colour(rng).tolist()
        x, y = int(rng.uniform(0, width)), int(rng.uniform(0, height))
        size = int(rng.uniform(0.03, 0.3) * height)
        if kind == 0:
            cv2.rectangle(image, (x, y), (x + int(size * rng.uniform(0.3, 2.5)), y + size), colour, -1)
        elif kind == 1:
            cv2.circle(image, (x, y), size // 2, colour, -1, cv2.LINE_AA)
        else:
            cv2.line(image, (x, y), (x + size * 2, y + int(rng.normal(0, size))), colour,
                     int(rng.integers(2, 12)), cv2.LINE_AA)


def random_background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A varied everyday background (H, W, 3) uint8 (composed at quarter resolution, clutter at full)."""
    small_height, small_width = max(height // 4, 8), max(width // 4, 8)
    makers = (_gradient, _blobs, _tiles, _room)
    image = makers[rng.integers(len(makers))](rng, small_height, small_width)
    if rng.random() < 0.5:
        image = 0.7 * image + 0.3 * _blobs(rng, small_height, small_width)
    image = cv2.resize(np.clip(image, 0, 255).astype(np.uint8), (width, height), interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.85:
        _clutter(rng, image)
    return image


def studio_background(rng: np.random.Generator, rotation: np.ndarray, centre_mm: np.ndarray, lens: Lens,
                      height: int, width: int) -> np.ndarray:
    """A capture studio seen by one camera: a patterned floor (z = 0, world mm) meeting dark walls.

    rotation (3, 3) world -> camera, centre_mm (3,) camera position; lens distortion is ignored for the room.
    """
    step = 4
    rows, cols = np.mgrid[0:height:step, 0:width:step]
    rays_cam = lens.rays(cols.ravel().astype(np.float64), rows.ravel().astype(np.float64))
    rays_world = rays_cam @ rotation  # camera -> world directions
    distance = -centre_mm[2] / np.where(rays_world[:, 2] < -1e-6, rays_world[:, 2], -1e-6)
    hit = centre_mm[None, :2] + distance[:, None] * rays_world[:, :2]
    on_floor = (rays_world[:, 2] < -1e-6) & (np.abs(hit).max(axis=1) < 4500)
    tile = rng.uniform(400, 900)
    # a smooth checkerboard (sign of a product of sines, softened) so upsampled edges stay straight
    wave = np.sin(np.pi * hit[:, 0] / tile) * np.sin(np.pi * hit[:, 1] / tile)
    checker = np.clip(0.5 + 4.0 * wave, 0, 1)[:, None]
    floor_a, floor_b = _colour(rng, 60, 170), _colour(rng, 60, 170)
    floor = (checker * floor_a + (1 - checker) * floor_b) * np.clip(1.15 - distance[:, None] / 16000, 0.6, 1.1)
    wall = _colour(rng, 30, 110) * (0.75 + 0.35 * (rows.ravel() / height))[:, None]
    small = np.where(on_floor[:, None], floor, wall).reshape(rows.shape + (3,)).astype(np.float32)
    image = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
    for _ in range(rng.integers(2, 6)):  # equipment along the walls
        x, y = int(rng.uniform(0, width)), int(rng.uniform(0, height * 0.5))
        cv2.rectangle(image, (x, y), (x + int(rng.uniform(20, 120)), y + int(rng.uniform(40, 250))),
                      _colour(rng, 10, 120).tolist(), -1)
    return np.clip(image, 0, 255).astype(np.uint8)


def soften(image: np.ndarray, blur_sigma: float, cast: np.ndarray) -> np.ndarray:
    """Lens blur (5 x 5 Gaussian) and a per-channel colour cast (3,) gains."""
    out = cv2.GaussianBlur(image, (5, 5), blur_sigma) if blur_sigma > 0 else image
    return cv2.transform(out, np.diag(cast))


def add_noise(image: np.ndarray, rng: np.random.Generator, noise_std: float) -> np.ndarray:
    """Sensor noise: a random 96 x 96 tile of Gaussian noise repeated over the image (cheap, looks like grain)."""
    height, width = image.shape[:2]
    tile = np.round(rng.standard_normal((96, 96, 3)) * noise_std).astype(np.int16)
    reps = (height // 96 + 1, width // 96 + 1, 1)
    out = cv2.add(image, np.tile(np.clip(tile, 0, 255).astype(np.uint8), reps)[:height, :width])
    return cv2.subtract(out, np.tile(np.clip(-tile, 0, 255).astype(np.uint8), reps)[:height, :width])


def finish(image: np.ndarray, rng: np.random.Generator, blur_sigma: float, noise_std: float) -> np.ndarray:
    """Camera look: blur, a random colour cast and sensor noise."""
    return add_noise(soften(image, blur_sigma, rng.uniform(0.92, 1.08, 3)), rng, noise_std)
