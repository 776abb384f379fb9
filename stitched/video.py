"""Poses through a video: person boxes per frame (a boxes file, or one person followed from frame to frame), the
`Estimator` over the frames in batches, and temporal smoothing of the trajectories.

Following one person (no boxes file): the first frame is run whole (or in a given box); each next frame's box is
the previous frame's joints' bounding box enlarged by `margin` of its size on every side; when the previous frame's
mean joint score falls below `reinit_score`, the next frame starts again from the first box. This makes every
frame depend on the one before, so frames are run one at a time; with a boxes file they go in batches.
A boxes file for a video names frames by index: {"17": [[x1, y1, x2, y2], ...]} or COCO detections with
image_id = frame index (`stacked_hourglass.boxes`).
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np

from stacked_hourglass.boxes import read_boxes
from stitched.inference import Estimator, People
from utils.errors import InputError
from utils.run_logging import get_logger, progress
from utils.smoothing import SmoothingSettings, smooth
from utils.video import VideoReader


@dataclass(frozen=True)
class TrackSettings:
    margin: float = 0.15  # fraction of the joints' box size added on each side
    reinit_score: float = 0.1  # mean joint score (heatmap peak) below which tracking starts again
    first_box: tuple[float, float, float, float] | None = None  # x1, y1, x2, y2; None: the whole first frame


@dataclass
class VideoPoses(People):
    """People of a video, `image_index` being the frame index; plus the video's frame rate and size."""

    fps: float = 25.0
    size_px: tuple[int, int] = (0, 0)  # width, height
    reinitialised: int = 0  # frames where tracking started again


def box_from_joints(joints_px: np.ndarray, margin: float, size_px: tuple[int, int]) -> np.ndarray:
    """(16, 2) joints -> (4,) x1, y1, x2, y2: their bounding box enlarged by `margin` x its size on each side, kept
    inside the frame (at least 2 px across)."""
    low, high = joints_px.min(0), joints_px.max(0)
    pad = margin * (high - low)
    limit = np.asarray(size_px, dtype=np.float64) - 1
    low, high = np.clip(low - pad, 0, limit), np.clip(high + pad, 0, limit)
    high = np.maximum(high, np.minimum(low + 2, limit))
    return np.concatenate([low, high])


def _joined(parts: list[People], reader: VideoReader, **extra) -> VideoPoses:
    values = {f.name: (np.concatenate([getattr(p, f.name) for p in parts]) if parts and getattr(parts[0], f.name)
                       is not None else None) for f in fields(People)}
    if values["joints_2d_px"] is None:
        raise InputError(f"video {reader.path}: no frames could be read")
    return VideoPoses(**values, fps=reader.fps, size_px=(reader.width, reader.height), **extra)


def track_video(estimator: Estimator, reader: VideoReader, settings: TrackSettings) -> VideoPoses:
    """One person followed through the video (module docstring)."""
    first = None if settings.first_box is None else np.asarray(settings.first_box, dtype=np.float64)
    box, parts, restarts = first, [], 0
    for frame_index, frame in enumerate(progress(reader.frames(), total=reader.frame_count or None,
                                                 desc="video, following one person")):
        people = estimator(frame, None if box is None else box[None])
        people.image_index[:] = frame_index
        parts.append(people)
        if people.scores[0].mean() < settings.reinit_score:
            box = first
            restarts += frame_index > 0
        else:
            box = box_from_joints(people.joints_2d_px[0], settings.margin, frame.shape[1::-1])
    return _joined(parts, reader, reinitialised=restarts)


def frame_boxes(path: str | Path, min_score: float = 0.0) -> dict[int, np.ndarray]:
    """{frame index: (K, 4) x1, y1, x2, y2} from a boxes file naming frames by index."""
    boxes = read_boxes(path, None, min_score=min_score)
    by_frame: dict[int, list] = {}
    for name, corners in zip(boxes.image_names, boxes.corners_px):
        if not str(name).isdigit():
            raise InputError(f"{path}: entry '{name}': a video's boxes are keyed by frame index (0, 1, ...)")
        by_frame.setdefault(int(name), []).append(corners)
    get_logger().info(f"{path}: {boxes.layout} boxes layout, {len(boxes.image_names)} boxes on {len(by_frame)} "
                      f"frames" + (f" (score >= {min_score})" if boxes.layout == "coco" else ""))
    return {frame: np.asarray(corners) for frame, corners in by_frame.items()}


def boxed_video(estimator: Estimator, reader: VideoReader, boxes: dict[int, np.ndarray], batch_size: int,
                whole_frame_without_box: bool = False) -> VideoPoses:
    """The people of every frame's boxes, frames in batches; frames without a box run whole when asked, else are
    counted and named in a warning."""
    parts, unboxed, frame_index = [], [], 0
    for batch in progress(reader.batches(batch_size), total=-(-reader.frame_count // batch_size) or None,
                          desc="video, boxes per frame"):
        indices = range(frame_index, frame_index + len(batch))
        frame_index += len(batch)
        unboxed += [i for i in indices if i not in boxes]
        keep = [k for k, i in enumerate(indices) if i in boxes or whole_frame_without_box]
        if not keep:
            continue
        people = estimator([batch[k] for k in keep], [boxes.get(indices[k]) for k in keep])
        people.image_index[:] = np.asarray([indices[k] for k in keep])[people.image_index]
        parts.append(people)
    if unboxed:
        action = "run whole" if whole_frame_without_box else "not run (--whole_image_without_box runs them whole)"
        get_logger().warning(f"{len(unboxed)} of {frame_index} frames have no box (first: frame {unboxed[0]}); "
                             f"they are {action}")
    return _joined(parts, reader)


def smoothed(poses: VideoPoses, settings: SmoothingSettings) -> VideoPoses:
    """2D joints and 3D poses filtered along time (`utils.smoothing`); needs one person per frame."""
    if settings.method == "none":
        return poses
    frames = poses.image_index
    if len(np.unique(frames)) != len(frames):
        get_logger().warning("smoothing needs one person per frame; this video has frames with several: not smoothed")
        return poses
    order = np.argsort(frames)
    joints, poses_3d = poses.joints_2d_px.copy(), None if poses.poses_3d_mm is None else poses.poses_3d_mm.copy()
    joints[order] = smooth(poses.joints_2d_px[order], settings, poses.fps)
    if poses_3d is not None:
        poses_3d[order] = smooth(poses.poses_3d_mm[order], settings, poses.fps)
        poses_3d[:, 0] = 0.0  # the root stays the origin
    return replace(poses, joints_2d_px=joints, poses_3d_mm=poses_3d)
