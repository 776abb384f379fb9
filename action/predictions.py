"""The clip prediction files `run.py action_h36m` (and the multitask network's run) write and `eval.py
action_accuracy` reads.

  .npz  clip_names (C,) 'S9/Walking 1/54138969/000150+100' (sequence / first frame + frames covered),
        scores (C, K) float32 softmax probabilities, class_names (K,), labels (C,) int64 true class (-1: unknown),
        predicted (C,) int64, predicted_names (C,), true_names (C,), source (the pose input the clips came from)
  .json {"class_names": [...], "source": ..., "clips": [{"clip", "action", "predicted", "scores": [K floats]}]}
A file without labels gets them from the clip names (the action of 'S9/Walking 1/...' is Walking).
"""
from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from action.labels import action_name
from utils.atomic import save_npz_atomic, write_text_atomic
from utils.errors import InputError


@dataclass
class ClipPredictions:
    clip_names: np.ndarray  # (C,)
    scores: np.ndarray  # (C, K) probabilities (float32 values, written exactly in both layouts)
    labels: np.ndarray  # (C,) int64, -1 unknown
    class_names: list[str]
    source: str = ""

    def __len__(self) -> int:
        return len(self.clip_names)


def write_predictions(predictions: ClipPredictions, path: str | Path) -> Path:
    """Write `.npz` or `.json` by the suffix of `path` (parent folders created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    names = np.asarray(predictions.class_names)
    predicted = predictions.scores.argmax(1)
    true_names = np.where(predictions.labels >= 0, names[np.clip(predictions.labels, 0, None)], "")
    if path.suffix == ".json":
        clips = [{"clip": str(c), "action": str(t), "predicted": str(names[p]), "scores": [float(s) for s in row]}
                 for c, t, p, row in zip(predictions.clip_names, true_names, predicted, predictions.scores)]
        return write_text_atomic(json.dumps({"class_names": list(predictions.class_names), "source":
                                             predictions.source, "clips": clips}, indent=1), path)
    return save_npz_atomic(path, clip_names=np.asarray(predictions.clip_names, dtype=str),
                           scores=predictions.scores, class_names=names.astype(str),
                           labels=predictions.labels.astype(np.int64), predicted=predicted.astype(np.int64),
                           predicted_names=names[predicted].astype(str), true_names=true_names.astype(str),
                           source=np.array(predictions.source))


def _labels_from_names(clip_names: np.ndarray, class_names: list[str], path: Path) -> np.ndarray:
    actions = [str(n).split("/")[1] if str(n).count("/") >= 2 else "" for n in clip_names]
    labels = []
    for name, action in zip(clip_names, actions):
        if action_name(action) not in class_names:
            raise InputError(f"{path}: no true action for clip '{name}' (no field 'labels', and the name holds none "
                             f"of the classes)")
        labels.append(class_names.index(action_name(action)))
    return np.array(labels, dtype=np.int64)


def _checked(clip_names, scores, labels, class_names, path: Path, source: str) -> ClipPredictions:
    try:
        scores = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InputError(f"{path}: field 'scores' is not a regular array of numbers ({error})") from error
    class_names = [str(c) for c in class_names]
    clip_names = np.asarray(clip_names).astype(str).reshape(-1)
    if scores.ndim != 2 or scores.shape != (len(clip_names), len(class_names)):
        raise InputError(f"{path}: field 'scores' has shape {scores.shape}, expected (clips {len(clip_names)}, "
                         f"classes {len(class_names)})")
    if not np.isfinite(scores).all():
        raise InputError(f"{path}: field 'scores' holds NaN/inf values")
    labels = _labels_from_names(clip_names, class_names, path) if labels is None else np.asarray(labels, np.int64)
    if labels.shape != (len(clip_names),) or labels.max(initial=-1) >= len(class_names):
        raise InputError(f"{path}: field 'labels' must hold one class index in [-1, {len(class_names)}) per clip")
    return ClipPredictions(clip_names, scores, labels, class_names, source)


def read_predictions(path: str | Path) -> ClipPredictions:
    """Read either layout; InputError naming the file and field for anything missing or malformed."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    if path.suffix == ".json":
        try:
            content = json.loads(path.read_text())
            clips = content["clips"]
            return _checked([c["clip"] for c in clips], [c["scores"] for c in clips],
                            [content["class_names"].index(c["action"]) if c.get("action") else -1 for c in clips],
                            content["class_names"], path, str(content.get("source", "")))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise InputError(f"{path}: cannot be read as JSON ({error})") from error
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise InputError(f"{path}: expected {{\"class_names\": [...], \"clips\": [{{\"clip\", \"action\", "
                             f"\"scores\"}}]}} as run.py action_h36m writes ({type(error).__name__}: {error})")
    if not zipfile.is_zipfile(path):
        raise InputError(f"{path}: not an npz archive or a .json file")
    with np.load(path) as data:  # no pickles: object fields raise, and are reported
        try:
            fields = {key: data[key] for key in data.files}
        except ValueError as error:
            raise InputError(f"{path}: holds object fields, which are not read ({error})") from error
    for key in ("clip_names", "scores", "class_names"):
        if key not in fields:
            raise InputError(f"{path}: missing the field '{key}' (a run.py action_h36m predictions file)")
    return _checked(fields["clip_names"], fields["scores"], fields.get("labels"), fields["class_names"].tolist(),
                    path, str(fields.get("source", "")))

