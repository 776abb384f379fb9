"""Lifter checkpoints: what `train.py 2d3d_h36m` stores and what other code needs to use the lifter from the file.

    model, config, extras = load_lifter("best.pt", device)
    normaliser = extras["normaliser"]
    root_relative_mm = normaliser.denormalise_3d(model(normaliser.normalise_2d(joints_2d_px)))  # (B, 16, 3)

joints_2d_px: (B, 16, 2) image pixels in H36M16_2D order; the result is root-relative camera-frame mm in
H36M16_3D order (the hip, always zero, left out). Both normaliser maps are differentiable torch ops.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from twod_threed.model import Lifter, LifterConfig
from twod_threed.normalization import Normaliser
from utils.checkpoints import (CheckpointError, LoadedModel, config_from_dict, config_to_dict, load_checkpoint,
                               load_weights)

KIND = "lifter"
JOINT_ORDERS = {"input": "h36m16_2d", "output": "h36m16_3d"}


def checkpoint_fields(config: LifterConfig, normaliser: Normaliser, extra: dict[str, Any]) -> dict[str, Any]:
    """The self-describing part of every lifter checkpoint (goes into `LoopSettings.checkpoint_fields`)."""
    return {"kind": KIND, "model_config": config_to_dict(config), "normalisation": normaliser.state_dict(),
            "joint_orders": dict(JOINT_ORDERS), "extra": extra}


def load_lifter(path: str | Path, device: str | torch.device = "cpu") -> LoadedModel:
    """Rebuild the trained lifter (in eval mode) from a checkpoint file alone: a lifter checkpoint, or the lifter part
    of a composite one such as a stitched network's.

    Returns (model, config, extras). extras: normaliser (its pixel -> input and output -> mm maps, on `device`),
    joint_orders, epoch, best_metric (test MPJPE, mm, when trained here), options, part_of (the composite kind)."""
    payload = load_checkpoint(path, kind=KIND, map_location="cpu", part=True)
    config = config_from_dict(LifterConfig, payload["model_config"], path)
    if "normalisation" not in payload:
        raise CheckpointError(f"{path}: missing the field 'normalisation' (the statistics that map pixels to the "
                              f"network input and its output to mm)")
    model = Lifter(config)
    load_weights(model, payload["model_state"], path)
    extras = {"normaliser": Normaliser.from_state_dict(payload["normalisation"]).to(device),
              "joint_orders": dict(JOINT_ORDERS), "epoch": payload.get("epoch"),
              "best_metric": payload.get("best_metric"), "options": payload.get("options", {}),
              "part_of": payload.get("part_of")}
    return LoadedModel(model.to(device).eval(), config, extras)


@torch.no_grad()
def lift(model: Lifter, normaliser: Normaliser, joints_2d_px: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
    """Inference over many poses: (N, 16, 2) px H36M16_2D -> (N, 16, 3) root-relative mm H36M16_3D (eval mode)."""
    model.eval()
    device = next(model.parameters()).device
    outputs = [normaliser.denormalise_3d(model(normaliser.normalise_2d(chunk.to(device))))
               for chunk in joints_2d_px.split(batch_size)]
    return torch.cat(outputs) if outputs else torch.zeros(0, 16, 3, device=device)
