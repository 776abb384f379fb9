"""HumanEva-I video for the hourglass: runs of consecutive rendered frames, person crops, clips of K frames, and the
clip metrics (2D PCK, mean pixel error, frame-to-frame jitter).

A run is the rendered frames of one (subject, action, camera), consecutive (frames.json). Every frame of a run is
cropped with the same square box (the union of the run's 2D joints, x 1.3), so motion inside a clip is the person's
and not the crop's. Crops are made once, in memory: (N, R, R, 3) uint8, with each frame's image -> input matrix.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from stacked_hourglass import transforms
from stacked_hourglass.images import read_image, warp_image
from utils.errors import InputError
from utils.npz import load_npz

BOX_MARGIN = 1.3


@dataclass
class FrameCrops:
    """All rendered frames of some takes. Per frame: crops (N, R, R, 3) uint8, joints_px (N, 15, 2) image px (ground
    truth), image_to_input (N, 2, 3), run (N,) index into runs; runs[r] = (subject, action, camera, first frame).
    Frames of a run are stored together, in time order."""

    crops: np.ndarray
    joints_px: np.ndarray
    image_to_input: np.ndarray
    run: np.ndarray
    frames: np.ndarray
    runs: list[tuple[str, str, str, int]]

    def __len__(self) -> int:
        return len(self.crops)


def read_index(folder: Path) -> list[dict]:
    path = folder / "frames.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: cannot read the rendered-frame index ({error}); HumanEva frames are expected "
                         f"under {folder}/Images (see synthetic/README.md)") from error


def load_frame_crops(folder: Path, subjects: tuple[str, ...], input_res: int, show_progress: bool = True) -> FrameCrops:
    """Crops of every rendered frame of `subjects` ('Train/S1', ...) with ground truth from the 2D gt file."""
    keypoints = load_npz(folder / "data_2d_humaneva15_gt.npz")["positions_2d"].item()
    entries = [e for e in read_index(folder) if e["subject"] in subjects]
    if not entries:
        raise InputError(f"{folder / 'frames.json'}: no rendered frames of {list(subjects)}")
    entries.sort(key=lambda e: (e["subject"], e["action"], e["camera"], e["frame"]))
    cameras = ("C1", "C2", "C3")
    groups: dict[tuple, list[dict]] = {}
    for entry in entries:
        groups.setdefault((entry["subject"], entry["action"], entry["camera"]), []).append(entry)
    crops, joints, matrices, run_of, frames, runs = [], [], [], [], [], []
    for (subject, action, camera), run_entries in tqdm(groups.items(), desc="HumanEva crops", unit="run",
                                                       disable=not show_progress):
        frame_numbers = np.array([e["frame"] for e in run_entries])
        truth = np.asarray(keypoints[subject][action][cameras.index(camera)], dtype=np.float64)[frame_numbers]
        low, high = truth.reshape(-1, 2).min(0), truth.reshape(-1, 2).max(0)
        matrix = transforms.crop_matrix((low + high) / 2, BOX_MARGIN * float((high - low).max()), input_res)
        for entry, joints_px in zip(run_entries, truth):
            image = read_image(folder / entry["image"])
            if image is None:
                raise InputError(f"{folder / entry['image']}: missing or unreadable frame")
            crops.append(warp_image(image, matrix, input_res))
            joints.append(joints_px)
            matrices.append(matrix)
            run_of.append(len(runs))
            frames.append(entry["frame"])
        runs.append((subject, action, camera, int(frame_numbers[0])))
    return FrameCrops(np.stack(crops), np.stack(joints).astype(np.float32), np.stack(matrices), np.array(run_of),
                      np.array(frames), runs)


def clip_starts(run: np.ndarray, clip_frames: int, stride: int) -> np.ndarray:
    """First rows of clips of `clip_frames` consecutive rows inside each run, every `stride` rows, the last clip of
    a run ending at its last row (runs shorter than a clip are left out). run: (N,) -> (M,)."""
    starts = []
    boundaries = np.flatnonzero(np.diff(np.concatenate([[-1], run, [-1]])))
    for begin, end in zip(boundaries[:-1], boundaries[1:]):
        if end - begin < clip_frames:
            continue
        run_starts = list(range(begin, end - clip_frames + 1, stride))
        if run_starts[-1] != end - clip_frames:
            run_starts.append(end - clip_frames)
        starts += run_starts
    return np.array(starts, dtype=np.int64)


def centred_clips(run: np.ndarray, clip_frames: int, stride: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Overlapping clips for prediction and, for every row, the one clip whose prediction it keeps: the clip where
    the row is most central (the most frames on its shorter side; ties: the earlier clip), so with stride <= K - 2h
    every row but a run's first and last h sees h frames either side. Clips as clip_starts(run, K, stride).
    run: (N,) -> starts (M,), clip (N,) index into starts (-1: the row's run is shorter than a clip), position (N,)
    the row's place in its clip (-1 likewise)."""
    starts = clip_starts(run, clip_frames, stride)
    clip = np.full(len(run), -1, dtype=np.int64)
    position = np.full(len(run), -1, dtype=np.int64)
    best = np.full(len(run), -1, dtype=np.int64)  # the kept clip's frames on the row's shorter side
    places = np.arange(clip_frames)
    centrality = np.minimum(places, clip_frames - 1 - places)  # (K,)
    for index, start in enumerate(starts):
        rows = start + places
        better = centrality > best[rows]
        best[rows[better]] = centrality[better]
        clip[rows[better]] = index
        position[rows[better]] = places[better]
    return starts, clip, position


def pck(pred_px: np.ndarray, truth_px: np.ndarray, fraction: float = 0.1) -> float:
    """Percent of joints within `fraction` x the person's 2D height (the larger side of the frame's joint box).
    pred_px, truth_px: (N, J, 2)."""
    size = (truth_px.max(1) - truth_px.min(1)).max(-1)  # (N,)
    distance = np.linalg.norm(pred_px - truth_px, axis=-1)  # (N, J)
    return float(100.0 * (distance <= fraction * size[:, None]).mean())


def mean_pixel_error(pred_px: np.ndarray, truth_px: np.ndarray) -> float:
    """Mean joint distance, px. (N, J, 2)."""
    return float(np.linalg.norm(pred_px - truth_px, axis=-1).mean())


def jitter_px(pred_px: np.ndarray, truth_px: np.ndarray, run: np.ndarray) -> float:
    """Frame-to-frame jitter: the mean 2D velocity error |(p_t - p_t-1) - (g_t - g_t-1)| px over consecutive rows of
    the same run (the 2D analogue of MPJVE). (N, J, 2), run (N,)."""
    same = run[1:] == run[:-1]
    velocity = np.diff(pred_px, axis=0) - np.diff(truth_px, axis=0)  # (N-1, J, 2)
    return float(np.linalg.norm(velocity[same], axis=-1).mean()) if same.any() else float("nan")


def to_tensor_images(crops: np.ndarray) -> torch.Tensor:
    """(..., R, R, 3) uint8 -> (..., 3, R, R) uint8 tensor."""
    return torch.from_numpy(crops).movedim(-1, -3)
