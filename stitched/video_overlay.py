"""Videos with poses drawn (`viz.py video_overlay_3d`, `run.py ... --video --overlay`): an mp4 of a video with the predicted 2D skeleton drawn over each frame and the 3D pose
beside it (a square panel, the pose seen from the camera turned by `azimuth_deg` about the vertical), frame rate
kept. Poses come from the files `run.py stitched_mpii --video` / `run.py hourglass_mpii --video` write
(`frame_index`, `preds`, optional `poses_3d`); a hourglass file gives the 2D overlay alone.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from utils.errors import InputError
from utils.npz import load_npz
from utils.plotting import draw_skeleton_cv2
from utils.run_logging import progress
from utils.skeletons import H36M17, MPII
from utils.video import VideoReader, VideoWriter

PANEL_SPAN_MM = 2200.0  # the panel's side covers this many mm around the root


def pose_panel(pose_mm: np.ndarray | None, side_px: int, azimuth_deg: float = 30.0) -> np.ndarray:
    """A white (side, side, 3) uint8 panel with an H36M-17 root-relative camera-frame pose (17, 3) mm drawn
    orthographically, turned by `azimuth_deg` about the camera's vertical (y down) axis; None: empty."""
    panel = np.full((side_px, side_px, 3), 255, np.uint8)
    if pose_mm is None or not np.isfinite(pose_mm).all():
        return panel
    angle = np.deg2rad(azimuth_deg)
    x = np.cos(angle) * pose_mm[:, 0] - np.sin(angle) * pose_mm[:, 2]  # (17,)
    joints = np.stack([x, pose_mm[:, 1]], -1) * (side_px / PANEL_SPAN_MM) + (side_px - 1) / 2  # (17, 2) px
    cv2.line(panel, (0, side_px - 1), (side_px - 1, side_px - 1), (200, 200, 200), 1)
    return draw_skeleton_cv2(panel, joints, H36M17, thickness=max(2, side_px // 120), radius=max(2, side_px // 100))


def overlay_frame(frame_rgb: np.ndarray, joints_2d_px: np.ndarray, pose_mm: np.ndarray | None,
                  with_panel: bool) -> np.ndarray:
    """The frame with every person's 2D skeleton (K, 16, 2) drawn, and the first person's 3D panel beside it."""
    height = frame_rgb.shape[0]
    thickness = max(2, height // 240)
    drawn = frame_rgb
    for joints in joints_2d_px:
        drawn = draw_skeleton_cv2(drawn, joints, MPII, thickness=thickness, radius=thickness + 1)
    if not with_panel:
        return drawn
    return np.concatenate([drawn, pose_panel(pose_mm, height)], axis=1)


def read_video_poses(path: str | Path) -> dict[str, np.ndarray]:
    """frame_index (N,), preds (N, 16, 2) and, when present, poses_3d (N, 17, 3) of a video predictions file."""
    data = load_npz(path)
    for field, shape in (("frame_index", 1), ("preds", 3)):
        if field not in data or data[field].ndim != shape:
            raise InputError(f"{path}: field '{field}' missing or of the wrong shape (a predictions file of "
                             f"run.py stitched_mpii --video or hourglass_mpii --video)")
    poses = {"frame_index": data["frame_index"].astype(np.int64), "preds": data["preds"].astype(np.float64)}
    if "poses_3d" in data:
        poses["poses_3d"] = data["poses_3d"].astype(np.float64)
    return poses


def write_overlay_video(video_path: str | Path, poses: dict[str, np.ndarray], output: str | Path) -> Path:
    """The mp4 of the module docstring, at the video's own frame rate."""
    reader = VideoReader(video_path)
    rows_of: dict[int, list[int]] = {}
    for row, frame in enumerate(poses["frame_index"]):
        rows_of.setdefault(int(frame), []).append(row)
    with_panel = "poses_3d" in poses
    width = reader.width + (reader.height if with_panel else 0)
    with VideoWriter(output, reader.fps, (width, reader.height)) as writer:
        for index, frame in enumerate(progress(reader.frames(), total=reader.frame_count or None,
                                               desc="drawing the video")):
            rows = rows_of.get(index, [])
            pose = poses["poses_3d"][rows[0]] if with_panel and rows else None
            writer.write(overlay_frame(frame, poses["preds"][rows].reshape(-1, 16, 2), pose, with_panel))
    return Path(output)
