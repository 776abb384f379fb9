"""`eval.py mpii_PCKh`: score MPII-order 2D predictions against a validation ground truth.

Ground truth and prediction files are read by `annotations.py` (the one MPII reader): the standard
`detections_our_format.mat` layout (pos_gt_src, jnt_missing, headboxes_src), the `valid.h5` layout (part, visible,
normalize) or `.npz` files with its keys; predictions `.mat` or `.npz` with `preds` (N, 16, 2) in ground-truth
order, image pixels (what `run.py hourglass_mpii` writes).

The table and each model's JSON give both means over the 14 joints (pelvis and thorax excluded; `utils.metrics.
mpii_pckh_table`): `Mean` / `Mean@0.1`, the unweighted mean of the per-joint values, as pytorch-pose's evaluation
scripts compute it (81.46 on the published predictions in detections_our_format.mat), and `Mean_weighted` /
`Mean@0.1_weighted`, each joint weighted by its number of annotations, as HRNet and MMPose report it (82.34 on the
same file). `AUC` is the area under the unweighted mean's PCKh(t) curve (the JSON also holds `AUC_weighted`).
"""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stacked_hourglass.annotations import (CONVERTED_GT_NAME, STANDARD_MAT_NAME, VALID_H5_NAME, mpii_folder,
                                           read_ground_truth, read_predictions)
from utils.atomic import save_figure_atomic, write_text_atomic
from utils.errors import InputError
from utils.metrics import PCKH_CURVE_THRESHOLDS, mpii_pckh_table
from utils.run_logging import get_logger
from utils.skeletons import MPII, MPII_PCKH_GROUPS, MPII_PCKH_MEAN_JOINTS
from utils.validation import plain_name


TABLE_MEANS = ("Mean", "Mean_weighted", "Mean@0.1", "Mean@0.1_weighted", "AUC")


@dataclass(frozen=True)
class MpiiGroundTruth:
    joints_px: np.ndarray  # (N, 16, 2) image pixels
    visible: np.ndarray  # (N, 16) 1 where the joint is annotated
    head_size: np.ndarray  # (N,) 0.6 x head-box diagonal, px
    source: Path


def load_ground_truth(path: str | Path) -> MpiiGroundTruth:
    """MPII validation ground truth of any layout `annotations.read_ground_truth` reads (the standard .mat, valid.h5
    or its keys in an .npz, an annotation list); .mat, .h5 and .npz files must hold the head sizes."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"ground-truth file not found: {path}")
    records = read_ground_truth(path, require_head_size=True)
    return MpiiGroundTruth(records.joints_px, records.annotated.astype(np.float64), records.head_size_px, path)


def load_predictions(path: str | Path, expected_count: int) -> np.ndarray:
    """(N, 16, 2) predictions in ground-truth order from a `.mat` or `.npz` (`annotations.read_predictions`)."""
    preds = read_predictions(path).joints_px
    if preds.shape[0] != expected_count:
        raise InputError(f"{path}: {preds.shape[0]} predictions, but the ground truth has {expected_count} people; "
                         f"predictions must be in ground-truth order, one per person")
    return preds


def pckh_report(preds: np.ndarray, truth: MpiiGroundTruth) -> tuple[dict, np.ndarray]:
    """The JSON report (table + per-joint PCKh@0.5) and the (51, 16) PCKh curve."""
    table, curve = mpii_pckh_table(preds, truth.joints_px, truth.visible, truth.head_size)
    at_half = curve[np.argmin(np.abs(PCKH_CURVE_THRESHOLDS - 0.5))]
    table["joints"] = {name: (None if np.isnan(v) else round(float(v), 2))
                       for name, v in zip(MPII.joint_names, at_half)}
    return table, curve


def format_table(reports: dict[str, dict]) -> str:
    """One row per model: the groups, both means at 0.5 and 0.1 and the AUC (of the unweighted mean)."""
    columns = [*MPII_PCKH_GROUPS, *TABLE_MEANS]
    width = max(12, *(len(name) for name in reports))
    lines = ["Model".ljust(width) + "".join(c.rjust(len(c) + 2 if len(c) > 8 else 10) for c in columns)]
    lines += [name.ljust(width) + "".join(f"{report[c]:{len(c) + 2 if len(c) > 8 else 10}.2f}" for c in columns)
              for name, report in reports.items()]
    lines.append("Mean: unweighted mean of the 14 joints (pytorch-pose's script); Mean_weighted: weighted by "
                 "annotation counts (HRNet, MMPose); AUC: of the unweighted mean, t in [0, 0.5]")
    return "\n".join(lines)


def plot_pckh_curves(curves: dict[str, np.ndarray], path: Path) -> None:
    """One panel per joint group (and the mean), one PCKh(t) curve per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = {**{name: list(joints) for name, joints in MPII_PCKH_GROUPS.items()}}
    fig, axes = plt.subplots(2, 4, figsize=(16, 7.5), sharex=True, sharey=True)
    for axis, (group, joints) in zip(axes.ravel(), [*groups.items(), ("Mean (14 joints, unweighted)", None)]):
        for model, curve in curves.items():
            values = curve[:, joints].mean(1) if joints else np.nanmean(curve[:, list(MPII_PCKH_MEAN_JOINTS)], 1)
            axis.plot(PCKH_CURVE_THRESHOLDS, values, label=model)
        axis.set_title(group)
        axis.grid(alpha=0.3)
        axis.set_ylim(0, 100)
    for axis in axes[-1]:
        axis.set_xlabel("normalised distance t (x head size)")
    for axis in axes[:, 0]:
        axis.set_ylabel("PCKh(t), %")
    axes.ravel()[0].legend(loc="lower right")
    fig.suptitle("MPII PCKh(t)")
    fig.tight_layout()
    save_figure_atomic(fig, path, dpi=100)
    plt.close(fig)


def check_options(opts: argparse.Namespace) -> str | None:
    if opts.gt and opts.data_dir:
        return "--data_dir is not read with --gt (the ground truth is that file): give one of them"
    if opts.model_names and len(opts.model_names) != len(opts.prediction_files):
        return (f"--model_names has {len(opts.model_names)} names for {len(opts.prediction_files)} "
                f"--prediction_files; give one name per file")
    for name in opts.model_names or ():
        message = plain_name(name, "--model_names")
        if message:
            return message
    if opts.model_names and len(set(opts.model_names)) != len(opts.model_names):
        return f"--model_names {' '.join(opts.model_names)}: the names must differ (each names a row and a JSON file)"
    return None


def model_names(paths: list[str]) -> list[str]:
    """One distinct name per prediction file: its stem ('preds_valid'), with as many parent folders and the suffix
    as it takes to tell apart files of the same stem ('a/preds.mat', 'b/preds.mat' -> 'a_preds', 'b_preds')."""
    parts = [Path(path).resolve().with_suffix("").parts for path in paths]
    suffixes = [Path(path).suffix.lstrip(".") for path in paths]
    for depth in range(1, max(len(p) for p in parts) + 1):
        names = ["_".join(p[-depth:]).lstrip("_") or "model" for p in parts]
        if len(set(names)) == len(names):
            return names
    names = [f"{'_'.join(p[-1:])}_{suffix}" for p, suffix in zip(parts, suffixes)]
    return names if len(set(names)) == len(names) else [f"{name}_{i}" for i, name in enumerate(names)]


def add_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("mpii_PCKh")
    group.add_argument("--prediction_files", nargs="+", required=True,
                       help=".mat/.npz files with 'preds' (N, 16, 2) in ground-truth order")
    group.add_argument("--model_names", nargs="+", default=None, help="one name per prediction file")
    group.add_argument("--gt", default=None,
                       help="ground truth (.mat standard layout, valid.h5 layout, or .npz); default: the "
                            "validation split of --data_dir or of the embedded synthetic dataset")
    parser.set_defaults(output_dir="outputs/mpii_pckh")


def default_ground_truth(data_dir: str | None) -> Path:
    """The validation ground truth of an MPII folder (`mpii_folder`), in the order `run.py` predicts the split in:
    detections_our_format.mat, else annot/valid.h5, else valid_gt.mat (written by `convert_mpii` in the order of
    mpii_annotations.json's validation records)."""
    folder = mpii_folder(data_dir)
    for name in (STANDARD_MAT_NAME, VALID_H5_NAME, CONVERTED_GT_NAME):
        if (folder / name).is_file():
            return folder / name
    return folder / STANDARD_MAT_NAME


def run_pckh(opts: argparse.Namespace) -> dict[str, dict]:
    logger = get_logger()
    truth = load_ground_truth(opts.gt or default_ground_truth(opts.data_dir))
    names = opts.model_names or model_names(opts.prediction_files)
    output_dir = Path(opts.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    reports, curves = {}, {}
    for name, path in zip(names, opts.prediction_files):
        reports[name], curves[name] = pckh_report(load_predictions(path, len(truth.joints_px)), truth)
        write_text_atomic(json.dumps(reports[name], indent=2), output_dir / f"{name}_pckh.json")
    plot_pckh_curves(curves, output_dir / "pckh_curves.png")
    logger.info(f"PCKh@0.5 on {len(truth.joints_px)} people ({truth.source}):\n{format_table(reports)}")
    logger.info(f"wrote {', '.join(f'{n}_pckh.json' for n in names)} and pckh_curves.png to {output_dir}")
    return reports
