"""The training loop's state in a checkpoint: what `last.pt` / `best.pt` hold and how a run resumes from them.

One model: `model_state`, `optimizer_state`, `scaler_state` are that model's; several models (e.g. a GAN's
generator and critic): each is a dict {model name: ...}. Besides: scheduler_state, epoch, step_in_epoch,
global_step, world_size, options, rng (Python, numpy, torch), best_metric, and the script's own self-describing
fields (kind, model_config, normalisation, ...).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import torch
from torch import nn

from utils.checkpoints import rng_state, set_rng_state


def pack(values: Mapping[str, Any]) -> Any:
    """The checkpoint layout of per-model values: the value itself for one model, else {name: value}."""
    return next(iter(values.values())) if len(values) == 1 else dict(values)


def unpack(stored: Any, names: list[str]) -> dict[str, Any]:
    """Inverse of `pack` for the models `names`."""
    return {names[0]: stored} if len(names) == 1 else {name: stored[name] for name in names if name in stored}


@dataclass
class Counters:
    epoch: int = 0
    step_in_epoch: int = 0
    global_step: int = 0


def non_finite_weights(models: Mapping[str, nn.Module]) -> list[str]:
    """Names of the floating-point weights and buffers that hold NaN or inf ('critic.heads.0.weight' when several)."""
    prefix = len(models) > 1
    return [f"{model_name}.{name}" if prefix else name for model_name, model in models.items()
            for name, value in model.state_dict().items()
            if value.is_floating_point() and not torch.isfinite(value).all()]


def loop_payload(models: Mapping[str, nn.Module], optimizers: Mapping[str, torch.optim.Optimizer],
                 scalers: Mapping[str, Any], scheduler: Any, counters: Counters, world_size: int,
                 options: dict[str, Any]) -> dict[str, Any]:
    """Everything a resumed run needs, in the layout of the module docstring (without the script's fields)."""
    enabled = {name: scaler.state_dict() for name, scaler in scalers.items() if scaler.is_enabled()}
    return {
        "model_state": pack({name: model.state_dict() for name, model in models.items()}),
        "optimizer_state": pack({name: optimizer.state_dict() for name, optimizer in optimizers.items()}),
        "scheduler_state": scheduler.state_dict() if scheduler is not None else None,
        "scaler_state": (pack(enabled) if enabled else None) if len(scalers) == 1 else enabled,
        "epoch": counters.epoch,
        "step_in_epoch": counters.step_in_epoch,
        "global_step": counters.global_step,
        "world_size": world_size,
        "options": options,
        "rng": rng_state(),
    }


def restore_loop(payload: dict[str, Any], models: Mapping[str, nn.Module],
                 optimizers: Mapping[str, torch.optim.Optimizer], scalers: Mapping[str, Any], scheduler: Any,
                 restore_rng: bool) -> Counters:
    """Load weights, optimizer, scaler and scheduler states (and the RNG states when `restore_rng`); returns the
    loop's counters."""
    for name, state in unpack(payload["model_state"], list(models)).items():
        models[name].load_state_dict(state)
    if payload.get("optimizer_state") is not None:
        for name, state in unpack(payload["optimizer_state"], list(optimizers)).items():
            optimizers[name].load_state_dict(state)
    if scheduler is not None and payload.get("scheduler_state") is not None:
        scheduler.load_state_dict(payload["scheduler_state"])
    if payload.get("scaler_state"):
        for name, state in unpack(payload["scaler_state"], list(scalers)).items():
            if scalers[name].is_enabled():
                scalers[name].load_state_dict(state)
    if "rng" in payload and restore_rng:
        set_rng_state(payload["rng"])
    return Counters(int(payload.get("epoch", 0)), int(payload.get("step_in_epoch", 0)),
                    int(payload.get("global_step", 0)))
