"""The bottom-up training loss: masked heatmap MSE plus the associative-embedding grouping loss (Newell et al.,
NeurIPS 2017), summed over the supervised stacks.

Grouping loss of one image with N people (tags h_k(x) read at each labelled keypoint x_nk, person mean
m_n = mean_k h_k(x_nk)):
    pull = 1/N sum_n mean_k (h_k(x_nk) - m_n)^2
    push = 1/(2 N (N-1)) sum_{n != n'} exp(-(m_n - m_n')^2)      (0 for fewer than two people)
as in the authors' code and HigherHRNet's `AELoss('exp')`; images are averaged.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

NUM_KEYPOINTS = 17


@dataclass(frozen=True)
class BottomUpLossSettings:
    heatmap_weight: float = 1.0
    pull_weight: float = 1e-3
    push_weight: float = 1e-3
    intermediate_supervision: bool = True


def masked_heatmap_mse(predicted: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """predicted, target (B, K, H, W); mask (B, H, W) 0 where the loss is left out -> mean squared error."""
    return ((predicted.float() - target) ** 2 * mask[:, None]).mean()


def pull_push(tags: torch.Tensor, tags_at: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """tags (B, K, H, W) one tag per keypoint map; tags_at (B, N, K, 2) flat index and valid flag ->
    (pull, push), each averaged over the images (see the module docstring)."""
    batch, joints = tags.shape[:2]
    flat = tags.float().reshape(batch, joints, -1)  # (B, K, HW)
    index, valid = tags_at[..., 0], tags_at[..., 1].float()  # (B, N, K)
    values = flat.gather(2, index.permute(0, 2, 1)).permute(0, 2, 1)  # (B, N, K)
    counts = valid.sum(-1)  # (B, N)
    people = (counts > 0).float()
    means = (values * valid).sum(-1) / counts.clamp(min=1)  # (B, N)
    pull_each = ((values - means[..., None]) ** 2 * valid).sum(-1) / counts.clamp(min=1)  # (B, N)
    num = people.sum(-1)  # (B,)
    pull = (pull_each * people).sum(-1) / num.clamp(min=1)
    pair = people[:, :, None] * people[:, None, :] * (1 - torch.eye(people.shape[1], device=tags.device))
    diff = means[:, :, None] - means[:, None, :]
    push = (torch.exp(-diff ** 2) * pair).sum((1, 2)) / (num * (num - 1)).clamp(min=1) * 0.5
    return pull.mean(), push.mean()


def bottom_up_loss(stacks: list[torch.Tensor], heatmaps: torch.Tensor, mask: torch.Tensor, tags_at: torch.Tensor,
                   settings: BottomUpLossSettings,
                   teacher_heatmaps: torch.Tensor | None = None, teacher_weight: float = 0.0
                   ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """stacks: each (B, 2K, H, W) network output (K heatmaps, then K tag maps); heatmaps (B, K, H, W) targets.

    With `teacher_heatmaps` the heatmap target is (1 - teacher_weight) x ground truth + teacher_weight x teacher
    (knowledge distillation, Zhang et al. CVPR 2019); the tags keep the ground-truth grouping loss."""
    used = stacks if settings.intermediate_supervision else stacks[-1:]
    target = heatmaps if teacher_heatmaps is None else (1 - teacher_weight) * heatmaps + teacher_weight * teacher_heatmaps
    heatmap_loss = sum(masked_heatmap_mse(out[:, :NUM_KEYPOINTS], target, mask) for out in used)
    pulls, pushes = zip(*(pull_push(out[:, NUM_KEYPOINTS:], tags_at) for out in used))
    pull, push = sum(pulls), sum(pushes)
    loss = settings.heatmap_weight * heatmap_loss + settings.pull_weight * pull + settings.push_weight * push
    return loss, {"heatmap_loss": heatmap_loss.detach(), "pull": pull.detach(), "push": push.detach()}
