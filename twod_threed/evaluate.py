"""`python eval.py h36m_MPJPE --predictions P --output_dir O`: Human3.6M 3D errors per action and averaged.

Predictions: the npz `run.py 2d3d_h36m` writes (`poses_3d` (N, 17, 3) or (N, 16, 3) root-relative mm). Ground truth,
first found of:
1. a `ground_truth_3d` field in the predictions file (same rows);
2. `--ground_truth G.npz` with `poses_3d` and, when both files have `names`, matched by name, else row by row;
3. the dataset (`--data_dir`, or the embedded default): rows matched by subject/action/camera/frame (the prediction
   file's `subjects`, `actions`, `cameras`, `frames`, or `names` of the form 'S9/Walking 1/54138969/000123').
17-joint poses are made root-relative (joint 0 subtracted); 16-joint poses are H36M16_3D (root left out, zero).
Reported: MPJPE, P-MPJPE, N-MPJPE per action (actions named 'Walking 1' and 'Walking' pooled) and their mean over
actions, MPJVE when the file keeps sequences (`sequence_index`), per-joint MPJPE. The root joint is counted (17
joints, as published tables) unless `--root_joint exclude`.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from twod_threed.data import load_pose_pairs, rows_by_name
from twod_threed.h36m_files import frame_names
from utils.atomic import save_figure_atomic, write_text_atomic
from utils.errors import InputError
from utils.metrics import mpjpe, n_mpjpe, p_mpjpe, velocity_errors
from utils.run_logging import get_logger
from utils.skeletons import H36M17
from utils.validation import unit_scale_hint

ACTION_ALIASES = {"TakingPhoto": "Photo", "WalkingDog": "WalkDog"}
REPORT_NAME = "h36m_MPJPE.json"


def add_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("h36m_MPJPE")
    group.add_argument("--predictions", required=True, help="npz written by run.py 2d3d_h36m")
    group.add_argument("--ground_truth", default=None, help="npz with poses_3d (and names); see the module doc")
    group.add_argument("--root_joint", choices=("include", "exclude"), default="include",
                       help="count the (zero) root joint in the averages, as published tables do, or leave it out")


def check_options(opts: argparse.Namespace) -> str | None:
    if opts.ground_truth and opts.data_dir:
        return "--data_dir is not read with --ground_truth (the ground truth is that file): give one of them"
    return None if opts.output_dir else "--output_dir is required"


def action_group(action: str) -> str:
    """'Walking 1' -> 'Walking'; 'TakingPhoto' -> 'Photo' (the 15 published action names)."""
    base = str(action).split(" ")[0]
    return ACTION_ALIASES.get(base, base)


def as_h36m17(poses: np.ndarray, path: Path, field: str) -> np.ndarray:
    """(N, 17, 3) any frame or (N, 16, 3) root-relative -> (N, 17, 3) root-relative mm, float64."""
    try:
        poses = np.asarray(poses, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InputError(f"{path}: field '{field}' is not an array of numbers ({error})") from error
    if poses.ndim != 3 or poses.shape[1:] not in ((17, 3), (16, 3)):
        raise InputError(f"{path}: field '{field}' has shape {poses.shape}, expected (N, 17, 3) or (N, 16, 3) mm")
    bad = ~np.isfinite(poses)
    if bad.any():
        raise InputError(f"{path}: field '{field}' holds NaN/inf values (first at row {int(np.argwhere(bad)[0][0])})")
    if poses.shape[1] == 16:
        return np.concatenate([np.zeros_like(poses[:, :1]), poses], axis=1)
    return poses - poses[:, :1]


def _npz(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        with np.load(path) as data:
            return {key: data[key] for key in data.files}
    except (ValueError, OSError) as error:
        raise InputError(f"{path}: cannot be read as an npz file ({error})") from error


def ground_truth_for(predictions: dict[str, np.ndarray], path: Path, ground_truth: str | None,
                     data_dir: str | None, count: int) -> tuple[np.ndarray, str]:
    """(N, 17, 3) root-relative ground truth for the prediction rows and a description of where it came from."""
    if "ground_truth_3d" in predictions:
        return as_h36m17(predictions["ground_truth_3d"], path, "ground_truth_3d"), f"{path}:ground_truth_3d"
    if ground_truth is not None:
        gt_path = Path(ground_truth)
        gt = _npz(gt_path)
        if "poses_3d" not in gt:
            raise InputError(f"{gt_path}: missing the field 'poses_3d' (N, 17, 3) or (N, 16, 3) mm")
        poses = as_h36m17(gt["poses_3d"], gt_path, "poses_3d")
        if "names" in gt and "names" in predictions:
            rows = rows_by_name(predictions["names"].astype(str), gt["names"].astype(str), gt_path)
            warn_fewer_rows(len(np.unique(rows)), len(poses), gt_path)
            return poses[rows], str(gt_path)
        if len(poses) != count:
            raise InputError(f"{gt_path}: {len(poses)} poses for {count} predictions; without 'names' in both "
                             f"files the rows must correspond one to one")
        return poses, str(gt_path)
    if all(k in predictions for k in ("subjects", "actions", "cameras", "frames")):
        names = frame_names(predictions["subjects"], predictions["actions"], predictions["cameras"],
                            predictions["frames"])
    elif "names" in predictions:
        names = predictions["names"].astype(str)
    else:
        raise InputError(f"{path}: no 'ground_truth_3d', no --ground_truth, and no subjects/actions/cameras/frames "
                         f"or names to find the ground truth in the dataset")
    subjects = sorted({int(n.split("/")[0][1:]) for n in names if n.startswith("S") and "/" in n})
    if not subjects:
        raise InputError(f"{path}: 'names' are not of the form 'S9/Walking 1/54138969/000123'")
    pairs = load_pose_pairs(data_dir, tuple(subjects), "gt")
    rows = rows_by_name(names, pairs.names(), data_dir or "the embedded dataset")
    warn_fewer_rows(len(np.unique(rows)), len(pairs.names()), f"dataset {data_dir or '(embedded default)'}, "
                    f"subjects {subjects}")
    truth = pairs.root_relative_mm[torch.as_tensor(rows)].double().numpy()
    return as_h36m17(truth, path, "ground truth"), f"dataset {data_dir or '(embedded default)'}, subjects {subjects}"


def warn_fewer_rows(scored: int, available: int, source: Path | str) -> None:
    """Say so when the predictions cover fewer ground-truth rows than `source` holds (the score is of a subset)."""
    if scored < available:
        get_logger().warning(f"warning: scoring {scored} of the {available} ground-truth rows of {source} "
                             f"({available - scored} have no prediction); the figures are of that subset")


def evaluate_poses(pred: np.ndarray, gt: np.ndarray, actions: np.ndarray, include_root: bool = True,
                   sequence_index: np.ndarray | None = None, frames: np.ndarray | None = None) -> dict:
    """The report: pred, gt (N, 17, 3) root-relative mm in H36M-17 order; actions (N,) names.

    Per action (pooled by `action_group`): frames, mpjpe_mm, p_mpjpe_mm, n_mpjpe_mm (+ mpjve_mm with sequences);
    'average_over_actions' the unweighted mean of those, 'average_over_frames' the mean over all rows.
    """
    assert pred.shape == gt.shape and pred.shape[1:] == (17, 3), (pred.shape, gt.shape)
    joints = list(range(17)) if include_root else list(range(1, 17))
    pred, gt = pred[:, joints], gt[:, joints]
    per_frame = {"mpjpe_mm": mpjpe(pred, gt), "p_mpjpe_mm": p_mpjpe(pred, gt), "n_mpjpe_mm": n_mpjpe(pred, gt)}
    groups = np.array([action_group(a) for a in actions])
    velocity = None
    if sequence_index is not None and len(pred) > 1:
        frames = np.arange(len(pred)) if frames is None else frames
        velocity = velocity_errors(pred, gt, sequence_index, frames)
    per_action = {}
    for action in sorted(set(groups)):
        mask = groups == action
        entry = {"frames": int(mask.sum()), **{k: float(v[mask].mean()) for k, v in per_frame.items()}}
        if velocity is not None and mask[velocity[1]].any():
            entry["mpjve_mm"] = float(velocity[0][mask[velocity[1]]].mean())
        per_action[action] = entry
    metrics = list(per_frame) + (["mpjve_mm"] if velocity is not None and len(velocity[0]) else [])
    over_actions = {m: float(np.mean([e[m] for e in per_action.values() if m in e])) for m in metrics}
    over_frames = {k: float(v.mean()) for k, v in per_frame.items()}
    if "mpjve_mm" in metrics:
        over_frames["mpjve_mm"] = float(velocity[0].mean())
    joint_names = [H36M17.joint_names[j] for j in joints]
    per_joint = np.linalg.norm(pred - gt, axis=-1).mean(0)  # (J,)
    return {"root_joint_counted": include_root, "joints": len(joints), "frames": len(pred),
            "average_over_actions": over_actions, "average_over_frames": over_frames, "per_action": per_action,
            "per_joint_mpjpe_mm": {name: float(e) for name, e in zip(joint_names, per_joint)}}


def plot_report(report: dict, output_dir: Path) -> list[Path]:
    """Per-action (MPJPE, P-MPJPE bars) and per-joint MPJPE pictures; returns their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    actions = list(report["per_action"])
    x = np.arange(len(actions))
    figure, axes = plt.subplots(figsize=(max(6.0, 0.7 * len(actions) + 2), 4))
    for offset, metric, label in ((-0.2, "mpjpe_mm", "MPJPE"), (0.2, "p_mpjpe_mm", "P-MPJPE")):
        axes.bar(x + offset, [report["per_action"][a][metric] for a in actions], width=0.4, label=label)
    axes.set_xticks(x, actions, rotation=45, ha="right")
    axes.set_ylabel("error (mm)")
    root = "root counted" if report["root_joint_counted"] else "root not counted"
    averages = report["average_over_actions"]
    axes.set_title(f"Per action ({report['joints']} joints, {root})\nmean over actions: MPJPE "
                   f"{averages['mpjpe_mm']:.1f} mm, P-MPJPE {averages['p_mpjpe_mm']:.1f} mm", fontsize=10)
    axes.legend()
    figure.tight_layout()
    per_action_path = save_figure_atomic(figure, output_dir / "h36m_MPJPE_per_action.png", dpi=100)
    plt.close(figure)
    joints = list(report["per_joint_mpjpe_mm"])
    figure, axes = plt.subplots(figsize=(8, 4))
    axes.bar(np.arange(len(joints)), list(report["per_joint_mpjpe_mm"].values()))
    axes.set_xticks(np.arange(len(joints)), joints, rotation=45, ha="right")
    axes.set_ylabel("MPJPE (mm)")
    axes.set_title("Per joint, over all frames")
    figure.tight_layout()
    per_joint_path = save_figure_atomic(figure, output_dir / "h36m_MPJPE_per_joint.png", dpi=100)
    plt.close(figure)
    return [per_action_path, per_joint_path]


def _actions(predictions: dict[str, np.ndarray], count: int) -> np.ndarray:
    if "actions" in predictions:
        return predictions["actions"].astype(str)
    names = predictions.get("names")
    if names is not None and all(str(n).count("/") == 3 for n in names):
        return np.array([str(n).split("/")[1] for n in names])
    return np.full(count, "all")


def run_h36m_mpjpe(opts: argparse.Namespace) -> int:
    path = Path(opts.predictions)
    predictions = _npz(path)
    if "poses_3d" not in predictions:
        raise InputError(f"{path}: missing the field 'poses_3d' (N, 17, 3) or (N, 16, 3) root-relative mm")
    pred = as_h36m17(predictions["poses_3d"], path, "poses_3d")
    gt, source = ground_truth_for(predictions, path, opts.ground_truth, opts.data_dir, len(pred))
    if gt.shape != pred.shape:
        raise InputError(f"{source}: ground truth has {len(gt)} poses for {len(pred)} predictions")
    hint = unit_scale_hint(pred, gt)
    if hint:
        get_logger().warning(f"warning: {path}: {hint}")
    report = evaluate_poses(pred, gt, _actions(predictions, len(pred)), opts.root_joint == "include",
                            predictions.get("sequence_index"), predictions.get("frames"))
    report = {"predictions": str(path), "ground_truth": source, **report}
    output_dir = Path(opts.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    write_text_atomic(json.dumps(report, indent=2), output_dir / REPORT_NAME)
    pictures = plot_report(report, output_dir)
    log = get_logger()
    log.info(f"{'action':<14}{'frames':>8}{'MPJPE':>9}{'P-MPJPE':>9}{'N-MPJPE':>9}{'MPJVE':>8}   (mm)")
    rows = list(report["per_action"].items()) + [("Average", {"frames": len(pred), **report["average_over_actions"]})]
    for action, e in rows:
        velocity = f"{e['mpjve_mm']:8.2f}" if "mpjve_mm" in e else f"{'-':>8}"
        errors = f"{e['mpjpe_mm']:9.2f}{e['p_mpjpe_mm']:9.2f}{e['n_mpjpe_mm']:9.2f}"
        log.info(f"{action:<14}{e['frames']:>8}{errors}{velocity}")
    root = "root counted" if report["root_joint_counted"] else "root not counted"
    log.info(f"averaged over actions, {report['joints']} joints ({root}); "
             f"wrote {output_dir / REPORT_NAME}, {', '.join(p.name for p in pictures)}")
    return 0
