"""The stitched network: RGB crop -> hourglass heatmaps -> soft-argmax -> image px -> lifter -> 3D mm.

    hourglass (MPII-16 heatmaps) -> soft-argmax (heatmap px) -> inverse crop (image px, MPII order)
      -> MPII -> H36M16_2D joint mapping -> the lifter's input normalisation -> lifter -> root-relative mm

Every step is differentiable, so a 3D loss trains the hourglass too. `stitched.checkpoint` builds it from a
hourglass and a lifter checkpoint, or from one stitched checkpoint, which holds both networks' configs, weights and
statistics.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from stacked_hourglass import transforms
from stacked_hourglass.checkpoint import STRIDE
from stacked_hourglass.model import HourglassConfig, HourglassNet, normalise_input
from stitched.soft_argmax import SoftArgmax, to_image_pixels
from twod_threed.model import Lifter, LifterConfig
from twod_threed.normalization import Normaliser
from utils.skeletons import MPII_TO_H36M16_2D

@dataclass
class StitchedConfig:
    """Both networks' configs plus the soft-argmax temperature; saved in every stitched checkpoint."""

    hourglass: dict[str, Any] = field(default_factory=dict)
    lifter: dict[str, Any] = field(default_factory=dict)
    softargmax_beta: float = 50.0
    learnable_beta: bool = False


class StitchedNetwork(nn.Module):
    """uint8 RGB crops + their heatmap -> image maps -> 2D joints (image px) and root-relative 3D joints (mm)."""

    frozen: tuple[str, ...] = ()  # parts ("hourglass", "lifter") kept in eval mode while the rest trains

    def __init__(self, config: StitchedConfig, normaliser: Normaliser, mean_rgb: torch.Tensor, std_rgb: torch.Tensor):
        super().__init__()
        self.config = config
        self.hourglass = HourglassNet(HourglassConfig(**config.hourglass))
        self.lifter = Lifter(LifterConfig(**config.lifter))
        self.soft_argmax = SoftArgmax(self.hourglass.config.num_joints, config.softargmax_beta, config.learnable_beta)
        self.normalisation_mode = normaliser.mode
        for name, value in normaliser.state_dict().items():
            if isinstance(value, torch.Tensor):
                self.register_buffer(f"lifter_{name}", value.float().clone())
        self.register_buffer("mean_rgb", torch.as_tensor(mean_rgb, dtype=torch.float32).clone())
        self.register_buffer("std_rgb", torch.as_tensor(std_rgb, dtype=torch.float32).clone())

    def train(self, mode: bool = True) -> "StitchedNetwork":
        super().train(mode)
        for part in self.frozen:
            getattr(self, part).eval()
        return self

    @property
    def input_res(self) -> int:
        return self.hourglass.config.input_res

    @property
    def normaliser(self) -> Normaliser:
        """The lifter's normaliser, on this network's device."""
        return Normaliser(self.normalisation_mode, self.lifter_mean_2d, self.lifter_std_2d, self.lifter_mean_3d,
                          self.lifter_std_3d)

    def forward(self, images: torch.Tensor, heatmap_to_image: torch.Tensor) -> dict[str, torch.Tensor]:
        """images: (B, 3, R, R) uint8 RGB crops; heatmap_to_image: (B, 2, 3) heatmap px -> image px.

        Returns heatmaps (list per stack of (B, 16, R/4, R/4)), joints_2d_px (B, 16, 2) MPII order, image px,
        and root_relative_mm (B, 16, 3) in H36M16_3D order, camera frame.
        """
        output = self.hourglass(normalise_input(images, self.mean_rgb, self.std_rgb))
        heatmaps = output["heatmaps"]
        coords_hm = self.soft_argmax(heatmaps[-1])  # (B, 16, 2) heatmap px
        joints_2d_px = to_image_pixels(coords_hm, heatmap_to_image.float())  # (B, 16, 2) MPII order
        joints_h36m = joints_2d_px[:, list(MPII_TO_H36M16_2D)]  # (B, 16, 2) H36M16_2D order
        normaliser = self.normaliser
        lifted = self.lifter(normaliser.normalise_2d(joints_h36m.float()))  # (B, 48)
        return {"heatmaps": heatmaps, "joints_2d_px": joints_2d_px,
                "root_relative_mm": normaliser.denormalise_3d(lifted.float())}


def heatmap_to_image_matrices(image_to_input: np.ndarray, stride: int = STRIDE) -> torch.Tensor:
    """(B, 2, 3) image px -> input px crop matrices to (B, 2, 3) heatmap px -> image px matrices (float32)."""
    image_to_heatmap = transforms.compose(transforms.heatmap_matrix(stride), np.asarray(image_to_input))
    return torch.as_tensor(transforms.invert(image_to_heatmap), dtype=torch.float32)
