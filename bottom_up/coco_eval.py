"""`eval.py coco_AP --gt GT.json --predictions RESULTS.json --output_dir OUT`: COCO keypoint AP with pycocotools.

Prints pycocotools' standard table and writes OUT/coco_AP.json (AP, AP50, AP75, APm, APl, AR, AR50, AR75, ARm,
ARl: fractions, exactly `COCOeval.stats`) and OUT/coco_AP_precision_recall.png (precision against recall at OKS
0.50, 0.75 and the mean over 0.50:0.95).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from bottom_up.coco_data import read_json
from bottom_up.coco_metrics import coco_keypoint_eval, precision_recall
from utils.atomic import write_text_atomic
from utils.errors import InputError
from utils.plotting import new_figure, save_figure


def add_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("coco_AP")
    group.add_argument("--gt", required=True, help="COCO ground truth (person_keypoints_*.json)")
    group.add_argument("--predictions", required=True,
                       help="COCO keypoint results JSON: [{image_id, category_id, keypoints [51], score}]")


def check_options(opts: argparse.Namespace) -> str | None:
    return None if opts.output_dir else "--output_dir is required"


def read_results(path: Path) -> list[dict]:
    if not path.is_file():
        raise InputError(f"predictions file not found: {path}")
    try:
        results = json.loads(path.read_text())
    except ValueError as error:
        raise InputError(f"{path}: not a JSON file ({error})") from error
    if not isinstance(results, list):
        raise InputError(f"{path}: expected a list of results [{{image_id, category_id, keypoints, score}}]")
    for item in results:
        if not isinstance(item, dict) or not {"image_id", "keypoints", "score"} <= set(item):
            raise InputError(f"{path}: every result needs image_id, keypoints and score; got {item!r:.120}")
        if len(item["keypoints"]) != 51 or not np.isfinite(np.asarray(item["keypoints"], dtype=float)).all():
            raise InputError(f"{path}: result of image {item['image_id']}: field 'keypoints' must hold 51 finite "
                             "numbers")
        item.setdefault("category_id", 1)
    return results


def plot_precision_recall(evaluator, path: Path) -> Path:
    recall, precision, thresholds = precision_recall(evaluator)
    figure = new_figure(5, 4)
    ax = figure.add_subplot(1, 1, 1)
    for index, label in ((0, "OKS 0.50"), (5, "OKS 0.75")):
        ax.plot(recall, np.clip(precision[index], 0, None), label=label)
    ax.plot(recall, np.clip(precision, 0, None).mean(0), label="mean OKS 0.50:0.95", linestyle="--")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.legend()
    ax.set_title(f"COCO keypoints: AP {evaluator.stats[0]:.3f}")
    return save_figure(figure, path)


def run_coco_ap(opts: argparse.Namespace) -> dict[str, float]:
    gt = read_json(Path(opts.gt))
    results = read_results(Path(opts.predictions))
    stats, evaluator, table = coco_keypoint_eval(gt, results)
    print(table or "no predictions: every figure is 0")
    out = Path(opts.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(json.dumps(stats, indent=1) + "\n", out / "coco_AP.json")
    if evaluator is not None:
        plot_precision_recall(evaluator, out / "coco_AP_precision_recall.png")
    print(f"wrote {out / 'coco_AP.json'}")
    return stats
