"""The hourglass on clips of K consecutive frames: one network shared by every frame, optionally followed by a
temporal fusion of the last stack's heatmaps across the clip, and its checkpoints.

Fusion: a depthwise 3D convolution per joint over (time, y, x), 3 x 3 x 3 (zero-padded at the clip's ends), added
to the per-frame heatmaps and initialised to zero, so a fused network starts as the frame-wise one and learns how
much the neighbouring frames should move a joint's map. Loss on every frame of the clip (all stacks, the last one
fused).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from stacked_hourglass.model import HourglassConfig, HourglassNet, HourglassOutput
from utils.checkpoints import LoadedModel, config_from_dict, load_checkpoint

KIND = "hourglass_clip"


@dataclass
class ClipHourglassConfig:
    """The shared per-frame hourglass (`hourglass`, HourglassConfig fields), the clip length and the fusion."""

    hourglass: dict = field(default_factory=lambda: asdict(HourglassConfig(num_joints=15)))
    clip_frames: int = 4
    temporal: bool = False
    fusion_width: int = 3  # frames the fusion convolution spans

    def hourglass_config(self) -> HourglassConfig:
        return HourglassConfig(**self.hourglass)


class TemporalFusion(nn.Module):
    """heatmaps (B, K, J, H, W) + depthwise Conv3d over (K, H, W) per joint, zero-initialised: (B, K, J, H, W)."""

    def __init__(self, joints: int, width: int):
        super().__init__()
        self.conv = nn.Conv3d(joints, joints, (width, 3, 3), padding=(width // 2, 1, 1), groups=joints)
        nn.init.zeros_(self.conv.weight)
        nn.init.zeros_(self.conv.bias)

    def forward(self, heatmaps: torch.Tensor) -> torch.Tensor:
        by_joint = heatmaps.transpose(1, 2)  # (B, J, K, H, W)
        return heatmaps + self.conv(by_joint).transpose(1, 2)


class ClipHourglass(nn.Module):
    """images (B, K, 3, R, R) -> HourglassOutput with heatmaps per stack (B x K, J, R/4, R/4), frame-major."""

    def __init__(self, config: ClipHourglassConfig):
        super().__init__()
        self.config = config
        self.hourglass = HourglassNet(config.hourglass_config())
        joints = config.hourglass_config().num_joints
        self.fusion = TemporalFusion(joints, config.fusion_width) if config.temporal else None

    def forward(self, images: torch.Tensor) -> HourglassOutput:
        batch, frames = images.shape[:2]
        output = self.hourglass(images.flatten(0, 1))  # heatmaps: (B K, J, h, w) per stack
        if self.fusion is not None:
            last = output["heatmaps"][-1]
            fused = self.fusion(last.reshape(batch, frames, *last.shape[1:]))  # (B, K, J, h, w)
            output["heatmaps"] = [*output["heatmaps"][:-1], fused.flatten(0, 1)]
        return output


def checkpoint_fields(config: ClipHourglassConfig, mean_rgb: np.ndarray, std_rgb: np.ndarray) -> dict[str, Any]:
    return {"kind": KIND, "model_config": asdict(config), "joint_order": "humaneva15",
            "normalisation": {"mean_rgb": torch.as_tensor(np.asarray(mean_rgb), dtype=torch.float32),
                              "std_rgb": torch.as_tensor(np.asarray(std_rgb), dtype=torch.float32)}}


def load_clip_hourglass(path: str | Path, device: str | torch.device = "cpu") -> LoadedModel:
    """Rebuild from the file alone (eval mode). extras: mean_rgb, std_rgb, input_res, clip_frames, epoch, options."""
    payload = load_checkpoint(path, kind=KIND, map_location="cpu")
    config = config_from_dict(ClipHourglassConfig, payload["model_config"], path)
    config_from_dict(HourglassConfig, config.hourglass, path)  # unknown hourglass fields are an error too
    model = ClipHourglass(config)
    model.load_state_dict(payload["model_state"])
    normalisation = payload["normalisation"]
    extras = {"mean_rgb": normalisation["mean_rgb"].to(device), "std_rgb": normalisation["std_rgb"].to(device),
              "input_res": config.hourglass_config().input_res, "clip_frames": config.clip_frames,
              "epoch": payload.get("epoch"), "best_metric": payload.get("best_metric"),
              "options": payload.get("options", {})}
    return LoadedModel(model.to(device).eval(), config, extras)


def inference_stride(config: ClipHourglassConfig) -> int:
    """Clip stride for prediction: K for the frame-wise network (frames are independent: one pass per frame); with
    the fusion K - 2h (h = fusion_width // 2 frames of context each side, at least 1), so that keeping each frame
    from the clip where it is most central gives every frame its full temporal context except a run's first and
    last h, which keep the zero padding in time that the same frames of a run's first and last training clips
    had."""
    if not config.temporal:
        return config.clip_frames
    return max(1, config.clip_frames - 2 * (config.fusion_width // 2))


@torch.no_grad()
def predict_frames(model: ClipHourglass, crops: np.ndarray, image_to_input: np.ndarray, run: np.ndarray,
                   mean_rgb: torch.Tensor, std_rgb: torch.Tensor, device: torch.device, batch_clips: int = 8,
                   show_progress: bool = False, stride: int | None = None,
                   decode_method: str = "quarter") -> np.ndarray:
    """2D joints (N, J, 2) image px of every frame, each predicted once: overlapping clips of K rows of a run every
    inference_stride rows (the last one ending at the run's end), a frame kept from the clip where it is most
    central (clips.centred_clips); frames of runs shorter than a clip stay NaN. With K >= fusion_width this equals
    fusing the per-frame heatmaps over the whole run. stride: None = inference_stride(model.config) (another value:
    for comparisons); decode_method: heatmaps.decode's. crops (N, R, R, 3) uint8, image_to_input (N, 2, 3)."""
    from tqdm import tqdm

    from stacked_hourglass.checkpoint import STRIDE
    from stacked_hourglass.clips import centred_clips, to_tensor_images
    from stacked_hourglass.heatmaps import decode, heatmap_to_image
    from stacked_hourglass.model import normalise_input

    model.eval()
    frames = model.config.clip_frames
    starts, clip_of_row, position_of_row = centred_clips(run, frames, stride or inference_stride(model.config))
    used = np.unique(clip_of_row[clip_of_row >= 0])  # clips that some frame keeps
    joints = np.full((len(crops), model.config.hourglass_config().num_joints, 2), np.nan)
    for first in tqdm(range(0, len(used), batch_clips), desc="hourglass clips", disable=not show_progress):
        clips = used[first:first + batch_clips]
        rows = starts[clips, None] + np.arange(frames)  # (B, K)
        images = to_tensor_images(crops[rows]).to(device)  # (B, K, 3, R, R)
        flat = normalise_input(images.flatten(0, 1), mean_rgb, std_rgb).reshape(images.shape).float()
        heatmaps = model(flat)["heatmaps"][-1]  # (B K, J, h, w)
        keep = (clip_of_row[rows] == clips[:, None]).reshape(-1)  # (B K,) each frame from its own clip only
        kept_rows = rows.reshape(-1)[keep]
        coords_hm, _ = decode(heatmaps[torch.as_tensor(keep, device=heatmaps.device)], decode_method)
        joints[kept_rows] = heatmap_to_image(coords_hm.cpu().numpy(), image_to_input[kept_rows], STRIDE)
    return joints
