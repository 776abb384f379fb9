"""`eval.py mpii_PCKh`: score MPII-order 2D predictions against a validation ground truth.

Ground truth files: the standard `detections_our_format.mat` layout (pos_gt_src, jnt_missing, headboxes_src), the
`valid.h5` layout (part, visible, normalize) and `.npz` files with the valid.h5 keys. Prediction files: `.mat` or
`.npz` with `preds` (N, 16, 2) in ground-truth order, image pixels (what `run.py hourglass_mpii` writes).
"""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import scipy.io

from stacked_hourglass.annotations import VALID_H5_NAME, mpii_folder
from utils.errors import InputError
from utils.metrics import PCKH_CURVE_THRESHOLDS, mpii_pckh_table
from utils.run_logging import get_logger
from utils.skeletons import MPII, MPII_PCKH_GROUPS

NUM_JOINTS = MPII.num_joints


@dataclass(frozen=True)
class MpiiGroundTruth:
    joints_px: np.ndarray  # (N, 16, 2) image pixels
    visible: np.ndarray  # (N, 16) 1 where the joint is annotated
    head_size: np.ndarray  # (N,) 0.6 x head-box diagonal, px
    source: Path


def _field(data, key: str, path: Path, expected: str) -> np.ndarray:
    if key not in data:
        raise InputError(f"{path}: missing the field '{key}' (expected {expected})")
    return np.asarray(data[key][()] if isinstance(data, h5py.File) else data[key], dtype=np.float64)


def _check_shape(array: np.ndarray, shape: tuple, path: Path, key: str) -> None:
    if array.ndim != len(shape) or any(s is not None and a != s for a, s in zip(array.shape, shape)):
        readable = ", ".join("N" if s is None else str(s) for s in shape)
        raise InputError(f"{path}: field '{key}' has shape {array.shape}, expected ({readable})")


def _read_mat(path: Path) -> dict:
    try:
        return scipy.io.loadmat(str(path))
    except Exception as error:  # scipy raises several types for a bad file
        raise InputError(f"{path}: cannot be read as a MATLAB .mat file ({error})") from error


def load_ground_truth(path: str | Path) -> MpiiGroundTruth:
    """Read MPII validation ground truth from a .mat (standard layout), .h5 (valid.h5 layout) or .npz file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"ground-truth file not found: {path}")
    if path.suffix == ".mat":
        data = _read_mat(path)
        joints = _field(data, "pos_gt_src", path, "(16, 2, N) pixels")
        _check_shape(joints, (NUM_JOINTS, 2, None), path, "pos_gt_src")
        missing = _field(data, "jnt_missing", path, "(16, N)")
        boxes = _field(data, "headboxes_src", path, "(2, 2, N) [[x1, y1], [x2, y2]]")
        _check_shape(missing, (NUM_JOINTS, joints.shape[2]), path, "jnt_missing")
        _check_shape(boxes, (2, 2, joints.shape[2]), path, "headboxes_src")
        head_size = 0.6 * np.linalg.norm(boxes[1] - boxes[0], axis=0)
        return MpiiGroundTruth(joints.transpose(2, 0, 1), 1.0 - missing.T, head_size, path)
    if path.suffix in (".h5", ".npz"):
        if path.suffix == ".h5":
            with h5py.File(path, "r") as data:
                fields = [_field(data, key, path, what) for key, what in
                          (("part", "(N, 16, 2)"), ("visible", "(N, 16)"), ("normalize", "(N,)"))]
        else:
            with np.load(path) as data:
                fields = [_field(data, key, path, what) for key, what in
                          (("part", "(N, 16, 2)"), ("visible", "(N, 16)"), ("normalize", "(N,)"))]
        joints, visible, head_size = fields
        _check_shape(joints, (None, NUM_JOINTS, 2), path, "part")
        _check_shape(visible, (joints.shape[0], NUM_JOINTS), path, "visible")
        _check_shape(head_size, (joints.shape[0],), path, "normalize")
        # valid.h5 marks unannotated joints by zero coordinates as well as by `visible`.
        annotated = (joints > 0).any(-1).astype(np.float64)
        return MpiiGroundTruth(joints, annotated, head_size, path)
    raise InputError(f"{path}: unknown ground-truth format '{path.suffix}' (expected .mat, .h5 or .npz)")


def load_predictions(path: str | Path, expected_count: int) -> np.ndarray:
    """Read (N, 16, 2) predictions from `.mat` or `.npz` (key `preds`), checking count, shape and values."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"prediction file not found: {path}")
    if path.suffix == ".mat":
        data = _read_mat(path)
        if "preds" not in data and "pos_pred_src" in data:  # the standard layout's (16, 2, N) predictions
            data["preds"] = np.asarray(data["pos_pred_src"]).transpose(2, 0, 1)
        preds = _field(data, "preds", path, "(N, 16, 2) image pixels")
    elif path.suffix == ".npz":
        with np.load(path) as data:
            preds = _field(data, "preds", path, "(N, 16, 2) image pixels")
    else:
        raise InputError(f"{path}: unknown prediction format '{path.suffix}' (expected .mat or .npz with 'preds')")
    if preds.ndim == 3 and preds.shape[1:] == (2, NUM_JOINTS):
        raise InputError(f"{path}: 'preds' has shape {preds.shape}; expected (N, 16, 2) (joints before x/y)")
    _check_shape(preds, (None, NUM_JOINTS, 2), path, "preds")
    if preds.shape[0] != expected_count:
        raise InputError(f"{path}: {preds.shape[0]} predictions, but the ground truth has {expected_count} people; "
                         f"predictions must be in ground-truth order, one per person")
    bad = ~np.isfinite(preds)
    if bad.any():
        first = np.argwhere(bad)[0]
        raise InputError(f"{path}: 'preds' holds {int(bad.any(-1).sum())} NaN/inf joints "
                         f"(first: person {first[0]}, joint {MPII.joint_names[first[1]]})")
    return preds


def pckh_report(preds: np.ndarray, truth: MpiiGroundTruth) -> tuple[dict, np.ndarray]:
    """The JSON report (table + per-joint PCKh@0.5) and the (51, 16) PCKh curve."""
    table, curve = mpii_pckh_table(preds, truth.joints_px, truth.visible, truth.head_size)
    at_half = curve[np.argmin(np.abs(PCKH_CURVE_THRESHOLDS - 0.5))]
    table["joints"] = {name: (None if np.isnan(v) else round(float(v), 2))
                       for name, v in zip(MPII.joint_names, at_half)}
    return table, curve


def format_table(reports: dict[str, dict]) -> str:
    columns = [*MPII_PCKH_GROUPS, "Mean", "Mean@0.1", "AUC"]
    width = max(12, *(len(name) for name in reports))
    lines = ["Model".ljust(width) + "".join(c.rjust(10) for c in columns)]
    lines += [name.ljust(width) + "".join(f"{report[c]:10.2f}" for c in columns) for name, report in reports.items()]
    return "\n".join(lines)


def plot_pckh_curves(curves: dict[str, np.ndarray], path: Path) -> None:
    """One panel per joint group (and the mean), one PCKh(t) curve per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = {**{name: list(joints) for name, joints in MPII_PCKH_GROUPS.items()}}
    fig, axes = plt.subplots(2, 4, figsize=(16, 7.5), sharex=True, sharey=True)
    for axis, (group, joints) in zip(axes.ravel(), [*groups.items(), ("Mean (14 joints)", None)]):
        for model, curve in curves.items():
            values = curve[:, joints].mean(1) if joints else np.nanmean(curve[:, [j for j in range(16) if j not in (6, 7)]], 1)
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
    fig.savefig(path, dpi=100)
    plt.close(fig)


def check_options(opts: argparse.Namespace) -> str | None:
    if opts.model_names and len(opts.model_names) != len(opts.prediction_files):
        return (f"--model_names has {len(opts.model_names)} names for {len(opts.prediction_files)} "
                f"--prediction_files; give one name per file")
    return None


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
    """The validation ground truth of an MPII folder (`mpii_folder`): detections_our_format.mat, else annot/valid.h5."""
    folder = mpii_folder(data_dir)
    standard = folder / "detections_our_format.mat"
    return standard if standard.is_file() or not (folder / VALID_H5_NAME).is_file() else folder / VALID_H5_NAME


def run_pckh(opts: argparse.Namespace) -> dict[str, dict]:
    logger = get_logger()
    truth = load_ground_truth(opts.gt or default_ground_truth(opts.data_dir))
    names = opts.model_names or [Path(p).stem for p in opts.prediction_files]
    output_dir = Path(opts.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    reports, curves = {}, {}
    for name, path in zip(names, opts.prediction_files):
        reports[name], curves[name] = pckh_report(load_predictions(path, len(truth.joints_px)), truth)
        (output_dir / f"{name}_pckh.json").write_text(json.dumps(reports[name], indent=2))
    plot_pckh_curves(curves, output_dir / "pckh_curves.png")
    logger.info(f"PCKh@0.5 on {len(truth.joints_px)} people ({truth.source}):\n{format_table(reports)}")
    logger.info(f"wrote {', '.join(f'{n}_pckh.json' for n in names)} and pckh_curves.png to {output_dir}")
    return reports
