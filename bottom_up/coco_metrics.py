"""COCO keypoint AP / AR through pycocotools' own COCOeval (OKS, the 17 COCO sigmas), as one pure function."""
from __future__ import annotations

import contextlib
import copy
import io

import numpy as np

from utils.errors import InputError

STAT_NAMES = ("AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl")


def coco_keypoint_eval(gt_document: dict, results: list[dict], quiet: bool = True):
    """Run COCOeval('keypoints') -> (stats {AP ... ARl} as fractions, the COCOeval object, its printed table).

    An empty results list scores 0 everywhere (pycocotools refuses to load one)."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed) if quiet else contextlib.nullcontext():
        gt = COCO()
        gt.dataset = copy.deepcopy(gt_document)
        gt.dataset.setdefault("categories", [{"id": 1, "name": "person"}])
        gt.createIndex()
        if not results:
            return {name: 0.0 for name in STAT_NAMES}, None, ""
        try:
            dt = gt.loadRes(copy.deepcopy(results))
        except (AssertionError, KeyError, IndexError, TypeError) as error:
            raise InputError(f"predictions do not fit the ground truth (image ids or fields): {error!r}") from error
        evaluator = COCOeval(gt, dt, "keypoints")
        evaluator.evaluate()
        evaluator.accumulate()
        table = io.StringIO()
        with contextlib.redirect_stdout(table):
            evaluator.summarize()
    stats = {name: float(value) for name, value in zip(STAT_NAMES, evaluator.stats)}
    return stats, evaluator, table.getvalue()


def precision_recall(evaluator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(recall thresholds (101,), precision (10 OKS thresholds, 101) over all areas, the OKS thresholds)."""
    precision = evaluator.eval["precision"][:, :, 0, 0, -1]  # (T, R), category 0, area 'all', max detections 20
    return evaluator.params.recThrs, precision, evaluator.params.iouThrs
