"""Bottom-up (associative embedding) hourglass checkpoints: written by `train.py hourglass_coco` /
`distill_hourglass`, rebuilt from the file alone by `load_bottom_up`.

The network is the stacked hourglass with 2 x 17 outputs per stack (17 heatmaps, then 17 tag maps)."""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bottom_up.codec import AssociativeEmbeddingCodec
from bottom_up.coco_data import NUM_KEYPOINTS
from stacked_hourglass.model import HourglassConfig, HourglassNet
from utils.checkpoints import CheckpointError, LoadedModel, config_from_dict, load_checkpoint

KIND = "hourglass_coco"
OUTPUTS = 2 * NUM_KEYPOINTS  # heatmaps + tags per stack


def checkpoint_fields(config: HourglassConfig, codec: AssociativeEmbeddingCodec, mean_rgb: np.ndarray,
                      std_rgb: np.ndarray) -> dict[str, Any]:
    return {"kind": KIND, "model_config": asdict(config), "codec": asdict(codec),
            "normalisation": {"mean_rgb": torch.as_tensor(np.asarray(mean_rgb), dtype=torch.float32),
                              "std_rgb": torch.as_tensor(np.asarray(std_rgb), dtype=torch.float32)}}


def load_bottom_up(path: str | Path, device: str | torch.device = "cpu") -> LoadedModel:
    """(model in eval mode, HourglassConfig, extras: codec, mean_rgb, std_rgb, epoch, best_metric, options)."""
    payload = load_checkpoint(path, kind=KIND, map_location="cpu")
    config = config_from_dict(HourglassConfig, payload["model_config"], path)
    if config.num_joints != OUTPUTS:
        raise CheckpointError(f"{path}: model_config.num_joints is {config.num_joints}, expected {OUTPUTS} "
                              "(17 heatmaps + 17 tag maps)")
    model = HourglassNet(config)
    model.load_state_dict(payload["model_state"])
    model = model.to(device=device, memory_format=torch.channels_last).eval()
    codec = config_from_dict(AssociativeEmbeddingCodec, payload.get("codec", {}), path)
    normalisation = payload.get("normalisation") or {}
    extras = {"codec": codec, "mean_rgb": normalisation["mean_rgb"].to(device),
              "std_rgb": normalisation["std_rgb"].to(device), "epoch": payload.get("epoch"),
              "best_metric": payload.get("best_metric"), "options": payload.get("options", {})}
    return LoadedModel(model, config, extras)
