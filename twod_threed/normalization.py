"""Normalisation of the lifter's input (2D px) and output (3D root-relative mm), and its inverse.

Two modes for the 2D input; the 3D output is the same in both. Everything needed to undo them is stored in the
checkpoint (`Normaliser.state_dict()`).

- "per_instance" (default): each 2D pose is centred on the mean of its 16 joints and divided by its RMS radius
  sqrt(mean_j |p_j - centre|^2), which removes its position and size in the image; the result is then standardised
  per dimension with the training set's mean and std of these per-pose normalised coordinates.
- "dataset" (`--dataset_normalization`, the published baseline): the 2D pixels themselves are standardised per
  dimension with the training set's mean and std (position and size in the image are kept).
- 3D output (both modes): root-relative mm standardised per dimension with the training set's mean and std.

Tensors: 2D joints (B, 16, 2) px in H36M16_2D order <-> (B, 32); 3D joints (B, 16, 3) mm in H36M16_3D order,
root-relative, camera frame <-> (B, 48). Every function is a differentiable torch op. Other skeletons (HumanEva-I:
15 joints in, 14 out) work the same way: the joint counts are those of the statistics.
"""
from __future__ import annotations

import torch

MODES = ("per_instance", "dataset")
_MIN_STD = 1e-6


def per_instance_2d(joints_2d_px: torch.Tensor) -> torch.Tensor:
    """(B, J, 2) px -> (B, J, 2): centred on the joints' mean, divided by the RMS distance to it (unitless)."""
    assert joints_2d_px.dim() == 3 and joints_2d_px.shape[-1] == 2, tuple(joints_2d_px.shape)
    centred = joints_2d_px - joints_2d_px.mean(dim=1, keepdim=True)  # (B, J, 2)
    radius = centred.square().sum(-1).mean(-1).sqrt().clamp_min(_MIN_STD)  # (B,)
    return centred / radius[:, None, None]


def dataset_statistics(joints_2d_px: torch.Tensor, root_relative_mm: torch.Tensor,
                       mode: str) -> dict[str, torch.Tensor]:
    """The four statistics of `mode` from training data: joints_2d_px (N, J, 2), root_relative_mm (N, K, 3).

    Returns float32 {mean_2d (32,), std_2d (32,)} of the 2D after the mode's per-pose step (px in "dataset" mode,
    unitless in "per_instance" mode) and {mean_3d (48,), std_3d (48,)} in mm; computed in float64.
    """
    assert mode in MODES, mode
    n = joints_2d_px.shape[0]
    assert root_relative_mm.dim() == 3 and root_relative_mm.shape[0] == n and root_relative_mm.shape[2] == 3
    assert joints_2d_px.dim() == 3 and joints_2d_px.shape[2] == 2
    if mode == "per_instance":
        joints_2d_px = per_instance_2d(joints_2d_px.double())
    flat_2d = joints_2d_px.reshape(n, -1).double()
    flat_3d = root_relative_mm.reshape(n, -1).double()
    return {"mean_2d": flat_2d.mean(0).float(), "std_2d": flat_2d.std(0).clamp_min(_MIN_STD).float(),
            "mean_3d": flat_3d.mean(0).float(), "std_3d": flat_3d.std(0).clamp_min(_MIN_STD).float()}


class Normaliser:
    """Maps 2D px to the network input and the network output back to root-relative mm (differentiable)."""

    def __init__(self, mode: str, mean_2d: torch.Tensor, std_2d: torch.Tensor, mean_3d: torch.Tensor,
                 std_3d: torch.Tensor):
        assert mode in MODES, f"unknown normalisation mode '{mode}' (expected one of {MODES})"
        assert mean_2d.shape == std_2d.shape and mean_3d.shape == std_3d.shape and mean_2d.dim() == 1
        assert mean_2d.shape[0] % 2 == 0 and mean_3d.shape[0] % 3 == 0, (mean_2d.shape, mean_3d.shape)
        self.mode = mode
        self.joints_2d, self.joints_3d = mean_2d.shape[0] // 2, mean_3d.shape[0] // 3  # 16, 16 for Human3.6M
        self.mean_2d, self.std_2d, self.mean_3d, self.std_3d = mean_2d, std_2d, mean_3d, std_3d

    @classmethod
    def from_training_data(cls, joints_2d_px: torch.Tensor, root_relative_mm: torch.Tensor, mode: str) -> Normaliser:
        return cls(mode, **dataset_statistics(joints_2d_px, root_relative_mm, mode))

    @classmethod
    def from_state_dict(cls, state: dict) -> Normaliser:
        return cls(str(state["mode"]), *(torch.as_tensor(state[k]).float()
                                         for k in ("mean_2d", "std_2d", "mean_3d", "std_3d")))

    def state_dict(self) -> dict:
        """What a checkpoint stores under `normalisation`: the mode and four float32 tensors."""
        return {"mode": self.mode, "mean_2d": self.mean_2d.cpu(), "std_2d": self.std_2d.cpu(),
                "mean_3d": self.mean_3d.cpu(), "std_3d": self.std_3d.cpu()}

    def to(self, device: torch.device | str) -> Normaliser:
        return Normaliser(self.mode, *(t.to(device) for t in (self.mean_2d, self.std_2d, self.mean_3d, self.std_3d)))

    def normalise_2d(self, joints_2d_px: torch.Tensor) -> torch.Tensor:
        """(B, 16, 2) px, H36M16_2D order -> (B, 32) network input."""
        assert joints_2d_px.dim() == 3 and joints_2d_px.shape[1:] == (self.joints_2d, 2), tuple(joints_2d_px.shape)
        if self.mode == "per_instance":
            joints_2d_px = per_instance_2d(joints_2d_px)
        flat = joints_2d_px.reshape(-1, 2 * self.joints_2d)  # (B, 32)
        return (flat - self.mean_2d.to(flat)) / self.std_2d.to(flat)

    def normalise_3d(self, root_relative_mm: torch.Tensor) -> torch.Tensor:
        """(B, 16, 3) root-relative mm, H36M16_3D order -> (B, 48) network target."""
        assert root_relative_mm.dim() == 3 and root_relative_mm.shape[1:] == (self.joints_3d, 3), \
            tuple(root_relative_mm.shape)
        flat = root_relative_mm.reshape(-1, 3 * self.joints_3d)  # (B, 48)
        return (flat - self.mean_3d.to(flat)) / self.std_3d.to(flat)

    def denormalise_3d(self, output: torch.Tensor) -> torch.Tensor:
        """(B, 48) network output -> (B, 16, 3) root-relative mm, camera frame, H36M16_3D order."""
        assert output.dim() == 2 and output.shape[1] == 3 * self.joints_3d, tuple(output.shape)
        return (output * self.std_3d.to(output) + self.mean_3d.to(output)).reshape(-1, self.joints_3d, 3)
