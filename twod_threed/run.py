"""`python run.py 2d3d_h36m --load CKPT --input FILE --output_dir O [--process_as_video]`: 2D poses -> 3D poses.

Input (2D pixels, one pose per row; see docs/lifter_formats.md):
- `.npz` with `poses_2d` (or `joints_2d`, `keypoints`, `preds`) of shape (N, J, 2) or (N, J, 3) (the third value,
  a confidence, is ignored) and optional per-row `names`, `subjects`, `actions`, `cameras`, `frames`,
  `ground_truth_3d` (copied to the output); or a VideoPose3D `data_2d_h36m_*.npz` (`positions_2d`).
- `.json`: the same keys in one object, or a list of objects {"name", "joints_2d", "subject", "action", ...}.
- MMPose's Human3.6M `.npz` (`part` (N, 17, 3), `S` (N, 17, 4) camera-frame metres, copied as ground_truth_3d).
J = 16 in H36M16_2D or MPII order (`--joint_order`; by default MPII for `preds`, the field the hourglass's
`run.py hourglass_mpii` writes, H36M16_2D otherwise), 17 (`--joint_order h36m`: H36M-17, or `coco`: COCO-17 keypoints
mapped to the lifter's joints, an approximation) or 32 (H36M-32).
Output `O/predictions_3d.npz`: `poses_3d` (N, 17, 3) root-relative camera-frame mm in H36M-17 order (root = 0) with
the input's names and fields; with `--process_as_video` rows are grouped by sequence and ordered by frame, and
`sequence_names` (S,) / `sequence_index` (N,) say which sequence each row belongs to.
A temporal lifter's checkpoint (`train.py 2d3d_h36m --temporal`) always works on sequences (as --process_as_video):
each sequence's rows, in frame order, are lifted together, its ends padded with the end frames.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from synthetic import humaneva_root
from twod_threed import humaneva_files
from twod_threed.checkpoint import lift, load_lifter
from twod_threed.inputs import JOINT_ORDERS, read_2d_input, row_names
from utils.atomic import save_npz_atomic
from twod_threed.temporal_lifting import KIND as TEMPORAL_KIND, checkpoint_kind, lift_sequences, load_temporal_lifter
from utils.run_logging import get_logger
from utils.skeletons import with_root

OUTPUT_NAME = "predictions_3d.npz"


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.set_defaults(batch_size=1024)
    group = parser.add_argument_group("2d3d_h36m")
    group.add_argument("--input", required=True, help="2D poses: .npz or .json (see docs/lifter_formats.md)")
    group.add_argument("--joint_order", choices=JOINT_ORDERS, default=None,
                       help="order of the input's joints: h36m (16: the lifter's H36M16_2D; 17: H36M-17), mpii "
                            "(16, hourglass order) or coco (17 COCO keypoints, mapped approximately: pelvis = "
                            "mid-hips, thorax = mid-shoulders, head from the eyes). Default: mpii for a 'preds' "
                            "field, as run.py hourglass_mpii writes, else h36m for 16 joints; 17 joints need it, "
                            "except VideoPose3D (its metadata) and MMPose (H36M-17) files")
    group.add_argument("--process_as_video", action="store_true",
                       help="keep sequences: group rows by sequence, order them by frame, write sequence indices")
    group.add_argument("--subjects", type=int, nargs="+", default=None,
                       help="VideoPose3D input: keep only these subjects (default: all)")


def check_options(opts: argparse.Namespace) -> str | None:
    if not opts.load:
        return "--load CHECKPOINT is required (a lifter checkpoint written by train.py 2d3d_h36m)"
    if not opts.output_dir:
        return "--output_dir is required"
    return None


def sequence_order(meta: dict[str, np.ndarray], names: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Video mode: (row order, sequence_names (S,), sequence_index (N,) after reordering)."""
    if all(k in meta for k in ("subjects", "actions", "cameras")):
        keys = np.array([f"S{int(s)}/{a}/{c}" for s, a, c in zip(meta["subjects"], meta["actions"], meta["cameras"])])
    else:
        keys = np.array([n.rsplit("/", 1)[0] if "/" in n else "sequence" for n in names])
    sequence_names, first, index = np.unique(keys, return_index=True, return_inverse=True)
    rank = np.argsort(np.argsort(first))  # sequences in order of first appearance
    frames = meta["frames"].astype(np.int64) if "frames" in meta else np.arange(len(keys))
    order = np.lexsort((frames, rank[index]))
    return order, sequence_names[np.argsort(first)], rank[index][order]


def lift_temporal(path: str, device: str, joints_2d_px: np.ndarray, meta: dict[str, np.ndarray],
                  names: np.ndarray) -> tuple[torch.Tensor, np.ndarray, np.ndarray, np.ndarray]:
    """(poses (N, 16, 3) mm in row order, row order, sequence_names, sequence_index after reordering)."""
    model, _, extras = load_temporal_lifter(path, device)
    order, sequence_names, sequence_index = sequence_order(meta, names)
    index = torch.as_tensor(sequence_index, dtype=torch.long)
    starts = torch.cumsum(torch.bincount(index), 0) - torch.bincount(index)
    position = torch.arange(len(index)) - starts[index]  # frame position inside its sequence
    ordered = torch.as_tensor(joints_2d_px[order], dtype=torch.float32)
    lifted = lift_sequences(model, extras["normaliser"], ordered, index, position)  # (N, 16, 3), in `order`
    poses = torch.empty_like(lifted)
    poses[torch.as_tensor(order)] = lifted
    return poses, order, sequence_names, sequence_index


def run_lifter(opts: argparse.Namespace) -> int:
    temporal = checkpoint_kind(opts.load) == TEMPORAL_KIND  # the checkpoint first: a bad one is named before the input
    joints_2d_px, meta = read_2d_input(opts.input, opts.joint_order, opts.subjects)
    names = row_names(meta, len(joints_2d_px))
    if temporal:
        poses, order, sequence_names, sequence_index = lift_temporal(opts.load, opts.device, joints_2d_px, meta, names)
    else:
        model, _, extras = load_lifter(opts.load, opts.device)
        poses = lift(model, extras["normaliser"], torch.as_tensor(joints_2d_px, dtype=torch.float32), opts.batch_size)
    out = {"poses_3d": with_root(poses).cpu().numpy(), "joint_order": np.array("h36m17"), "names": names,
           **{k: v for k, v in meta.items() if k != "names"}}
    if opts.process_as_video or temporal:
        if not temporal:
            order, sequence_names, sequence_index = sequence_order(meta, names)
        out = {k: (v[order] if v.ndim and len(v) == len(names) else v) for k, v in out.items()}
        out.update(sequence_names=sequence_names, sequence_index=sequence_index)
    output = Path(opts.output_dir) / OUTPUT_NAME
    output.parent.mkdir(parents=True, exist_ok=True)
    save_npz_atomic(output, **out)
    grouping = f" in {len(out['sequence_names'])} sequences" if "sequence_names" in out else ""
    get_logger().info(f"run.py 2d3d_h36m: {len(names)} poses{grouping} -> {output} "
                      f"(poses_3d: root-relative mm, H36M-17 order)")
    return 0


def add_eva_options(parser: argparse.ArgumentParser) -> None:
    parser.set_defaults(batch_size=1024)
    group = parser.add_argument_group("2d3d_eva")
    group.add_argument("--input", default="gt",
                       help="2D poses: 'gt' (the dataset's data_2d_humaneva15_gt.npz) or a "
                            "data_2d_humaneva15_<source>.npz (run.py hourglass_eva writes one)")
    group.add_argument("--subjects", nargs="+", default=list(humaneva_files.TEST_SUBJECTS),
                       help="HumanEva-I takes to lift (default: the Validate ones)")
    group.add_argument("--actions", nargs="+", default=list(humaneva_files.EVAL_ACTIONS),
                       help="action groups to lift (Walking Jog Box; 'all' for every action)")


def run_lifter_eva(opts: argparse.Namespace) -> int:
    """HumanEva-I: lift every sequence of `--subjects` (frame-wise or temporal checkpoint) and write
    predictions_3d.npz with the dataset's ground truth: poses_3d / ground_truth_3d (N, 15, 3) root-relative
    camera-frame mm (HumanEva-15, root zero), subjects, actions, cameras, frames, sequence_names, sequence_index."""
    folder = humaneva_root(opts.data_dir)
    actions = None if opts.actions == ["all"] else tuple(opts.actions)
    pairs = humaneva_files.load_humaneva_pairs(folder, tuple(opts.subjects), opts.input, actions)
    if checkpoint_kind(opts.load) == TEMPORAL_KIND:
        model, _, extras = load_temporal_lifter(opts.load, opts.device)
        poses = lift_sequences(model, extras["normaliser"], pairs.joints_2d_px, pairs.sequence_index, pairs.frames)
    else:
        model, _, extras = load_lifter(opts.load, opts.device)
        poses = lift(model, extras["normaliser"], pairs.joints_2d_px, opts.batch_size)
    zero = torch.zeros(len(poses), 1, 3)
    index = pairs.sequence_index.numpy()
    out = {"poses_3d": torch.cat([zero, poses.cpu()], 1).numpy(),
           "ground_truth_3d": torch.cat([zero, pairs.root_relative_mm], 1).numpy(),
           "joint_order": np.array("humaneva15"), "subjects": np.array([s for s, _, _ in pairs.sequences])[index],
           "actions": np.array([a for _, a, _ in pairs.sequences])[index],
           "cameras": np.array([c for _, _, c in pairs.sequences])[index], "frames": pairs.frames.numpy(),
           "sequence_names": np.array(["/".join(key) for key in pairs.sequences]), "sequence_index": index}
    output = Path(opts.output_dir) / OUTPUT_NAME
    output.parent.mkdir(parents=True, exist_ok=True)
    save_npz_atomic(output, **out)
    get_logger().info(f"run.py 2d3d_eva: {len(poses)} poses in {len(pairs.sequences)} sequences -> {output} "
                      f"(poses_3d: root-relative mm, HumanEva-15 order)")
    return 0
