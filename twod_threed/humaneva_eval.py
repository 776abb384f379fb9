"""`python eval.py humaneva_MPJPE --predictions P --output_dir O`: HumanEva-I errors per action and subject.

The published protocol (VideoPose3D, after Martinez et al.): trained on Train/S1-S3, evaluated on Validate/S1-S3,
actions Walk, Jog and Box reported per subject; Protocol 2 (P-MPJPE, after a per-frame similarity alignment) is
the number tables show, MPJPE (root-relative, no alignment) beside it. All 15 joints count (the root, zero after
root subtraction, included). Predictions: the npz `run.py 2d3d_eva` writes (`poses_3d`, `ground_truth_3d`
(N, 15, 3) mm, `subjects`, `actions`; with `sequence_index` also MPJVE). Output: `humaneva_MPJPE.json` and
`humaneva_MPJPE.png` (a bar per action and subject).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from twod_threed.humaneva_files import EVAL_ACTIONS, action_group
from utils.atomic import save_figure_atomic, write_text_atomic
from utils.errors import InputError
from utils.metrics import mpjpe, p_mpjpe, velocity_errors
from utils.npz import load_npz
from utils.run_logging import get_logger

REPORT_NAME = "humaneva_MPJPE.json"
NEEDED = ("poses_3d", "ground_truth_3d", "subjects", "actions")


def add_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("humaneva_MPJPE")
    group.add_argument("--predictions", required=True, help="npz written by run.py 2d3d_eva")
    group.add_argument("--actions", nargs="+", default=list(EVAL_ACTIONS),
                       help="action groups reported (the published protocol: Walking Jog Box)")


def check_options(opts: argparse.Namespace) -> str | None:
    return None if opts.output_dir else "--output_dir is required"


def read_predictions(path: Path) -> dict[str, np.ndarray]:
    data = load_npz(path)
    for field in NEEDED:
        if field not in data:
            raise InputError(f"{path}: missing the field '{field}' (run.py 2d3d_eva writes it)")
    for field in ("poses_3d", "ground_truth_3d"):
        poses = data[field]
        if poses.ndim != 3 or poses.shape[1:] != (15, 3) or len(poses) != len(data["subjects"]):
            raise InputError(f"{path}: field '{field}' has shape {poses.shape}, expected ({len(data['subjects'])}, "
                             f"15, 3) mm")
        if not np.isfinite(poses).all():
            raise InputError(f"{path}: field '{field}' holds NaN/inf values")
    return data


def evaluate_humaneva(pred: np.ndarray, gt: np.ndarray, subjects: np.ndarray, actions: np.ndarray,
                      report_actions: tuple[str, ...] = EVAL_ACTIONS, sequence_index: np.ndarray | None = None,
                      frames: np.ndarray | None = None) -> dict:
    """pred, gt (N, 15, 3) mm (made root-relative here); subjects ('Validate/S1'), actions ('Walking 1') (N,).

    Per action group and subject: frames, mpjpe_mm, p_mpjpe_mm (+ mpjve_mm with sequences); per action the
    mean over its subjects; 'average' the mean over the (action, subject) cells, as VideoPose3D's table averages."""
    pred, gt = pred - pred[:, :1], gt - gt[:, :1]
    per_frame = {"mpjpe_mm": mpjpe(pred, gt), "p_mpjpe_mm": p_mpjpe(pred, gt)}
    groups = np.array([action_group(a) for a in actions])
    subjects = np.array([str(s) for s in subjects])
    velocity = None
    if sequence_index is not None and len(pred) > 1:
        velocity = velocity_errors(pred, gt, sequence_index, np.arange(len(pred)) if frames is None else frames)
    cells: dict[str, dict[str, dict]] = {}
    for action in report_actions:
        for subject in sorted(set(subjects)):
            mask = (groups == action) & (subjects == subject)
            if not mask.any():
                continue
            entry = {"frames": int(mask.sum()), **{k: float(v[mask].mean()) for k, v in per_frame.items()}}
            if velocity is not None and mask[velocity[1]].any():
                entry["mpjve_mm"] = float(velocity[0][mask[velocity[1]]].mean())
            cells.setdefault(action, {})[subject] = entry
    if not cells:
        raise InputError(f"no predictions of the actions {list(report_actions)} (found {sorted(set(groups))})")
    metrics = [m for m in ("mpjpe_mm", "p_mpjpe_mm", "mpjve_mm")
               if all(m in e for per in cells.values() for e in per.values())]
    per_action = {a: {m: float(np.mean([e[m] for e in per.values()])) for m in metrics} for a, per in cells.items()}
    average = {m: float(np.mean([e[m] for per in cells.values() for e in per.values()])) for m in metrics}
    return {"protocol": "Protocol 2 = p_mpjpe_mm (per-frame similarity alignment); 15 joints, root counted",
            "frames": int(sum(e["frames"] for per in cells.values() for e in per.values())),
            "per_action_subject": cells, "per_action": per_action, "average": average}


def plot_report(report: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [(a, s) for a, per in report["per_action_subject"].items() for s in per]
    x = np.arange(len(labels))
    figure, axes = plt.subplots(figsize=(max(6.0, 0.6 * len(labels) + 2), 4))
    for offset, metric, name in ((-0.2, "mpjpe_mm", "MPJPE"), (0.2, "p_mpjpe_mm", "P-MPJPE (Protocol 2)")):
        axes.bar(x + offset, [report["per_action_subject"][a][s][metric] for a, s in labels], width=0.4, label=name)
    axes.set_xticks(x, [f"{a}\n{s.rsplit('/', 1)[-1]}" for a, s in labels], fontsize=8)
    axes.set_ylabel("error (mm)")
    average = report["average"]
    axes.set_title(f"HumanEva-I per action and subject: mean MPJPE {average['mpjpe_mm']:.1f} mm, "
                   f"P-MPJPE {average['p_mpjpe_mm']:.1f} mm", fontsize=10)
    axes.legend()
    figure.tight_layout()
    save_figure_atomic(figure, path, dpi=120)
    plt.close(figure)
    return path


def run_humaneva_mpjpe(opts: argparse.Namespace) -> int:
    path = Path(opts.predictions)
    data = read_predictions(path)
    report = evaluate_humaneva(data["poses_3d"].astype(np.float64), data["ground_truth_3d"].astype(np.float64),
                               data["subjects"], data["actions"], tuple(opts.actions), data.get("sequence_index"),
                               data.get("frames"))
    report["predictions"] = str(path)
    output_dir = Path(opts.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    write_text_atomic(json.dumps(report, indent=1) + "\n", output_dir / REPORT_NAME)
    picture = plot_report(report, output_dir / "humaneva_MPJPE.png")
    lines = [f"{a:8s} " + "  ".join(f"{s.rsplit('/', 1)[-1]} {e['p_mpjpe_mm']:6.1f}" for s, e in per.items())
             for a, per in report["per_action_subject"].items()]
    get_logger().info("P-MPJPE (mm, Protocol 2) per action and subject:\n" + "\n".join(lines) +
                      f"\naverage: MPJPE {report['average']['mpjpe_mm']:.2f} mm, P-MPJPE "
                      f"{report['average']['p_mpjpe_mm']:.2f} mm -> {output_dir / REPORT_NAME}, {picture}")
    return 0
