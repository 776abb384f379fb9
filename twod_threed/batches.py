"""Lifter training batches: slices of whole-dataset tensors held on the device, optionally re-augmented each step
(orthogonal augmentation: rotation about the root, left/right mirror, re-projection), normalised; and the MSE loss."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import torch
from torch import nn

from twod_threed.augmentation import augment_orthogonal
from twod_threed.data import PosePairs
from twod_threed.normalization import Normaliser
from utils.sampling import EpochSampler


@dataclass
class Augmentation:
    flip_prob: float
    z_rotations_only: bool


class LifterBatches:
    """`make_batches(sampler)`: (input (B, 32), target (B, 48)) slices of whole-dataset tensors on `device`."""

    def __init__(self, pairs: PosePairs, normaliser: Normaliser, device: torch.device,
                 augmentation: Augmentation | None = None):
        self.normaliser, self.augmentation, self.device = normaliser.to(device), augmentation, device
        if augmentation is None:  # nothing changes between epochs: normalise once
            self.inputs = self.normaliser.normalise_2d(pairs.joints_2d_px.to(device))  # (N, 32)
            self.targets = self.normaliser.normalise_3d(pairs.root_relative_mm.to(device))  # (N, 48)
        else:
            self.root_relative_mm = pairs.root_relative_mm.to(device)  # (N, 16, 3)
            self.root_camera_mm = pairs.root_camera_mm.to(device)  # (N, 3)
            self.intrinsics = pairs.intrinsics.to(device)[pairs.sequence_index.to(device)]  # (N, 9)
            self.up_camera = pairs.up_camera.to(device)[pairs.sequence_index.to(device)]  # (N, 3)

    def __call__(self, sampler: EpochSampler) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for index in sampler.batches():
            index = index.to(self.device)
            if self.augmentation is None:
                yield self.inputs[index], self.targets[index]
                continue
            joints_2d_px, root_relative_mm = augment_orthogonal(
                self.root_relative_mm[index], self.root_camera_mm[index], self.intrinsics[index],
                self.up_camera[index], self.augmentation.flip_prob, self.augmentation.z_rotations_only)
            yield self.normaliser.normalise_2d(joints_2d_px), self.normaliser.normalise_3d(root_relative_mm)


def mse_loss(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]):
    inputs, targets = batch
    return nn.functional.mse_loss(model(inputs), targets), {}
