"""The hourglass training loss: weighted heatmap MSE over the supervised stacks, plus the optional visibility BCE."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from stacked_hourglass.heatmaps import gaussian_targets
from stacked_hourglass.model import HourglassOutput


@dataclass(frozen=True)
class LossSettings:
    heatmap_res: int
    sigma: float = 1.0
    intermediate_supervision: bool = True
    visibility_coeff: float = 0.0  # 0: no visibility term


def heatmap_mse(predicted: torch.Tensor, target: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Mean squared error over (B, J, H, W), each joint's map weighted by weights (B, J)."""
    return ((predicted.float() - target) ** 2 * weights[..., None, None]).mean()


def hourglass_loss(output: HourglassOutput, joints_hm: torch.Tensor, annotated: torch.Tensor, visible: torch.Tensor,
                   settings: LossSettings, teacher_heatmaps: torch.Tensor | None = None, teacher_weight: float = 0.0
                   ) -> tuple[torch.Tensor, dict[str, torch.Tensor], torch.Tensor]:
    """output: the network's HourglassOutput; joints_hm (B, J, 2) heatmap px; annotated, visible (B, J).
    teacher_heatmaps (B, J, H, W): distillation (Zhang et al. CVPR 2019), the target becomes
    (1 - teacher_weight) x ground truth + teacher_weight x teacher.
    Returns (loss, logs, target heatmaps (B, J, H, W))."""
    targets, weights = gaussian_targets(joints_hm, annotated, settings.heatmap_res, settings.sigma)
    if teacher_heatmaps is not None:
        targets = (1 - teacher_weight) * targets + teacher_weight * teacher_heatmaps.float()
    stacks = output["heatmaps"] if settings.intermediate_supervision else output["heatmaps"][-1:]
    heatmap_loss = sum(heatmap_mse(h, targets, weights) for h in stacks)
    logs = {"heatmap_loss": heatmap_loss.detach()}
    loss = heatmap_loss
    if settings.visibility_coeff > 0 and "visibility_logits" in output:
        logits = output["visibility_logits"]
        logits = logits if settings.intermediate_supervision else logits[-1:]
        mask = (annotated > 0).float()
        visibility_loss = sum(
            (F.binary_cross_entropy_with_logits(l.float(), visible.float(), reduction="none") * mask).sum()
            / mask.sum().clamp_min(1.0) for l in logits)
        logs["visibility_loss"] = visibility_loss.detach()
        loss = loss + settings.visibility_coeff * visibility_loss
    return loss, logs, targets
