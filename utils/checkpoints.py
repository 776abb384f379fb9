"""Self-describing checkpoints, written atomically and read without executing code.

A checkpoint is a plain dict of tensors and Python literals, so `torch.load(weights_only=True)` can read it:
  format, kind, model_config, model_state, optimizer_state, scheduler_state, epoch, step, best_metric,
  options, rng, normalisation (tensors), extra.
`kind` names the model family (each package's checkpoint.py defines its KIND) so a loader can refuse a foreign file.
A composite network's checkpoint (the stitched one) also lists its `parts`: {name: {kind, prefix, model_config,
normalisation}}, so each part's own loader reads it from the composite file (`load_checkpoint(..., part=True)`)
without knowing the composite. Every loader returns a `LoadedModel` (model, config, extras).
"""
from __future__ import annotations

import random
from dataclasses import asdict, fields, is_dataclass
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import numpy as np
import torch

from utils.atomic import save_torch_atomic
from utils.errors import InputError

FORMAT = "stitchpose-checkpoint-v1"
T = TypeVar("T")


class CheckpointError(InputError):
    """A checkpoint file that cannot be used: missing, truncated, foreign, or of the wrong kind."""


class LoadedModel(NamedTuple):
    """What every package's checkpoint loader returns: the network (eval mode, on the requested device), its
    dataclass config, and what else a user of the file needs (normalisation, epoch, best_metric, options, ...;
    each loader's docstring lists its extras)."""

    model: Any
    config: Any
    extras: dict[str, Any]


def part_entry(kind: str, prefix: str, model_config: dict[str, Any], normalisation: dict[str, Any]) -> dict[str, Any]:
    """One entry of a composite checkpoint's `parts`: the part's kind, the prefix of its keys in `model_state`,
    its model_config and its normalisation, in the layout of that kind's own checkpoints."""
    return {"kind": kind, "prefix": prefix, "model_config": model_config, "normalisation": normalisation}


def plain_options(options: Any) -> dict[str, Any]:
    """argparse Namespace / dict -> dict of the literal values only (what weights_only loading accepts)."""
    items = vars(options) if not isinstance(options, dict) else options
    return {k: v for k, v in items.items() if isinstance(v, (str, int, float, bool, type(None), list, tuple))}


def rng_state() -> dict[str, Any]:
    """Python, numpy and torch RNG states as tensors and literals."""
    numpy_state = np.random.get_state()
    state = {
        "python": _to_literal(random.getstate()),
        "numpy_keys": torch.from_numpy(numpy_state[1].astype(np.int64)),
        "numpy_meta": [numpy_state[0], int(numpy_state[2]), int(numpy_state[3]), float(numpy_state[4])],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what `rng_state` captured."""
    random.setstate(_from_literal(state["python"]))
    name, pos, has_gauss, cached = state["numpy_meta"]
    np.random.set_state((name, state["numpy_keys"].numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _to_literal(value):
    return [_to_literal(v) for v in value] if isinstance(value, tuple) else value


def _from_literal(value):
    return tuple(_from_literal(v) for v in value) if isinstance(value, list) else value


def config_to_dict(config: Any) -> dict[str, Any]:
    assert is_dataclass(config), f"model config must be a dataclass, got {type(config).__name__}"
    return asdict(config)


def config_from_dict(config_class: type[T], values: dict[str, Any], path: str | Path = "") -> T:
    """Rebuild a dataclass config; unknown fields in the file are an error naming them, missing ones use defaults."""
    known = {f.name for f in fields(config_class)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise CheckpointError(f"{path}: model_config has fields {unknown} that {config_class.__name__} does not know; "
                              f"the checkpoint was written by a different version or model")
    try:
        return config_class(**values)
    except (TypeError, ValueError) as error:
        raise CheckpointError(f"{path}: model_config cannot build a {config_class.__name__} ({error})") from error


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> Path:
    """Write `payload` (plus the format tag) to `path` atomically (`utils.atomic`)."""
    return save_torch_atomic({"format": FORMAT, **payload}, path)


def _part_of(payload: dict[str, Any], kind: str, path: Path) -> dict[str, Any]:
    """The `kind` part of a composite checkpoint, as a checkpoint of that kind (model_state keys without prefix)."""
    parts = [entry for entry in (payload.get("parts") or {}).values() if entry.get("kind") == kind]
    if not parts:
        listed = sorted(entry.get("kind") for entry in (payload.get("parts") or {}).values())
        raise CheckpointError(f"{path}: holds a '{payload.get('kind')}' model"
                              f"{f' with parts {listed}' if listed else ''}, expected a '{kind}' checkpoint")
    entry, state = parts[0], payload.get("model_state", {})
    prefix = entry["prefix"]
    return {**{k: payload[k] for k in ("format", "epoch", "best_metric", "options") if k in payload},
            "kind": kind, "part_of": payload.get("kind"), "model_config": entry["model_config"],
            "normalisation": entry["normalisation"],
            "model_state": {key[len(prefix):]: value for key, value in state.items() if key.startswith(prefix)}}


def load_checkpoint(path: str | Path, kind: str | None = None, map_location: str | torch.device = "cpu",
                    part: bool = False) -> dict:
    """Read a checkpoint safely (no code execution); clear errors for missing, truncated, foreign or wrong-kind files.

    part: a composite checkpoint holding a `kind` part (see the module docstring) is read as that part alone."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # a corrupt or foreign file fails in many ways (UnpicklingError, KeyError, ...)
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CheckpointError(f"{path}: cannot be read as a stitchpose checkpoint (truncated, corrupt, or it holds "
                              f"Python objects other than tensors and literals): {first_line}") from error
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a stitchpose checkpoint (no 'format': '{FORMAT}' entry)")
    if kind is not None and payload.get("kind") != kind:
        if not part:
            raise CheckpointError(f"{path}: holds a '{payload.get('kind')}' model, expected a '{kind}' checkpoint")
        payload = _part_of(payload, kind, path)
    for key in ("model_config", "model_state"):
        if key not in payload:
            raise CheckpointError(f"{path}: missing the field '{key}'")
    bad = non_finite_tensors(payload["model_state"])
    if bad:
        raise CheckpointError(f"{path}: model_state holds NaN/inf values in {len(bad)} tensor(s) (first: {bad[0]}); "
                              f"the network cannot be used: take an earlier checkpoint")
    return payload


def non_finite_tensors(state: Any, prefix: str = "") -> list[str]:
    """Names of the floating-point tensors of a (nested) state dict that hold NaN or inf."""
    if isinstance(state, dict):
        return [name for key, value in state.items() for name in non_finite_tensors(value, f"{prefix}{key}.")]
    if isinstance(state, torch.Tensor) and state.is_floating_point() and not torch.isfinite(state).all():
        return [prefix.rstrip(".")]
    return []


def load_weights(model: torch.nn.Module, state: dict[str, Any], path: str | Path) -> None:
    """`model.load_state_dict(state)`; a state that does not fit the network its model_config builds (missing or
    unexpected keys, other shapes) is a CheckpointError naming the file and the first mismatch."""
    try:
        model.load_state_dict(state)
    except (RuntimeError, KeyError, TypeError, AttributeError) as error:
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        detail = lines[1] if len(lines) > 1 else (lines[0] if lines else type(error).__name__)
        raise CheckpointError(f"{path}: the weights (model_state) do not match the network its model_config "
                              f"describes ({detail}); the file was edited or written by another version") from error


class CheckpointKeeper:
    """Keeps `last.pt` and `best.pt` in a run folder; `best` follows a metric (higher or lower is better)."""

    def __init__(self, run_dir: str | Path, higher_is_better: bool, enabled: bool = True):
        self.run_dir = Path(run_dir)
        self.higher_is_better = higher_is_better
        self.enabled = enabled
        self.best_metric: float | None = None

    @property
    def last_path(self) -> Path:
        return self.run_dir / "last.pt"

    @property
    def best_path(self) -> Path:
        return self.run_dir / "best.pt"

    def is_better(self, metric: float) -> bool:
        if self.best_metric is None:
            return True
        return metric > self.best_metric if self.higher_is_better else metric < self.best_metric

    def save(self, payload: dict[str, Any], metric: float | None = None) -> bool:
        """Save `last` (and `best` when `metric` improves). Returns whether this is a new best."""
        improved = metric is not None and self.is_better(metric)
        if improved:
            self.best_metric = metric
        if not self.enabled:
            return improved
        payload = {**payload, "best_metric": self.best_metric}
        save_checkpoint(self.last_path, payload)
        if improved:
            save_checkpoint(self.best_path, payload)
        return improved
