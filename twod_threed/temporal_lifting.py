"""The temporal lifter's checkpoints, training batches and sequence inference.

    model, config, extras = load_temporal_lifter("best.pt", device)
    root_relative_mm = lift_sequences(model, extras["normaliser"], joints_2d_px, sequence_index, frames)

joints_2d_px: (N, J, 2) px of whole sequences stored one after another (frames 0..L-1 in order, `sequence_index`
(N,)); the result (N, J_out, 3) is root-relative camera-frame mm, one pose per input frame. The normaliser is the
frame-wise lifter's (`normalization.Normaliser`), applied frame by frame.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import torch
from torch import nn

from twod_threed.checkpoint import JOINT_ORDERS
from twod_threed.normalization import Normaliser
from twod_threed.temporal import (TemporalLifter, TemporalLifterConfig, gather_windows, pad_sequence,
                                  target_offset, window_rows)
from utils.checkpoints import CheckpointError, LoadedModel, config_from_dict, config_to_dict, load_checkpoint
from utils.sampling import EpochSampler

KIND = "temporal_lifter"


def checkpoint_fields(config: TemporalLifterConfig, normaliser: Normaliser, extra: dict[str, Any],
                      joint_orders: dict[str, str] | None = None) -> dict[str, Any]:
    """The self-describing part of every temporal lifter checkpoint (`LoopSettings.checkpoint_fields`)."""
    return {"kind": KIND, "model_config": config_to_dict(config), "normalisation": normaliser.state_dict(),
            "joint_orders": dict(joint_orders or JOINT_ORDERS), "extra": extra}


def load_temporal_lifter(path: str | Path, device: str | torch.device = "cpu") -> LoadedModel:
    """Rebuild a trained temporal lifter (eval mode) from its checkpoint alone. extras: normaliser (on `device`),
    joint_orders, epoch, best_metric, options, extra."""
    payload = load_checkpoint(path, kind=KIND, map_location="cpu")
    values = dict(payload["model_config"])
    values["filter_widths"] = tuple(values.get("filter_widths", ()))
    config = config_from_dict(TemporalLifterConfig, values, path)
    if "normalisation" not in payload:
        raise CheckpointError(f"{path}: missing the field 'normalisation' (the statistics that map pixels to the "
                              f"network input and its output to mm)")
    model = TemporalLifter(config)
    model.load_state_dict(payload["model_state"])
    extras = {"normaliser": Normaliser.from_state_dict(payload["normalisation"]).to(device),
              "joint_orders": dict(payload.get("joint_orders", JOINT_ORDERS)), "epoch": payload.get("epoch"),
              "best_metric": payload.get("best_metric"), "options": payload.get("options", {}),
              "extra": payload.get("extra", {})}
    return LoadedModel(model.to(device).eval(), config, extras)


def checkpoint_kind(path: str | Path) -> str | None:
    """The `kind` a checkpoint file declares ('lifter', 'temporal_lifter', ...)."""
    return load_checkpoint(path, map_location="cpu").get("kind")


class TemporalBatches:
    """`make_batches(sampler)`: (windows (B, R, 32), centre 3D targets (B, 48)) for every row of `pairs`-like data:
    joints_2d_px (N, J, 2), root_relative_mm (N, J_out, 3), sequence_index (N,), frames (N,) (rows of a sequence
    stored in frame order). Inputs are normalised once; windows are gathered per step (edge frames repeated)."""

    def __init__(self, joints_2d_px: torch.Tensor, root_relative_mm: torch.Tensor, sequence_index: torch.Tensor,
                 frames: torch.Tensor, normaliser: Normaliser, config: TemporalLifterConfig, device: torch.device):
        self.device = device
        self.first, self.lengths, self.offsets = (t.to(device) for t in window_rows(
            sequence_index, frames, config.receptive_field, config.causal))
        self.sequence_index, self.frames = sequence_index.to(device), frames.to(device)
        normaliser = normaliser.to(device)
        self.inputs = normaliser.normalise_2d(joints_2d_px.to(device))  # (N, 32)
        self.targets = normaliser.normalise_3d(root_relative_mm.to(device))  # (N, 48)

    def __call__(self, sampler: EpochSampler) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for rows in sampler.batches():
            rows = rows.to(self.device)
            windows = gather_windows(self.inputs, rows, self.sequence_index, self.frames, self.first, self.lengths,
                                     self.offsets)  # (B, R, 32)
            yield windows, self.targets[rows]


def temporal_mse_loss(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]):
    windows, targets = batch
    return nn.functional.mse_loss(model(windows)[:, 0], targets), {}  # (B, 1, 48) -> (B, 48)


@torch.no_grad()
def lift_sequences(model: TemporalLifter, normaliser: Normaliser, joints_2d_px: torch.Tensor,
                   sequence_index: torch.Tensor, frames: torch.Tensor) -> torch.Tensor:
    """Whole sequences at once (each padded by its end frames): (N, J, 2) px -> (N, J_out, 3) mm, row order kept."""
    model.eval()
    device = next(model.parameters()).device
    config = model.config
    first, lengths, _ = window_rows(sequence_index.cpu(), frames.cpu(), config.receptive_field, config.causal)
    inputs = normaliser.normalise_2d(joints_2d_px.to(device))  # (N, 32)
    outputs = []
    for start, length in zip(first.tolist(), lengths.tolist()):
        padded = pad_sequence(inputs[start:start + length], config.receptive_field, config.causal)  # (L + R - 1, 32)
        outputs.append(model(padded[None])[0])  # (L, 48)
    if not outputs:
        return torch.zeros(0, config.output_size // 3, 3, device=device)
    return normaliser.denormalise_3d(torch.cat(outputs))  # (N, J_out, 3)


__all__ = ["KIND", "checkpoint_fields", "load_temporal_lifter", "checkpoint_kind", "TemporalBatches",
           "temporal_mse_loss", "lift_sequences", "target_offset"]
