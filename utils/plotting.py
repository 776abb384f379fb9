"""Drawing primitives shared by every picture: skeletons over images (OpenCV or matplotlib), 3D skeletons on equal
axes, one colour per body side, legends, and figures rendered off-screen (matplotlib Agg, no display).

Colours: left joints and bones are green, right ones red, centre ones gold, everywhere (the same values as the
TensorBoard pictures of `stacked_hourglass/pictures.py`); a bone takes the side of its child joint
(`Skeleton.side_of`). Lines get a thin dark outline, so every colour reads on photos and on white.

3D convention: poses are in the camera frame (x right, y down, z away from the camera, mm). They are drawn with
camera x to the right, depth z going into the picture and -y up, so an upright person stands upright.
"""
from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from utils.atomic import save_figure_atomic
from utils.skeletons import Skeleton

SIDE_COLOURS: dict[str, tuple[int, int, int]] = {"left": (40, 200, 40), "right": (220, 50, 50),
                                                 "centre": (240, 200, 40)}  # RGB 0..255
SIDE_LABELS = {"left": "left", "right": "right", "centre": "centre"}
OUTLINE = [patheffects.withStroke(linewidth=3.2, foreground=(0.1, 0.1, 0.1))]
VIEW_3D = {"elev": 12.0, "azim": -72.0}  # a little above and to the right of the camera


def side_colour(side: str) -> tuple[float, float, float]:
    """matplotlib RGB in [0, 1] of 'left' | 'right' | 'centre'."""
    return tuple(v / 255.0 for v in SIDE_COLOURS[side])


def joint_colours(skeleton: Skeleton) -> np.ndarray:
    """(J, 3) RGB in [0, 1]: each joint's side colour."""
    return np.asarray([side_colour(skeleton.side_of(j)) for j in range(skeleton.num_joints)])


def new_figure(width_in: float, height_in: float, dpi: int = 100) -> Figure:
    """A figure drawn by the Agg canvas only: no pyplot, no window, no global state."""
    figure = Figure(figsize=(width_in, height_in), dpi=dpi)
    FigureCanvasAgg(figure)
    return figure


def figure_to_array(figure: Figure) -> np.ndarray:
    """Render and return (H, W, 3) uint8 RGB."""
    figure.canvas.draw()
    return np.asarray(figure.canvas.buffer_rgba())[..., :3].copy()


def save_figure(figure: Figure, path: str | Path) -> Path:
    """Write a PNG atomically (parent folders created) and return its path."""
    return save_figure_atomic(figure, path, format="png", dpi=figure.dpi, facecolor="white")


def safe_file_name(name: str) -> str:
    """An image or frame name as a file stem: 'S9/Walking 1/54138969/000123' -> 'S9_Walking_1_54138969_000123'."""
    stem = str(name)
    stem = stem[: -len(Path(stem).suffix)] if Path(stem).suffix.lower() in (".jpg", ".jpeg", ".png", ".bmp") else stem
    return re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._") or "pose"


def unique_stems(names: list[str]) -> list[str]:
    """safe_file_name of each, with _person2, _person3... for repeats (several people in one image)."""
    seen: dict[str, int] = {}
    stems = []
    for name in names:
        stem = safe_file_name(name)
        seen[stem] = seen.get(stem, 0) + 1
        stems.append(stem if seen[stem] == 1 else f"{stem}_person{seen[stem]}")
    return stems


# ----------------------------------------------------------------------------------------------------- OpenCV, 2D
def draw_skeleton_cv2(image_rgb: np.ndarray, joints_px: np.ndarray, skeleton: Skeleton,
                      visible: np.ndarray | None = None, thickness: int = 2, radius: int = 3) -> np.ndarray:
    """A copy of image_rgb (H, W, 3) uint8 with bones and joints drawn at joints_px (J, 2) image px (pixel centres
    at integer coordinates, sub-pixel exact). Joints with visible == 0 and their bones are left out."""
    assert joints_px.shape == (skeleton.num_joints, 2), (joints_px.shape, skeleton.name)
    shown = np.ones(skeleton.num_joints, bool) if visible is None else np.asarray(visible) > 0
    shown &= np.isfinite(joints_px).all(-1)
    out = np.ascontiguousarray(image_rgb.copy())
    shift = 4  # fixed-point bits: coordinates to 1/16 px
    fixed = np.round(np.nan_to_num(joints_px) * (1 << shift)).astype(np.int64)
    for parent, child in skeleton.bones:
        if shown[parent] and shown[child]:
            cv2.line(out, tuple(map(int, fixed[parent])), tuple(map(int, fixed[child])),
                     SIDE_COLOURS[skeleton.side_of(child)], thickness, cv2.LINE_AA, shift)
    for joint in np.flatnonzero(shown):
        cv2.circle(out, tuple(map(int, fixed[joint])), radius << shift, SIDE_COLOURS[skeleton.side_of(joint)],
                   -1, cv2.LINE_AA, shift)
    return out


# ------------------------------------------------------------------------------------------------- matplotlib, 2D
def draw_skeleton_2d(ax: Axes, joints_px: np.ndarray, skeleton: Skeleton, visible: np.ndarray | None = None,
                     line_width: float = 2.0, marker_size: float = 5.0, highlight: int | None = None) -> None:
    """Bones and joints on 2D axes in image px (x right, y down: call on image axes or `blank_image_axes`).
    Joints with visible == 0 are left out; `highlight` rings one joint."""
    assert joints_px.shape == (skeleton.num_joints, 2), (joints_px.shape, skeleton.name)
    shown = np.ones(skeleton.num_joints, bool) if visible is None else np.asarray(visible) > 0
    shown &= np.isfinite(joints_px).all(-1)
    for parent, child in skeleton.bones:
        if shown[parent] and shown[child]:
            ax.plot(joints_px[[parent, child], 0], joints_px[[parent, child], 1], "-", linewidth=line_width,
                    color=side_colour(skeleton.side_of(child)), solid_capstyle="round", path_effects=OUTLINE,
                    zorder=3)
    index = np.flatnonzero(shown)
    ax.scatter(joints_px[index, 0], joints_px[index, 1], s=marker_size ** 2, c=joint_colours(skeleton)[index],
               edgecolors=(0.1, 0.1, 0.1), linewidths=0.8, zorder=4)
    if highlight is not None and shown[highlight]:
        ax.scatter(joints_px[highlight, 0], joints_px[highlight, 1], s=(marker_size * 3) ** 2, facecolors="none",
                   edgecolors="white", linewidths=2.0, zorder=5, path_effects=OUTLINE)


def show_image(ax: Axes, image_rgb: np.ndarray) -> None:
    """imshow with pixel centres at integer image px (the convention of every joint file)."""
    height, width = image_rgb.shape[:2]
    ax.imshow(image_rgb, extent=(-0.5, width - 0.5, height - 0.5, -0.5), interpolation="bilinear")


def blank_image_axes(ax: Axes, joints_px: np.ndarray, margin: float = 0.15) -> None:
    """No image: equal-aspect axes with y pointing down, framing the joints (J, 2) px with a margin."""
    low, high = view_box(joints_px, margin)
    ax.set_facecolor((0.97, 0.97, 0.97))
    ax.set_xlim(low[0], high[0])
    ax.set_ylim(high[1], low[1])
    ax.set_aspect("equal")
    ax.tick_params(labelsize=7)


def view_box(joints_px: np.ndarray, margin: float = 0.15, min_side: float = 32.0) -> tuple[np.ndarray, np.ndarray]:
    """A square around the finite joints (J, 2), enlarged by `margin` per side: (low (2,), high (2,)) px."""
    finite = joints_px[np.isfinite(joints_px).all(-1)]
    if len(finite) == 0:
        return np.zeros(2), np.full(2, min_side)
    centre = (finite.min(0) + finite.max(0)) / 2
    half = max((finite.max(0) - finite.min(0)).max(), min_side) * (0.5 + margin)
    return centre - half, centre + half


def zoom_to(ax: Axes, joints_px: np.ndarray, image_shape: tuple[int, ...], box: tuple[np.ndarray, float] | None = None,
            margin: float = 0.3) -> None:
    """Limit image axes to the person: the square person box (centre (2,) px, side px) when known, grown to hold
    the joints, else a square around the joints; kept inside the image where it fits."""
    low, high = view_box(joints_px, margin, min_side=64.0)
    if box is not None and np.isfinite(box[0]).all() and box[1] > 0:
        low = np.minimum(low, np.asarray(box[0]) - box[1] / 2)
        high = np.maximum(high, np.asarray(box[0]) + box[1] / 2)
        centre, half = (low + high) / 2, (high - low).max() / 2
        low, high = centre - half, centre + half
    size = np.asarray(image_shape[1::-1], dtype=np.float64)  # (width, height)
    side = high - low
    low = np.clip(low, -0.5, np.maximum(size - 0.5 - side, -0.5))
    high = np.minimum(low + side, size - 0.5)
    ax.set_xlim(low[0], high[0])
    ax.set_ylim(high[1], low[1])


def side_legend(target, location: str = "lower center", columns: int = 3, **kwargs) -> None:
    """Legend of the three side colours on a figure or axes."""
    handles = [Line2D([], [], color=side_colour(side), linewidth=3, marker="o", markeredgecolor=(0.1, 0.1, 0.1),
                      label=SIDE_LABELS[side]) for side in ("left", "right", "centre")]
    target.legend(handles=handles, loc=location, ncol=columns, fontsize=8, frameon=False, **kwargs)


def joint_legend(ax: Axes, skeleton: Skeleton, joints: tuple[int, ...] | None = None, **kwargs) -> None:
    """Legend naming joints (all, or `joints`) with their side colour; for panels that single joints out."""
    joints = range(skeleton.num_joints) if joints is None else joints
    handles = [Line2D([], [], linestyle="none", marker="o", markersize=6, markerfacecolor=side_colour(
        skeleton.side_of(j)), markeredgecolor=(0.1, 0.1, 0.1), label=f"{j} {skeleton.joint_names[j]}")
        for j in joints]
    ax.legend(handles=handles, fontsize=7, frameon=True, framealpha=0.8, **kwargs)


# ------------------------------------------------------------------------------------------------------------- 3D
def camera_to_plot(points: np.ndarray) -> np.ndarray:
    """(..., 3) camera frame (x right, y down, z forward) -> (..., 3) plot axes (x, z, -y): -y is drawn up."""
    points = np.asarray(points, dtype=np.float64)
    return np.stack([points[..., 0], points[..., 2], -points[..., 1]], axis=-1)


def equal_limits(poses: list[np.ndarray], margin: float = 0.1) -> tuple[np.ndarray, float]:
    """Centre (3,) and half side of one cube holding every pose (J, 3) given (plot axes), for shared scales."""
    points = np.concatenate([np.asarray(p, dtype=np.float64).reshape(-1, 3) for p in poses])
    points = points[np.isfinite(points).all(-1)]
    if len(points) == 0:
        return np.zeros(3), 1.0
    centre = (points.min(0) + points.max(0)) / 2
    half = max(float((points.max(0) - points.min(0)).max()) / 2, 1e-6) * (1 + margin)
    return centre, half


def draw_skeleton_3d(ax, pose_mm: np.ndarray, skeleton: Skeleton, limits: tuple[np.ndarray, float] | None = None,
                     title: str | None = None, line_width: float = 2.5, label_axes: bool = True) -> None:
    """A camera-frame pose (J, 3) mm on 3D axes (made with projection='3d'), equal scale on all three axes.

    limits: (centre (3,), half side) in plot axes (see `equal_limits`), shared between panels so that sizes compare;
    default: the pose's own cube.
    """
    assert pose_mm.shape == (skeleton.num_joints, 3), (pose_mm.shape, skeleton.name)
    points = camera_to_plot(pose_mm)  # (J, 3) plot axes
    for parent, child in skeleton.bones:
        segment = points[[parent, child]]
        ax.plot(segment[:, 0], segment[:, 1], segment[:, 2], "-", linewidth=line_width,
                color=side_colour(skeleton.side_of(child)), solid_capstyle="round", path_effects=OUTLINE)
    ax.scatter(points[:, 0], points[:, 1], points[:, 2], s=14, c=joint_colours(skeleton),
               edgecolors=(0.1, 0.1, 0.1), linewidths=0.6, depthshade=False)
    centre, half = limits if limits is not None else equal_limits([points])
    ax.set_xlim(centre[0] - half, centre[0] + half)
    ax.set_ylim(centre[1] - half, centre[1] + half)
    ax.set_zlim(centre[2] - half, centre[2] + half)
    ax.set_box_aspect((1, 1, 1))
    ax.view_init(**VIEW_3D)
    for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
        axis.set_pane_color((0.94, 0.94, 0.94, 1.0))
        axis.set_major_locator(MaxNLocator(4))
    ax.tick_params(labelsize=6, pad=0)
    if label_axes:
        ax.set_xlabel("x (mm)", fontsize=7, labelpad=-4)
        ax.set_ylabel("z, depth (mm)", fontsize=7, labelpad=-4)
        ax.set_zlabel("-y, up (mm)", fontsize=7, labelpad=-4)
    if title:
        ax.set_title(title, fontsize=9)
