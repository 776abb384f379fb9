"""`python eval.py action_accuracy --predictions FILE --output_dir O`: top-1 / top-5 accuracy overall and per action,
and the confusion matrix, of any clip predictions file (`run.py action_h36m`, the multitask network's predictions).

Writes O/action_accuracy.json (the report of `action.metrics.accuracy_report`), O/confusion_matrix.json
({class_names, matrix: rows true, columns predicted}) and O/confusion_matrix.png (row-normalised, counts written in).
Clips without a true action (label -1) are left out and counted.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from action.metrics import accuracy_report
from action.predictions import read_predictions
from utils.atomic import write_text_atomic
from utils.errors import InputError
from utils.plotting import new_figure, save_figure
from utils.run_logging import get_logger


def add_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("action_accuracy")
    group.add_argument("--predictions", required=True, help="clip predictions (.npz / .json of run.py action_h36m)")


def check_options(opts: argparse.Namespace) -> str | None:
    return None if opts.output_dir else "--output_dir is required"


def draw_confusion(matrix: np.ndarray, class_names: list[str], title: str, path: Path) -> Path:
    """PNG of the row-normalised confusion matrix with each cell's count."""
    rows = matrix.sum(1, keepdims=True)
    share = matrix / np.maximum(rows, 1)
    size = 1.0 + 0.48 * len(class_names)
    figure = new_figure(size + 1.6, size + 1.0, dpi=110)
    ax = figure.add_subplot(1, 1, 1)
    image = ax.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0)
    for (i, j), count in np.ndenumerate(matrix):
        if count:
            ax.text(j, i, str(count), ha="center", va="center", fontsize=7,
                    color="white" if share[i, j] > 0.6 else "black")
    ticks = np.arange(len(class_names))
    ax.set_xticks(ticks, class_names, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(ticks, class_names, fontsize=8)
    ax.set_xlabel("predicted action")
    ax.set_ylabel("true action")
    ax.set_title(title, fontsize=9)
    figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="share of the true action's clips")
    figure.tight_layout()
    return save_figure(figure, path)


def run_action_accuracy(opts: argparse.Namespace) -> int:
    predictions = read_predictions(opts.predictions)
    known = predictions.labels >= 0
    if not known.any():
        raise InputError(f"{opts.predictions}: no clip has a true action (field 'labels' all -1)")
    report = accuracy_report(predictions.scores[known], predictions.labels[known], predictions.class_names)
    report.update(predictions=str(opts.predictions), source=predictions.source, clips_without_label=int((~known).sum()))
    output = Path(opts.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    write_text_atomic(json.dumps(report, indent=1), output / "action_accuracy.json")
    write_text_atomic(json.dumps({"class_names": report["class_names"], "rows": "true action",
                                  "columns": "predicted action", "matrix": report["confusion_matrix"]}, indent=1),
                      output / "confusion_matrix.json")
    title = (f"{Path(opts.predictions).name} ({predictions.source}): top-1 {100 * report['top1']:.1f} %, "
             f"{report['clips']} clips")
    draw_confusion(np.asarray(report["confusion_matrix"]), report["class_names"], title,
                   output / "confusion_matrix.png")
    lines = [f"{name:<14} {v['clips']:>5} clips  top-1 {100 * v['top1']:5.1f} %  top-5 {100 * v['top5']:5.1f} %"
             for name, v in report["per_action"].items() if v["clips"]]
    get_logger().info("\n".join([*lines, f"{'all':<14} {report['clips']:>5} clips  top-1 {100 * report['top1']:5.1f} "
                                         f"%  top-5 {100 * report['top5']:5.1f} %", f"-> {output}"]))
    return 0
