"""Classification metrics of clip predictions: top-k accuracy, overall and per action, and the confusion matrix.

Pure numpy functions on (C, K) scores (any monotone score: logits or probabilities) and (C,) true class indices.
"""
from __future__ import annotations

import numpy as np


def top_k_hits(scores: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """(C,) bool: the true class is among the `k` highest scores of each row. Ties count against the prediction:
    a class scoring the same as the true one is ranked above it."""
    scores, labels = np.asarray(scores, dtype=np.float64), np.asarray(labels, dtype=np.int64)
    assert scores.ndim == 2 and labels.shape == (len(scores),), (scores.shape, labels.shape)
    true_score = scores[np.arange(len(scores)), labels]  # (C,)
    others_above = (scores >= true_score[:, None]).sum(1) - 1  # (C,) classes other than the true one at least as high
    return others_above < k


def confusion_matrix(predicted: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """(K, K) int64 counts: row = true class, column = predicted class."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(labels, dtype=np.int64), np.asarray(predicted, dtype=np.int64)), 1)
    return matrix


def accuracy_report(scores: np.ndarray, labels: np.ndarray, class_names: list[str] | tuple[str, ...],
                    ks: tuple[int, ...] = (1, 5)) -> dict:
    """{'clips', 'top1', 'top5', 'mean_class_top1', 'per_action': {name: {'clips', 'top1', 'top5'}},
    'confusion_matrix': (K, K) list, 'class_names'}; accuracies in [0, 1], None for an action without clips."""
    scores, labels = np.asarray(scores, dtype=np.float64), np.asarray(labels, dtype=np.int64)
    hits = {k: top_k_hits(scores, labels, k) for k in ks}
    per_action = {}
    for index, name in enumerate(class_names):
        rows = labels == index
        per_action[name] = {"clips": int(rows.sum()),
                            **{f"top{k}": float(hits[k][rows].mean()) if rows.any() else None for k in ks}}
    present = [v["top1"] for v in per_action.values() if v["top1"] is not None] if 1 in ks else []
    return {"clips": int(len(labels)), **{f"top{k}": float(hits[k].mean()) if len(labels) else None for k in ks},
            "mean_class_top1": float(np.mean(present)) if present else None, "per_action": per_action,
            "class_names": list(class_names),
            "confusion_matrix": confusion_matrix(scores.argmax(1), labels, len(class_names)).tolist()}
