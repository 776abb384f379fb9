"""Per-frame pose features of Human3.6M-format sequences, from the ground truth or from `run.py` prediction files.

Sources (`--input`):
- `gt_3d`: camera-frame root-relative 3D joints, H36M16_3D (the 16 joints other than the hip), mm: 48 features;
- `gt_2d`: the distorted 2D projections, H36M16_2D, px relative to the hip (the 15 other joints): 30 features;
- a predictions file with `poses_3d` (N, 17 | 16, 3) root-relative mm and frame names 'S9/Walking 1/54138969/000123'
  (`run.py 2d3d_h36m`, `run.py stitched_mpii` on Human3.6M frames, ...; read by `stitched.pose_files`): 48
  features, the same as gt_3d. Rows are grouped by sequence and ordered by frame; a gap in the frame numbers
  starts a new run, so a clip never spans missing frames. A file of every N-th frame (the rendered clips split:
  every 8th) is read at that spacing: runs continue over steps of N, and the set records N (`frame_spacing`).
Each camera's view of a take is one sequence: the model sees poses in that camera's frame.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from action.clips import SequenceSet, sequence_set
from action.labels import action_index
from stitched.pose_files import read_poses_3d
from twod_threed.data import load_pose_pairs
from utils.errors import InputError

GROUND_TRUTH_SOURCES = ("gt_3d", "gt_2d")
FEATURE_KINDS = {"gt_3d": "3d", "gt_2d": "2d"}  # a file source gives "3d"
FEATURE_DIMS = {"3d": 48, "2d": 30}


def feature_kind(source: str) -> str:
    """'3d' (48 features, mm) or '2d' (30 features, px) for a source."""
    return FEATURE_KINDS.get(source, "3d")


def check_source(source: str) -> str | None:
    """A usage message when `source` is neither a ground-truth name nor an existing file, else None."""
    if source in GROUND_TRUTH_SOURCES or Path(source).is_file():
        return None
    return f"--input must be one of {', '.join(GROUND_TRUTH_SOURCES)} or a predictions file; '{source}' is neither"


def add_clip_options(group: argparse._ArgumentGroup) -> None:
    """--input, --clip_frames, --frame_step (shared with run.py action_h36m)."""
    group.add_argument("--input", default="gt_3d",
                       help="per-frame poses: gt_3d (camera-frame root-relative mm), gt_2d (px), or a predictions "
                            "file with poses_3d and frame names (run.py 2d3d_h36m / stitched_mpii output)")
    group.add_argument("--clip_frames", type=int, default=None,
                       help="source frames per clip (100 = 2 s at 50 fps); 0: whole sequences, of varying lengths "
                            "(run.py: default the checkpoint's)")
    group.add_argument("--frame_step", type=int, default=None,
                       help="read every N-th frame of a clip (run.py: default the checkpoint's)")


def check_clip_options(opts: argparse.Namespace) -> str | None:
    if opts.clip_frames is not None and opts.clip_frames < 0:
        return f"--clip_frames must be >= 0, got {opts.clip_frames}"
    if opts.frame_step is not None and opts.frame_step < 1:
        return f"--frame_step must be >= 1, got {opts.frame_step}"
    return check_source(opts.input)


def load_sequences(data_dir: str | Path | None, subjects: tuple[int, ...], source: str) -> SequenceSet:
    """Sequences of `subjects` with per-frame features of `source` and action labels."""
    if source in GROUND_TRUTH_SOURCES:
        return _ground_truth(data_dir, subjects, source)
    return _from_file(Path(source), subjects)


def _ground_truth(data_dir, subjects: tuple[int, ...], source: str) -> SequenceSet:
    pairs = load_pose_pairs(data_dir, subjects)
    if source == "gt_3d":
        features = pairs.root_relative_mm.reshape(len(pairs), -1)  # (N, 48) mm
    else:
        joints_px = pairs.joints_2d_px  # (N, 16, 2), the hip first
        features = (joints_px[:, 1:] - joints_px[:, :1]).reshape(len(pairs), -1)  # (N, 30) px
    order = torch.argsort(pairs.sequence_index, stable=True)
    counts = torch.bincount(pairs.sequence_index, minlength=len(pairs.sequences)).tolist()
    chunks, names, labels, up = [], [], [], []
    for index, (rows, (subject, action, camera)) in enumerate(zip(torch.split(order, counts), pairs.sequences)):
        if len(rows):
            chunks.append(features[rows[torch.argsort(pairs.frames[rows])]])
            names.append(f"S{subject}/{action}/{camera}")
            labels.append(action_index(action, str(data_dir or "the embedded dataset")))
            up.append(pairs.up_camera[index])
    return sequence_set(chunks, names, labels, up_camera=torch.stack(up).float())


def _split_name(name: str, path: Path) -> tuple[int, str, str, int]:
    """'S9/Walking 1/54138969/000123' -> (9, 'Walking 1', '54138969', 123)."""
    parts = name.split("/")
    if len(parts) != 4 or not (parts[0].startswith("S") and parts[0][1:].isdigit() and parts[3].isdigit()):
        raise InputError(f"{path}: row name '{name}' is not a Human3.6M frame name 'S9/Walking 1/54138969/000123' "
                         f"(field 'names'); run.py writes them for Human3.6M-format inputs")
    return int(parts[0][1:]), parts[1], parts[2], int(parts[3])


def _from_file(path: Path, subjects: tuple[int, ...]) -> SequenceSet:
    poses = read_poses_3d(path)  # (N, 17, 3) root-relative mm, root = 0
    if poses.names is None:
        raise InputError(f"{path}: no frame names (field 'names'); clips need 'S9/Walking 1/54138969/000123' rows")
    parsed = [_split_name(str(n), path) for n in poses.names]
    keep = np.array([s in subjects for s, _, _, _ in parsed], dtype=bool)
    if not keep.any():
        raise InputError(f"{path}: no rows of subjects {list(subjects)} (field 'names')")
    keys = np.array([f"S{s}/{a}/{c}" for s, a, c, _ in parsed])[keep]
    frames = np.array([f for _, _, _, f in parsed], dtype=np.int64)[keep]
    features = poses.poses_mm[keep][:, 1:].reshape(int(keep.sum()), -1)  # (N, 48) mm, the hip left out
    order = np.lexsort((frames, keys))
    keys, frames, features = keys[order], frames[order], features[order]
    if (np.diff(frames) == 0)[keys[1:] == keys[:-1]].any():
        raise InputError(f"{path}: a frame appears twice in one sequence (field 'names')")
    spacing = _frame_spacing(keys, frames, path)
    new_run = np.r_[True, (keys[1:] != keys[:-1]) | (np.diff(frames) != spacing)]
    bounds = np.r_[np.flatnonzero(new_run), len(keys)]
    chunks, names, labels, first = [], [], [], []
    for begin, end in zip(bounds[:-1], bounds[1:]):
        chunks.append(features[begin:end])
        names.append(keys[begin])
        labels.append(action_index(keys[begin].split("/")[1], str(path)))
        first.append(int(frames[begin]))
    return sequence_set(chunks, names, labels, first, frame_spacing=spacing)


def _frame_spacing(keys: np.ndarray, frames: np.ndarray, path: Path) -> int:
    """The frame step of a file's rows (keys and frames sorted): 1 when any sequence has two adjacent frames,
    else the smallest step within a sequence; InputError when sequences are sampled at different steps."""
    same = keys[1:] == keys[:-1]
    steps = np.diff(frames)[same]
    if len(steps) == 0:
        return 1
    spacing = int(steps.min())
    if spacing > 1:
        smallest = {}
        for key, step in zip(keys[1:][same], steps):
            smallest[key] = min(smallest.get(key, step), step)
        if any(step != spacing for step in smallest.values()):
            raise InputError(f"{path}: sequences sampled at different frame steps {sorted(set(smallest.values()))} "
                             f"(field 'names'); give every frame, or every N-th frame of every sequence")
    return spacing
