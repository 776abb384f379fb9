"""Pose-prior checkpoints (`train.py 3d_pose_gan`): what they hold and the loaders of their two players.

model_state / optimizer_state / scaler_state are {"generator": ..., "critic": ...} (the shared loop's layout for
several models); normalisation holds the training poses' mean bone length (mm; generated poses have mean bone
length 1) and the critic's score statistics on training poses (mean, std), which calibrate `PosePrior.score`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from generative_models.fc_gan import Critic, GanConfig, Generator
from utils.checkpoints import CheckpointError, LoadedModel, config_from_dict, config_to_dict, load_checkpoint

KIND = "pose_gan"
REPRESENTATION = "h36m17 joints, root-relative, divided by the mean bone length, in the pelvis/torso frame"


def checkpoint_fields(config: GanConfig, mean_bone_length_mm: float, score_stats: torch.Tensor) -> dict[str, Any]:
    """The self-describing part of a pose-prior checkpoint; score_stats: (2,) critic score mean and std."""
    return {"kind": KIND, "model_config": config_to_dict(config),
            "normalisation": {"mean_bone_length_mm": torch.tensor(mean_bone_length_mm),
                              "score_mean": score_stats[0].clone(), "score_std": score_stats[1].clone()},
            "extra": {"representation": REPRESENTATION, "joint_set": "h36m17"}}


def load_player(path: str | Path, name: str, device: str | torch.device = "cpu") -> LoadedModel:
    """One player ('critic' or 'generator') of a pose_gan checkpoint, in eval mode on `device`; clear errors for
    missing, foreign or mismatched files.

    Returns (model, config, extras). extras: mean_bone_length_mm, score_mean, score_std (floats), epoch,
    best_metric (generated bone-length error, mm), options."""
    payload = load_checkpoint(path, kind=KIND, map_location="cpu")
    states = payload["model_state"]
    if not isinstance(states, dict) or name not in states:
        raise CheckpointError(f"{path}: 'model_state' has no '{name}' entry; is this a 3d_pose_gan checkpoint?")
    config = config_from_dict(GanConfig, payload["model_config"], path)
    player = {"critic": Critic, "generator": Generator}[name](config)
    try:
        player.load_state_dict(states[name])
    except RuntimeError as error:
        raise CheckpointError(f"{path}: the {name} weights do not fit its model_config: "
                              f"{str(error).splitlines()[0]}") from error
    stats = payload.get("normalisation", {})
    extras = {"mean_bone_length_mm": float(stats.get("mean_bone_length_mm", 1.0)),
              "score_mean": float(stats.get("score_mean", 0.0)), "score_std": float(stats.get("score_std", 1.0)),
              "epoch": payload.get("epoch"), "best_metric": payload.get("best_metric"),
              "options": payload.get("options", {})}
    return LoadedModel(player.to(device).eval(), config, extras)


def load_generator(path: str | Path, device: str | torch.device = "cpu") -> LoadedModel:
    """The generator of a pose_gan checkpoint; multiply its poses by extras['mean_bone_length_mm'] to get mm."""
    return load_player(path, "generator", device)
