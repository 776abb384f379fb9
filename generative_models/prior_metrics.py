"""How good a pose prior is: ROC of real vs corrupted scores, and generated vs real bone lengths. Pure functions."""
from __future__ import annotations

import torch

from generative_models.pose_representation import H36M17_PARENTS, bone_lengths


def roc_auc(positive_scores: torch.Tensor, negative_scores: torch.Tensor) -> float:
    """Area under the ROC curve = P(score of a random positive > score of a random negative), ties counting 1/2.

    positive_scores (P,), negative_scores (N,): higher means "more positive". Computed from ranks
    (Mann-Whitney U), exact, O((P + N) log(P + N)).
    """
    assert positive_scores.dim() == 1 and negative_scores.dim() == 1, "expected 1-D score tensors"
    assert len(positive_scores) > 0 and len(negative_scores) > 0, "need at least one score of each class"
    scores = torch.cat([positive_scores, negative_scores]).double()
    sorted_scores, order = scores.sort()
    ranks = torch.empty_like(scores)
    _, inverse, counts = torch.unique_consecutive(sorted_scores, return_inverse=True, return_counts=True)
    ends = counts.cumsum(0).double()
    mean_rank = ends - (counts.double() - 1) / 2  # average rank of each tie group
    ranks[order] = mean_rank[inverse]
    count_pos, count_neg = len(positive_scores), len(negative_scores)
    u_statistic = ranks[:count_pos].sum() - count_pos * (count_pos + 1) / 2
    return float(u_statistic / (count_pos * count_neg))


def roc_curve(positive_scores: torch.Tensor, negative_scores: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(false positive rates, true positive rates), each (K,), from (0, 0) to (1, 1), thresholds from high to low."""
    scores = torch.cat([positive_scores, negative_scores]).double()
    labels = torch.cat([torch.ones(len(positive_scores)), torch.zeros(len(negative_scores))]).double()
    order = scores.argsort(descending=True)
    true_positives = torch.cat([torch.zeros(1, dtype=torch.float64), labels[order].cumsum(0)])
    false_positives = torch.arange(len(scores) + 1, dtype=torch.float64) - true_positives
    return false_positives / max(len(negative_scores), 1), true_positives / max(len(positive_scores), 1)


def mean_bone_lengths_mm(poses_mm: torch.Tensor) -> torch.Tensor:
    """(N, 17, 3) H36M-17 poses, mm -> (16,) mean length of each bone over the poses, mm."""
    return bone_lengths(poses_mm, H36M17_PARENTS).mean(dim=0)


def bone_length_difference_mm(generated_mm: torch.Tensor, real_mm: torch.Tensor) -> float:
    """Mean over the 16 bones of |mean generated length - mean real length|, mm. Poses (N, 17, 3) and (M, 17, 3)."""
    return float((mean_bone_lengths_mm(generated_mm) - mean_bone_lengths_mm(real_mm)).abs().mean())


def spread_ratio(generated: torch.Tensor, real: torch.Tensor) -> float:
    """Mean pairwise distance of generated poses / that of real poses, (N, 17, 3) and (M, 17, 3) in one
    representation. About 1 when the generator covers the data; near 0 when it collapses onto a few poses."""
    return float(torch.cdist(generated.flatten(1), generated.flatten(1)).mean()
                 / torch.cdist(real.flatten(1), real.flatten(1)).mean())


def coverage_ratio(generated: torch.Tensor, queries: torch.Tensor, references: torch.Tensor) -> float:
    """Mean distance from each query pose to its nearest generated pose, divided by the mean distance to its nearest
    reference pose; poses (N, 17, 3) in one representation, as many generated as reference poses (the first
    min(N, R) of each are used). With held-out real queries and training references: about 1 when the generator
    covers the poses as well as the training set does; larger when it misses some."""
    count = min(len(generated), len(references))
    queries = queries.flatten(1)
    to_generated = torch.cdist(queries, generated[:count].flatten(1)).min(dim=1).values.mean()
    return float(to_generated / torch.cdist(queries, references[:count].flatten(1)).min(dim=1).values.mean())
