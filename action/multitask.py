"""The multitask pose + action network (Luvizon et al., CVPR 2018), built from the stages' parts.

Per frame: hourglass heatmaps and features -> soft-argmax 2D joints (image px) -> lifter -> root-relative 3D (mm);
appearance features: the last stack's features, reduced by a 1x1 convolution, pooled per joint with the joint's
soft-argmax probability map as weights (B, J, C). Over a clip: a pose stream (an `ActionRecognizer` over the
per-frame 3D poses, the model of `train.py action_h36m`, which can start from its checkpoint) and an appearance
stream (an `ActionRecognizer` over the pooled features); the action logits are their sum. Every step is
differentiable, so pose and action losses train the whole network.

FiLM (`film=True`): every batch norm of the lifter loses its own affine and is followed by a per-channel scale and
shift computed from an action embedding: the appearance stream's action probabilities (which do not depend on the
lifter) times a learned (K, E) table. The scale/shift maps start at zero around the batch norm's trained
weight/bias, so a FiLM network starts as the unconditioned one.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from action.checkpoint import KIND as ACTION_KIND
from action.model import ActionConfig, ActionRecognizer
from stacked_hourglass.checkpoint import KIND as HOURGLASS_KIND
from stacked_hourglass.model import normalise_input
from stitched.network import StitchedConfig, StitchedNetwork
from stitched.soft_argmax import soft_argmax_2d, to_image_pixels
from twod_threed.checkpoint import KIND as LIFTER_KIND
from twod_threed.normalization import Normaliser
from utils.checkpoints import LoadedModel, config_from_dict, load_checkpoint, part_entry
from utils.skeletons import MPII_TO_H36M16_2D

KIND = "multitask"


@dataclass
class MultitaskConfig:
    stitched: dict[str, Any] = field(default_factory=dict)  # StitchedConfig fields
    pose_stream: dict[str, Any] = field(default_factory=dict)  # ActionConfig fields (input: 48 H36M16_3D mm)
    appearance_stream: dict[str, Any] = field(default_factory=dict)  # ActionConfig fields (input: J x channels)
    appearance_channels: int = 16
    film: bool = False
    film_embedding: int = 32


class FiLMBatchNorm(nn.Module):
    """BatchNorm1d without affine, then (weight + W_scale e) x + (bias + W_shift e) with e the current condition."""

    def __init__(self, norm: nn.BatchNorm1d, embedding: int):
        super().__init__()
        size = norm.num_features
        self.norm = nn.BatchNorm1d(size, eps=norm.eps, momentum=norm.momentum, affine=False)
        self.norm.running_mean.copy_(norm.running_mean)
        self.norm.running_var.copy_(norm.running_var)
        self.weight = nn.Parameter(norm.weight.detach().clone() if norm.affine else torch.ones(size))
        self.bias = nn.Parameter(norm.bias.detach().clone() if norm.affine else torch.zeros(size))
        self.film = nn.Linear(embedding, 2 * size)
        nn.init.zeros_(self.film.weight)
        nn.init.zeros_(self.film.bias)
        self.condition: torch.Tensor | None = None  # (B, E), set by the network before each lifter pass

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, S)
        assert self.condition is not None and len(self.condition) == len(x), "FiLM needs one condition per row"
        scale, shift = self.film(self.condition).chunk(2, dim=1)  # (B, S) each
        return self.norm(x) * (self.weight + scale) + (self.bias + shift)


def add_film(lifter: nn.Module, embedding: int) -> list[FiLMBatchNorm]:
    """Replace every BatchNorm1d of the lifter by a FiLMBatchNorm (in place); returns them."""
    replaced = []
    for module in list(lifter.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, nn.BatchNorm1d):
                film = FiLMBatchNorm(child, embedding)
                setattr(module, name, film)
                replaced.append(film)
    return replaced


class MultitaskNetwork(nn.Module):
    frozen: tuple[str, ...] = ()  # stage parts ("hourglass", "lifter") kept in eval mode

    def __init__(self, config: MultitaskConfig, stitched: StitchedNetwork):
        super().__init__()
        self.config = config
        self.stitched = stitched
        hourglass = stitched.hourglass.config
        self.reduce = nn.Conv2d(hourglass.features, config.appearance_channels, 1)
        self.pose_stream = ActionRecognizer(ActionConfig(**config.pose_stream))
        self.appearance_stream = ActionRecognizer(ActionConfig(**config.appearance_stream))
        assert self.appearance_stream.config.input_dim == hourglass.num_joints * config.appearance_channels
        self.films = nn.ModuleList(add_film(stitched.lifter, config.film_embedding) if config.film else [])
        classes = self.pose_stream.config.num_classes
        self.action_embedding = nn.Linear(classes, config.film_embedding, bias=False) if config.film else None
        self._features: list[torch.Tensor] = []
        stitched.hourglass.features[-1].register_forward_hook(lambda _m, _i, out: self._features.append(out))

    def train(self, mode: bool = True) -> "MultitaskNetwork":
        super().train(mode)
        for part in self.frozen:
            getattr(self.stitched, part).eval()
        return self

    def frame_outputs(self, images: torch.Tensor, heatmap_to_image: torch.Tensor):
        """(N, 3, R, R) uint8 crops, (N, 2, 3) -> heatmaps (list of (N, J, h, w)), joints_2d_px (N, J, 2) MPII order,
        appearance (N, J * C) pooled features, and the lifter's normalised 2D input (N, 32)."""
        net = self.stitched
        self._features.clear()
        heatmaps = net.hourglass(normalise_input(images, net.mean_rgb, net.std_rgb))["heatmaps"]
        features = self.reduce(self._features.pop())  # (N, C, h, w)
        last = heatmaps[-1].float()
        batch, joints, height, width = last.shape
        weights = torch.softmax(last.reshape(batch, joints, -1) * net.soft_argmax.beta.reshape(-1, 1), dim=-1)
        appearance = torch.einsum("bjp,bcp->bjc", weights, features.float().reshape(batch, features.shape[1], -1))
        coords_hm = soft_argmax_2d(last, net.soft_argmax.beta)  # (N, J, 2) heatmap px
        joints_2d_px = to_image_pixels(coords_hm, heatmap_to_image.float())  # (N, J, 2) image px, MPII order
        lifter_input = net.normaliser.normalise_2d(joints_2d_px[:, list(MPII_TO_H36M16_2D)].float())  # (N, 32)
        return heatmaps, joints_2d_px, appearance.reshape(batch, -1), lifter_input

    def forward(self, images: torch.Tensor, heatmap_to_image: torch.Tensor, frame_index: torch.Tensor,
                lengths: torch.Tensor) -> dict[str, Any]:
        """images (N, 3, R, R) uint8 and heatmap_to_image (N, 2, 3): the valid frames of B clips; frame_index
        (B, T) the row of each clip step in them (-1 after a clip's `lengths` (B,) steps).

        Returns heatmaps, joints_2d_px (N, 16, 2), root_relative_mm (N, 16, 3) H36M16_3D camera frame, and the
        clips' action logits (B, K): pose_logits, appearance_logits and their sum action_logits."""
        heatmaps, joints_2d_px, appearance, lifter_input = self.frame_outputs(images, heatmap_to_image)
        valid = frame_index >= 0  # (B, T)
        rows = frame_index.clamp_min(0)
        appearance_clips = appearance[rows] * valid[..., None]  # (B, T, J * C)
        appearance_logits = self.appearance_stream(appearance_clips, lengths)  # (B, K)
        if self.films:
            condition = self.action_embedding(torch.softmax(appearance_logits.float(), dim=1))  # (B, E)
            clip_of_frame = torch.zeros(len(images), dtype=torch.long, device=images.device)
            clip_of_frame[frame_index[valid]] = torch.nonzero(valid)[:, 0]
            for film in self.films:
                film.condition = condition[clip_of_frame]  # (N, E)
        normaliser = self.stitched.normaliser
        root_relative_mm = normaliser.denormalise_3d(self.stitched.lifter(lifter_input).float())  # (N, 16, 3)
        pose_clips = root_relative_mm.reshape(len(images), -1)[rows] * valid[..., None]  # (B, T, 48)
        pose_logits = self.pose_stream(pose_clips, lengths)
        return {"heatmaps": heatmaps, "joints_2d_px": joints_2d_px, "root_relative_mm": root_relative_mm,
                "pose_logits": pose_logits, "appearance_logits": appearance_logits,
                "action_logits": pose_logits + appearance_logits}


def checkpoint_fields(network: MultitaskNetwork) -> dict[str, Any]:
    """Self-describing fields; the hourglass (and, without FiLM, the lifter) and the pose stream are listed as
    parts, so load_hourglass / load_lifter / load_action_model read them from a multitask checkpoint."""
    stitched = network.stitched
    rgb = {"mean_rgb": stitched.mean_rgb.detach().cpu().clone(), "std_rgb": stitched.std_rgb.detach().cpu().clone()}
    parts = {"hourglass": part_entry(HOURGLASS_KIND, "stitched.hourglass.", dict(stitched.config.hourglass), rgb),
             "pose_stream": part_entry(ACTION_KIND, "pose_stream.", dict(network.config.pose_stream), {})}
    if not network.config.film:
        lifter_normalisation = {k: v.detach().cpu().clone() if isinstance(v, torch.Tensor) else v
                                for k, v in stitched.normaliser.state_dict().items()}
        parts["lifter"] = part_entry(LIFTER_KIND, "stitched.lifter.", dict(stitched.config.lifter),
                                     lifter_normalisation)
    return {"kind": KIND, "model_config": asdict(network.config),
            "normalisation": {"mode": stitched.normalisation_mode}, "parts": parts}


def load_multitask(path: str | Path, device: str | torch.device = "cpu") -> LoadedModel:
    """Rebuild a multitask network from its checkpoint file alone (eval mode)."""
    payload = load_checkpoint(path, kind=KIND)
    config = config_from_dict(MultitaskConfig, payload["model_config"], path)
    state = payload["model_state"]
    normaliser = Normaliser(payload["normalisation"]["mode"], *(state[f"stitched.lifter_{k}"] for k in
                                                                ("mean_2d", "std_2d", "mean_3d", "std_3d")))
    stitched = StitchedNetwork(StitchedConfig(**config.stitched), normaliser, state["stitched.mean_rgb"],
                               state["stitched.std_rgb"])
    network = MultitaskNetwork(config, stitched)
    network.load_state_dict(state)
    return LoadedModel(network.to(device).eval(), config, {"epoch": payload.get("epoch"),
                                                           "best_metric": payload.get("best_metric"),
                                                           "extra": payload.get("extra", {})})
