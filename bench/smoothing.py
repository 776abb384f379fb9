"""Temporal smoothing measured on the synthetic Human3.6M-format sequences: MPJPE and MPJVE (mm, 17 joints, root
counted) of a lifter's per-frame 3D poses on the test subjects (S9, S11), without and with each smoother.

  python bench/smoothing.py --lifter model_checkpoints/2d3d_h36m_a/best.pt [--noise_px 0 3] [--data_dir D]

The 2D input is the ground-truth projection plus Gaussian noise of `noise_px` px per coordinate and frame (a
stand-in for a detector's jitter; 0: the projection itself). Smoothers (utils/smoothing.py, the settings of
`run.py ... --video --smoothing`) filter the 3D trajectory of each sequence; `2d_then_lift` filters the 2D input
instead. Sequences play at `--fps` (50, as Human3.6M). Prints one JSON line.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from twod_threed.checkpoint import lift, load_lifter  # noqa: E402
from twod_threed.data import TEST_SUBJECTS, load_pose_pairs  # noqa: E402
from utils.machine import machine_info  # noqa: E402
from utils.metrics import mpjpe, mpjve  # noqa: E402
from utils.skeletons import with_root  # noqa: E402
from utils.smoothing import SmoothingSettings, smooth  # noqa: E402


def per_sequence(values: np.ndarray, sequence_index: np.ndarray, frames: np.ndarray):
    """Yield (rows in time order) per sequence."""
    for sequence in np.unique(sequence_index):
        rows = np.flatnonzero(sequence_index == sequence)
        yield rows[np.argsort(frames[rows])]


def errors(pred: np.ndarray, truth: np.ndarray, sequences: list[np.ndarray]) -> dict[str, float]:
    """MPJPE over frames and MPJVE over consecutive frames of each sequence, mm (17 joints, root included)."""
    pred_t, truth_t = torch.as_tensor(with_root(pred)), torch.as_tensor(with_root(truth))
    position = float(mpjpe(pred_t, truth_t).mean())
    velocity = torch.cat([mpjve(pred_t[rows], truth_t[rows]) for rows in sequences if len(rows) > 1])
    return {"mpjpe_mm": round(position, 2), "mpjve_mm": round(float(velocity.mean()), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lifter", required=True, help="a lifter (or stitched) checkpoint")
    parser.add_argument("--data_dir", default=None, help="Human3.6M-format data (default: the embedded synthetic)")
    parser.add_argument("--noise_px", type=float, nargs="+", default=[0.0, 3.0])
    parser.add_argument("--fps", type=float, default=50.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    model, _, extras = load_lifter(args.lifter)
    pairs = load_pose_pairs(args.data_dir, TEST_SUBJECTS)
    truth = pairs.root_relative_mm.double().numpy()
    sequence_index, frames = pairs.sequence_index.numpy(), pairs.frames.numpy()
    sequences = list(per_sequence(truth, sequence_index, frames))
    smoothers = {"savgol": SmoothingSettings("savgol"), "one_euro": SmoothingSettings("one_euro")}
    results = {}
    for noise in args.noise_px:
        rng = np.random.default_rng(args.seed)
        joints_2d = pairs.joints_2d_px.double().numpy() + rng.normal(0.0, noise, pairs.joints_2d_px.shape)
        lifted = lift(model, extras["normaliser"], torch.as_tensor(joints_2d, dtype=torch.float32)).double().numpy()
        entry = {"none": errors(lifted, truth, sequences)}
        for name, settings in smoothers.items():
            smoothed = lifted.copy()
            for rows in sequences:
                smoothed[rows] = smooth(lifted[rows], settings, args.fps)
            entry[name] = errors(smoothed, truth, sequences)
        smoothed_2d = joints_2d.copy()
        for rows in sequences:
            smoothed_2d[rows] = smooth(joints_2d[rows], smoothers["savgol"], args.fps)
        entry["savgol_2d_then_lift"] = errors(lift(model, extras["normaliser"], torch.as_tensor(
            smoothed_2d, dtype=torch.float32)).double().numpy(), truth, sequences)
        results[f"noise_{noise:g}px"] = entry
    print(json.dumps({"bench": "smoothing", "lifter": args.lifter, "sequences": len(sequences),
                      "frames": len(truth), "fps": args.fps,
                      "settings": {name: asdict(settings) for name, settings in smoothers.items()},
                      **results, **machine_info()}))


if __name__ == "__main__":
    main()
