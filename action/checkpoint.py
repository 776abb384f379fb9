"""Action recogniser checkpoints and inference over clips.

    model, config, extras = load_action_model("best.pt", device)
    scores = predict_scores(model, clips)            # (C, 15) probabilities

extras: feature_kind ('3d': H36M16_3D mm | '2d': hip-relative H36M16_2D px), clips (clip_frames, stride,
frame_step of training), class_names, epoch, best_metric (test top-1), options.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from action.clips import ClipSet
from action.model import ActionConfig, ActionRecognizer
from utils.checkpoints import CheckpointError, LoadedModel, config_from_dict, config_to_dict, load_checkpoint

KIND = "action_recognizer"


def checkpoint_fields(config: ActionConfig, feature_kind: str, clips: dict[str, int], class_names: list[str],
                      extra: dict[str, Any]) -> dict[str, Any]:
    """The self-describing part of every action checkpoint (the statistics are model buffers)."""
    return {"kind": KIND, "model_config": config_to_dict(config), "feature_kind": feature_kind, "clips": clips,
            "class_names": list(class_names), "extra": extra}


def load_action_model(path: str | Path, device: str | torch.device = "cpu") -> LoadedModel:
    """Rebuild the trained recogniser (eval mode) from a checkpoint file alone (or the action part of a composite)."""
    payload = load_checkpoint(path, kind=KIND, map_location="cpu", part=True)
    config = config_from_dict(ActionConfig, payload["model_config"], path)
    model = ActionRecognizer(config)
    try:
        model.load_state_dict(payload["model_state"])
    except RuntimeError as error:
        raise CheckpointError(f"{path}: model_state does not fit its model_config ({error})") from error
    extras = {"feature_kind": payload.get("feature_kind", "3d"), "clips": payload.get("clips", {}),
              "class_names": payload.get("class_names"), "epoch": payload.get("epoch"),
              "best_metric": payload.get("best_metric"), "options": payload.get("options", {})}
    return LoadedModel(model.to(device).eval(), config, extras)


@torch.no_grad()
def predict_scores(model: ActionRecognizer, clips: ClipSet, batch_size: int = 256) -> torch.Tensor:
    """(C, K) softmax probabilities of every clip (eval mode), in clip order."""
    model.eval()
    device = next(model.parameters()).device
    scores = []
    for index in torch.arange(len(clips)).split(batch_size):
        features, lengths = clips.batch(index)
        scores.append(torch.softmax(model(features.to(device), lengths).float(), dim=1).cpu())
    return torch.cat(scores) if scores else torch.zeros(0, model.config.num_classes)
