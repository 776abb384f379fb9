"""Hourglass checkpoints: what training writes into them and `load_hourglass`, which rebuilds the network from the
file alone (a hourglass checkpoint, or the hourglass part of a composite one such as a stitched network's)."""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from stacked_hourglass.model import HourglassConfig, HourglassNet
from utils.checkpoints import LoadedModel, config_from_dict, load_checkpoint, load_weights
from utils.skeletons import MPII

KIND = "hourglass"
STRIDE = 4  # input px per heatmap px


def checkpoint_fields(config: HourglassConfig, mean_rgb: np.ndarray, std_rgb: np.ndarray) -> dict[str, Any]:
    """The self-describing part of every hourglass checkpoint (see utils.training.LoopSettings.checkpoint_fields)."""
    return {
        "kind": KIND,
        "model_config": asdict(config),
        "normalisation": {"mean_rgb": torch.as_tensor(np.asarray(mean_rgb), dtype=torch.float32),
                          "std_rgb": torch.as_tensor(np.asarray(std_rgb), dtype=torch.float32)},
    }


def load_hourglass(path: str | Path, device: str | torch.device = "cpu") -> LoadedModel:
    """Rebuild a trained hourglass from its checkpoint file, in eval mode and channels-last memory, on `device`.

    Returns (model, config, extras). extras: mean_rgb, std_rgb ((3,) float tensors in [0, 1], for
    `model.normalise_input`), input_res (square input side, px), heatmap_res, stride (input px per heatmap px),
    joint_names (MPII order), epoch, best_metric (validation PCKh@0.5 when trained here), options (training options),
    part_of (the composite kind, e.g. 'stitched', when the file holds a whole network with this hourglass in it).
    """
    payload = load_checkpoint(path, kind=KIND, map_location="cpu", part=True)
    config = config_from_dict(HourglassConfig, payload["model_config"], path)
    model = HourglassNet(config)
    load_weights(model, payload["model_state"], path)
    model = model.to(device=device, memory_format=torch.channels_last).eval()
    normalisation = payload.get("normalisation") or {}
    extras = {
        "mean_rgb": normalisation.get("mean_rgb", torch.full((3,), 0.5)).to(device),
        "std_rgb": normalisation.get("std_rgb", torch.full((3,), 0.25)).to(device),
        "input_res": config.input_res,
        "heatmap_res": config.heatmap_res,
        "stride": STRIDE,
        "joint_names": MPII.joint_names,
        "epoch": payload.get("epoch"),
        "best_metric": payload.get("best_metric"),
        "options": payload.get("options", {}),
        "part_of": payload.get("part_of"),
    }
    return LoadedModel(model, config, extras)
