"""Clothing, skin and hair of a synthetic person, and the colour of every drawn pixel of a body part.

Colours are RGB floats in [0, 255]. A part's pixels carry texture coordinates: `along_mm` (distance from the
part's first end) and `across` (-1 .. 1 over its width), so stripes and checks follow the limbs.
"""
from __future__ import annotations

import colorsys
from dataclasses import dataclass
from typing import Callable

import numpy as np

SKIN_TONES = np.array([[255, 224, 196], [241, 194, 160], [224, 172, 135], [198, 134, 96], [160, 104, 70],
                       [120, 78, 52], [92, 60, 40]], dtype=np.float32)
HAIR_COLOURS = np.array([[25, 20, 18], [60, 40, 25], [110, 75, 40], [180, 140, 80], [120, 120, 120],
                         [200, 170, 120]], dtype=np.float32)
PATTERNS = ("plain", "plain", "stripes", "check", "vstripes")
# What marks the front of a top, so a person's facing shows on the body and not only in the small head: an open
# jacket or cardigan over a shirt (a front band), a chest print, or a button placket with a collar patch.
FRONT_STYLES = ("open", "print", "placket")


@dataclass(frozen=True)
class Appearance:
    skin: np.ndarray  # (3,) RGB
    hair: np.ndarray
    top: np.ndarray
    top_second: np.ndarray
    top_pattern: str
    bottom: np.ndarray
    bottom_second: np.ndarray
    bottom_pattern: str
    shoes: np.ndarray
    stripe_mm: float
    long_sleeves: bool
    shorts: bool
    hair_line: float  # hair covers the head where the surface normal's "up" component exceeds this
    front: np.ndarray  # (3,) RGB of the front marking of the top
    front_style: str  # one of FRONT_STYLES
    front_half_width_mm: float  # half width of the front band or print


def _random_colour(rng: np.random.Generator, saturation: tuple[float, float], value: tuple[float, float]):
    rgb = colorsys.hsv_to_rgb(rng.random(), rng.uniform(*saturation), rng.uniform(*value))
    return np.array(rgb, dtype=np.float32) * 255


def sample_appearance(rng: np.random.Generator) -> Appearance:
    """Random clothing: a coloured or patterned top, trousers or shorts, shoes, a skin tone and a hair style."""
    top = _random_colour(rng, (0.3, 0.9), (0.35, 0.95))
    bottom = _random_colour(rng, (0.1, 0.7), (0.15, 0.7))
    return Appearance(
        skin=SKIN_TONES[rng.integers(len(SKIN_TONES))] * rng.uniform(0.93, 1.05),
        hair=HAIR_COLOURS[rng.integers(len(HAIR_COLOURS))],
        top=top,
        top_second=np.clip(top * rng.uniform(0.3, 0.6) + _random_colour(rng, (0, 0.6), (0.5, 1)) * 0.5, 0, 255),
        top_pattern=str(rng.choice(PATTERNS)),
        bottom=bottom,
        bottom_second=np.clip(bottom * 0.6, 0, 255),
        bottom_pattern=str(rng.choice(("plain", "plain", "plain", "check"))),
        shoes=_random_colour(rng, (0, 0.5), (0.05, 0.5)),
        stripe_mm=float(rng.uniform(25, 70)),
        long_sleeves=bool(rng.random() < 0.6),
        shorts=bool(rng.random() < 0.2),
        hair_line=float(rng.uniform(0.25, 0.65)),
        front=_contrasting(rng, top),
        front_style=str(rng.choice(FRONT_STYLES)),
        front_half_width_mm=float(rng.uniform(45, 80)),
    )


def _contrasting(rng: np.random.Generator, colour: np.ndarray) -> np.ndarray:
    """A colour that stands out against `colour`: light on dark clothes, dark on light ones, any hue."""
    light = colour.mean() < 128
    value = (0.8, 1.0) if light else (0.08, 0.3)
    return _random_colour(rng, (0.0, 0.7), value)


_PATTERN_CODES = {"plain": 0, "stripes": 1, "vstripes": 2, "check": 3}


def _material_palette(appearance: Appearance, material: str) -> tuple[np.ndarray, np.ndarray, int, float]:
    """(first colour, second colour, pattern code, pattern period mm) of a material on this person.

    Materials: top, sleeve, forearm (sleeve or skin), bottom, shin (trousers or skin), skin, shoes, head.
    """
    if material == "forearm":
        material = "top" if appearance.long_sleeves else "skin"
    if material == "shin":
        material = "skin" if appearance.shorts else "bottom"
    if material in ("top", "sleeve"):
        return appearance.top, appearance.top_second, _PATTERN_CODES[appearance.top_pattern], appearance.stripe_mm
    if material == "bottom":
        return (appearance.bottom, appearance.bottom_second, _PATTERN_CODES[appearance.bottom_pattern],
                appearance.stripe_mm * 1.5)
    colour = {"skin": appearance.skin, "shoes": appearance.shoes, "head": appearance.skin}[material]
    return colour, colour, 0, 1.0


def part_colours(appearance: Appearance, materials: tuple[str, ...], part: np.ndarray, along_mm: np.ndarray,
                 across: Callable[[], np.ndarray]) -> np.ndarray:
    """(N, 3) unshaded RGB of pixels of parts `part` (N,) whose materials are `materials` (P,).

    along_mm (N,) distance from the part's first end; `across()` gives (N,) -1 .. 1 over the part's width (computed
    only when a pattern needs it). Stripes run around the limb, vertical stripes along it, checks both.
    """
    palettes = [_material_palette(appearance, material) for material in materials]
    first = np.array([palette[0] for palette in palettes], dtype=np.float32)
    second = np.array([palette[1] for palette in palettes], dtype=np.float32)
    code = np.array([palette[2] for palette in palettes])[part]
    period = np.array([palette[3] for palette in palettes], dtype=np.float32)[part]
    second_colour = np.zeros(len(part), dtype=bool)
    if (code == 1).any() or (code == 3).any():
        band = (along_mm // period).astype(np.int32)
        second_colour |= (code == 1) & (band % 2 == 1)
        if (code == 3).any():
            second_colour |= (code == 3) & ((band + ((across() + 1) * 2.5).astype(np.int32)) % 2 == 1)
    if (code == 2).any():
        second_colour |= (code == 2) & (((across() + 1) * 3).astype(np.int32) % 2 == 1)
    return np.where(second_colour[:, None], second[part], first[part])


def front_marking(appearance: Appearance, front: np.ndarray, sideways_mm: np.ndarray, height: np.ndarray) -> np.ndarray:
    """(N,) bool: which torso pixels of the top carry the front marking (drawn in `appearance.front`).

    front (N,) the surface normal's component along the torso's forward direction; sideways_mm (N,) signed
    distance from the body's midline plane; height (N,) 0 at the pelvis .. 1 at the thorax.
    """
    on_front = front > 0.15
    band = on_front & (np.abs(sideways_mm) < appearance.front_half_width_mm)
    if appearance.front_style == "open":
        mark = band & (height > 0.1)
    elif appearance.front_style == "print":
        mark = band & (height > 0.45) & (height < 0.85)
    else:
        mark = on_front & (((np.abs(sideways_mm) < 18) & (height > 0.2))
                           | ((np.abs(sideways_mm) < appearance.front_half_width_mm) & (height > 0.88)))
    return mark


def head_colour(appearance: Appearance, normals: np.ndarray, face_dir: np.ndarray, up_dir: np.ndarray) -> np.ndarray:
    """(N, 3) unshaded RGB of head pixels from their surface normals (N, 3): face skin, hair, eyes and mouth.

    face_dir, up_dir: (3,) unit vectors of the head's front and top, in the same frame as the normals.
    """
    side_dir = np.cross(up_dir, face_dir)
    front, up, side = normals @ face_dir, normals @ up_dir, normals @ side_dir
    colour = np.broadcast_to(appearance.skin, normals.shape).astype(np.float32)
    hair = (up > appearance.hair_line) | (front < -0.15) | ((front < 0.25) & (up > 0.0))
    colour[hair] = appearance.hair
    eyes = (front > 0.55) & (up > 0.05) & (up < 0.3) & (np.abs(side) > 0.15) & (np.abs(side) < 0.45)
    colour[eyes] = (30, 25, 25)
    mouth = (front > 0.7) & (up < -0.38) & (up > -0.5) & (np.abs(side) < 0.22)
    colour[mouth] = appearance.skin * 0.55
    return colour
