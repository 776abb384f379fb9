"""CPU renderer: bodies as shaded capsules and boxes in a z-buffer, and joint visibility from that z-buffer.

Every pixel of every part passes a per-pixel depth test (nearest surface wins, whatever the drawing order), so
self-occlusion, people in front of people and occluding objects come out right. Pixel centres sit at integer
coordinates (OpenCV's convention), the same pixels the 2D labels are given in. Camera frame: x right, y down,
z forward, mm.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from synthetic.appearance import Appearance, front_marking, head_colour, part_colours
from synthetic.body import CROWN, NOSE, NUM_POINTS, BodyShape
from utils.cameras import project_to_pixels


@dataclass(frozen=True)
class Lens:
    """Intrinsics: focal f (2,) and centre c (2,) px, radial k (3,) and tangential p (2,) distortion."""

    f: np.ndarray
    c: np.ndarray
    k: np.ndarray = field(default_factory=lambda: np.zeros(3))
    p: np.ndarray = field(default_factory=lambda: np.zeros(2))

    def project(self, points_cam: np.ndarray) -> np.ndarray:
        """(..., 3) camera frame -> (..., 2) distorted pixels."""
        return project_to_pixels(points_cam, self.f, self.c, self.k, self.p)

    def rays(self, cols: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """(N, 3) undistorted rays (z = 1) through pixels (lens distortion ignored)."""
        return np.stack([(cols - self.c[0]) / self.f[0], (rows - self.c[1]) / self.f[1], np.ones(len(cols))], -1)


def _point(**weights: float) -> np.ndarray:
    row = np.zeros(NUM_POINTS)
    for name, weight in weights.items():
        row[int(name[1:])] += weight
    return row


# name, first end, second end (weights over the 34 body points), radii mm at both ends (x girth), material.
_PARTS = (
    ("pelvis", _point(j0=0.35, j1=0.65), _point(j0=0.35, j6=0.65), 96, 96, "bottom"),
    ("belly", _point(j0=0.7, j12=0.3), _point(j12=1.0), 104, 110, "top"),
    ("torso_r", _point(j0=0.3, j1=0.5, j12=0.2), _point(j13=0.7, j25=0.3), 96, 108, "top"),
    ("torso_l", _point(j0=0.3, j6=0.5, j12=0.2), _point(j13=0.7, j17=0.3), 96, 108, "top"),
    ("shoulders", _point(j17=1.0), _point(j25=1.0), 62, 62, "top"),
    ("neck", _point(j13=1.0), _point(j14=1.0), 44, 40, "skin"),
    ("head", _point(j14=0.4, j15=0.6), _point(j14=-0.15, j15=1.15), 0, 0, "head"),
    ("r_upper_arm", _point(j25=1.0), _point(j26=1.0), 54, 44, "sleeve"),
    ("l_upper_arm", _point(j17=1.0), _point(j18=1.0), 54, 44, "sleeve"),
    ("r_forearm", _point(j26=1.0), _point(j27=1.0), 42, 32, "forearm"),
    ("l_forearm", _point(j18=1.0), _point(j19=1.0), 42, 32, "forearm"),
    ("r_hand", _point(j27=1.0), _point(j30=1.0), 31, 38, "skin"),
    ("l_hand", _point(j19=1.0), _point(j22=1.0), 31, 38, "skin"),
    ("r_thigh", _point(j1=1.0), _point(j2=1.0), 86, 60, "bottom"),
    ("l_thigh", _point(j6=1.0), _point(j7=1.0), 86, 60, "bottom"),
    ("r_shin", _point(j2=1.0), _point(j3=1.0), 57, 42, "shin"),
    ("l_shin", _point(j7=1.0), _point(j8=1.0), 57, 42, "shin"),
    ("r_foot", _point(j3=1.0), _point(j5=1.0), 44, 34, "shoes"),
    ("l_foot", _point(j8=1.0), _point(j10=1.0), 44, 34, "shoes"),
)
PART_NAMES = tuple(part[0] for part in _PARTS)
_FIRST = np.stack([part[1] for part in _PARTS])  # (P, 34)
_SECOND = np.stack([part[2] for part in _PARTS])
_RADII = np.array([(part[3], part[4]) for part in _PARTS], dtype=np.float64)  # (P, 2)
_MATERIALS = tuple(part[5] for part in _PARTS)
_HEAD = PART_NAMES.index("head")
_TOP_TORSO = np.array([PART_NAMES.index(name) for name in ("belly", "torso_r", "torso_l", "shoulders")])
HEAD_RADIUS_OF_NECK_BONE = 0.72  # head radius as a fraction of the neck -> head bone
IDS_PER_PERSON = 32  # id buffer: person k's part p is k * 32 + p + 1; 0 background; occluders >= 10000
OCCLUDER_ID = 10000


@dataclass
class Canvas:
    """An image with its depth buffer (mm, inf = empty) and id buffer (who owns each pixel)."""

    image: np.ndarray  # (H, W, 3) uint8 RGB
    depth: np.ndarray  # (H, W) float32
    ids: np.ndarray  # (H, W) int16

    @classmethod
    def over(cls, background: np.ndarray) -> "Canvas":
        height, width = background.shape[:2]
        return cls(background.copy(), np.full((height, width), np.inf, np.float32),
                   np.zeros((height, width), np.int16))


def _lambert(normals: np.ndarray, light: np.ndarray, ambient: float = 0.42) -> np.ndarray:
    """(N, 3) unit normals, (3,) unit vector towards the light -> (N, 1) brightness with a soft highlight."""
    cosine = np.clip(normals @ light.astype(normals.dtype), 0, None)
    highlight = cosine * cosine
    highlight *= highlight
    return (ambient + (1 - ambient) * cosine + 0.25 * highlight * highlight * highlight)[:, None]


def _paint(canvas: Canvas, rows: np.ndarray, cols: np.ndarray, depth: np.ndarray, rgb: np.ndarray,
           shade: np.ndarray | float, owner: np.ndarray | int) -> None:
    canvas.image[rows, cols] = np.clip(rgb * shade, 0, 255).astype(np.uint8)
    canvas.depth[rows, cols] = depth
    canvas.ids[rows, cols] = owner


def part_geometry(points_cam: np.ndarray, shape: BodyShape) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(34, 3) camera-frame body points -> part ends (P, 3) and (P, 3), radii (P, 2) mm."""
    radii = _RADII * shape.girth
    radii[_HEAD] = HEAD_RADIUS_OF_NECK_BONE * np.linalg.norm(shape.offsets_mm[15])
    return _FIRST @ points_cam, _SECOND @ points_cam, radii


def _candidates(ends_px: np.ndarray, radii_px: np.ndarray, height: int, width: int):
    """Pixels each part may cover (its capsule, grown by a pixel): (part (N,), cols (N,), rows (N,)).

    ends_px (P, 2, 2) end centres, radii_px (P, 2); parts with a negative radius are skipped.
    """
    parts, counts, all_cols, all_rows = [], [], [], []
    for part in range(len(ends_px)):
        if radii_px[part].min() < 0:
            continue
        reach = radii_px[part].max() + 2
        x0, y0 = np.maximum(np.floor(ends_px[part].min(0) - reach), 0).astype(int)
        x1, y1 = np.minimum(np.ceil(ends_px[part].max(0) + reach), (width, height)).astype(int)
        if x0 >= x1 or y0 >= y1:
            continue
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        (ax, ay), (bx, by) = ends_px[part] - (x0, y0)
        normal = np.array([ay - by, bx - ax]) / (np.hypot(bx - ax, by - ay) + 1e-9)
        ra, rb = radii_px[part] + 1
        hull = np.array([[ax, ay] + normal * ra, [bx, by] + normal * rb, [bx, by] - normal * rb,
                         [ax, ay] - normal * ra])
        cv2.fillConvexPoly(mask, np.round(hull * 4).astype(np.int32), 1, cv2.LINE_8, 2)
        cv2.circle(mask, (int(round(ax * 4)), int(round(ay * 4))), int(np.ceil(ra * 4)), 1, -1, cv2.LINE_8, 2)
        cv2.circle(mask, (int(round(bx * 4)), int(round(by * 4))), int(np.ceil(rb * 4)), 1, -1, cv2.LINE_8, 2)
        rows, cols = np.nonzero(mask)
        counts.append(len(rows))
        all_rows.append(rows.astype(np.int32) + y0)
        all_cols.append(cols.astype(np.int32) + x0)
        parts.append(part)
    if not parts:
        return np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.int32)
    return np.repeat(np.array(parts, np.int32), counts), np.concatenate(all_cols), np.concatenate(all_rows)


def draw_person(canvas: Canvas, points_cam: np.ndarray, shape: BodyShape, appearance: Appearance,
                lens: Lens, light: np.ndarray, person: int) -> None:
    """Draw one person with a per-pixel depth test. points_cam (34, 3) camera frame mm; light (3,) unit vector
    towards the light, camera frame. All parts are rasterised in one vectorised pass (tapered capsules)."""
    height, width = canvas.depth.shape
    first, second, radii = part_geometry(points_cam, shape)
    ends_px = lens.project(np.stack([first, second], axis=1))  # (P, 2, 2)
    depths = np.stack([first[:, 2], second[:, 2]], axis=1)  # (P, 2)
    radii_px = np.maximum(float(lens.f.mean()) * radii / np.maximum(depths, 1.0), 1.0)  # at least 2 px wide
    radii_px[depths.min(axis=1) <= 50] = -1e3  # behind or at the camera: not drawn
    part, cols, rows = _candidates(ends_px, radii_px, height, width)
    axis = ends_px[:, 1] - ends_px[:, 0]  # (P, 2)
    inverse_length_sq = 1 / ((axis ** 2).sum(1) + 1e-6)
    shape_table = np.stack([ends_px[:, 0, 0], ends_px[:, 0, 1], axis[:, 0] * inverse_length_sq,
                            axis[:, 1] * inverse_length_sq, axis[:, 0], axis[:, 1], radii_px[:, 0],
                            radii_px[:, 1] - radii_px[:, 0]]).astype(np.float32)  # (8, P)
    depth_table = np.stack([depths[:, 0], depths[:, 1] - depths[:, 0], radii[:, 0],
                            radii[:, 1] - radii[:, 0]]).astype(np.float32)  # (4, P)
    g = shape_table[:, part]  # (8, N)
    dx, dy = cols.astype(np.float32) - g[0], rows.astype(np.float32) - g[1]
    along = np.clip(dx * g[2] + dy * g[3], 0, 1)
    inverse_radius = 1 / (g[6] + along * g[7])
    normal_x, normal_y = (dx - along * g[4]) * inverse_radius, (dy - along * g[5]) * inverse_radius
    facing_sq = 1 - normal_x * normal_x - normal_y * normal_y
    inside = np.flatnonzero(facing_sq > 0)
    part, along, normal_x, normal_y = part[inside], along[inside], normal_x[inside], normal_y[inside]
    normal_z = -np.sqrt(facing_sq[inside])
    flat = rows[inside] * np.int32(width) + cols[inside]
    g = depth_table[:, part]  # (4, N)
    depth = (g[0] + along * g[1] + (g[2] + along * g[3]) * normal_z).astype(np.float32, copy=False)  # surface, mm
    np.minimum.at(canvas.depth.reshape(-1), flat, depth)  # z-buffer over this person's parts and what was there
    won = np.flatnonzero(depth == canvas.depth.reshape(-1)[flat])
    part, flat, along, depth = part[won], flat[won], along[won], depth[won]
    normals = np.stack([normal_x[won], normal_y[won], normal_z[won]], axis=-1)
    lengths = np.linalg.norm(second - first, axis=1).astype(np.float32)

    def across() -> np.ndarray:  # -1 .. 1 over the part's width; only patterned clothes need it
        return (normals[:, 1] * axis[part, 0] - normals[:, 0] * axis[part, 1]) * np.sqrt(inverse_length_sq[part])

    rgb = part_colours(appearance, _MATERIALS, part, along * lengths[part], across)
    head = np.flatnonzero(part == _HEAD)
    if len(head):
        face_dir = points_cam[NOSE] - 0.5 * (first[_HEAD] + second[_HEAD])
        up_dir = points_cam[CROWN] - points_cam[14]
        rgb[head] = head_colour(appearance, normals[head], face_dir / np.linalg.norm(face_dir),
                                up_dir / np.linalg.norm(up_dir))
    torso = np.flatnonzero(np.isin(part, _TOP_TORSO))
    if len(torso):
        _mark_front(rgb, torso, normals, flat, depth, points_cam, appearance, lens, width)
    rgb *= _lambert(normals, light)
    canvas.image.reshape(-1, 3)[flat] = np.clip(rgb, 0, 255).astype(np.uint8)
    canvas.ids.reshape(-1)[flat] = person * IDS_PER_PERSON + part + 1


def _mark_front(rgb: np.ndarray, torso: np.ndarray, normals: np.ndarray, flat: np.ndarray, depth: np.ndarray,
                points_cam: np.ndarray, appearance: Appearance, lens: Lens, width: int) -> None:
    """Front marking of the top on the torso pixels `torso` (indices into rgb/normals/flat/depth), in place."""
    up = points_cam[13] - points_cam[0]  # pelvis -> thorax
    right = (points_cam[25] - points_cam[17]) + (points_cam[1] - points_cam[6])  # left -> right shoulder and hip
    forward = np.cross(up, right)  # body frame: x right, y forward, z up, so y = z x x
    torso_length = np.linalg.norm(up)
    up, forward = up / torso_length, forward / np.linalg.norm(forward)
    right = np.cross(forward, up)
    surface = lens.rays(flat[torso] % width, flat[torso] // width) * depth[torso, None]  # camera frame mm
    offset = surface - points_cam[0]
    mark = front_marking(appearance, normals[torso] @ forward, offset @ right, offset @ up / torso_length)
    rgb[torso[mark]] = appearance.front


_BOX_FACES = ((0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3))


def box_corners(centre: np.ndarray, half_size: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """(8, 3) corners of a box: centre (3,), half extents (3,), rotation (3, 3) box -> frame."""
    signs = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], dtype=np.float64)
    return centre + (signs * half_size) @ rotation.T


def draw_box(canvas: Canvas, corners_cam: np.ndarray, lens: Lens, colour: np.ndarray, light: np.ndarray,
             owner: int = OCCLUDER_ID, stripe_px: float = 0.0) -> None:
    """Draw a box given its 8 camera-frame corners (as from `box_corners`): flat-shaded faces, exact plane depth."""
    height, width = canvas.depth.shape
    centre = corners_cam.mean(axis=0)
    for face in _BOX_FACES:
        quad = corners_cam[list(face)]
        normal = np.cross(quad[1] - quad[0], quad[3] - quad[0])
        normal /= np.linalg.norm(normal) + 1e-12
        if normal @ (quad.mean(0) - centre) < 0:
            normal = -normal
        if normal @ quad.mean(0) >= 0 or quad[:, 2].min() <= 50:
            continue  # faces away from the camera, or crosses it
        polygon = lens.project(quad)
        x0, y0 = np.maximum(np.floor(polygon.min(0)).astype(int), 0)
        x1, y1 = np.minimum(np.ceil(polygon.max(0)).astype(int) + 1, (width, height))
        if x0 >= x1 or y0 >= y1:
            continue
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillConvexPoly(mask, np.round((polygon - (x0, y0)) * 16).astype(np.int32), 1, cv2.LINE_8, 4)
        rows, cols = np.nonzero(mask)
        depth = (normal @ quad[0]) / (lens.rays(cols + x0, rows + y0) @ normal)  # along each ray to the plane
        rows, cols = rows + y0, cols + x0
        front = (depth > 0) & (depth < canvas.depth[rows, cols])
        shade = float(0.45 + 0.55 * max(normal @ light, 0.0))
        rgb = np.broadcast_to(colour, (int(front.sum()), 3))
        if stripe_px > 0:
            rgb = rgb * (1 - 0.25 * ((cols[front] // stripe_px) % 2))[:, None]
        _paint(canvas, rows[front], cols[front], depth[front].astype(np.float32), rgb, shade, owner)


# Own radius (mm, x girth) around each MPII joint: a joint is hidden when something lies nearer than its surface.
MPII_OWN_RADIUS_MM = np.array([45, 55, 80, 80, 55, 45, 100, 110, 85, 60, 40, 48, 60, 60, 48, 40], dtype=np.float64)
VISIBILITY_MARGIN_MM = 25.0


def joint_visibility(canvas: Canvas, joints_px: np.ndarray, joints_depth_mm: np.ndarray,
                     own_radius_mm: np.ndarray) -> np.ndarray:
    """(J,) bool: inside the image and not hidden by anything nearer than the joint's own surface.

    joints_px (J, 2) pixels, joints_depth_mm (J,) camera z, own_radius_mm (J,) how far the body surface around the
    joint lies in front of it.
    """
    height, width = canvas.depth.shape
    cols, rows = np.round(joints_px[:, 0]).astype(int), np.round(joints_px[:, 1]).astype(int)
    inside = (cols >= 0) & (cols < width) & (rows >= 0) & (rows < height) & (joints_depth_mm > 0)
    front = canvas.depth[np.clip(rows, 0, height - 1), np.clip(cols, 0, width - 1)]
    return inside & (front >= joints_depth_mm - own_radius_mm - VISIBILITY_MARGIN_MM)
