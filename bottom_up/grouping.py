"""Grouping keypoint detections into people by their tags (Newell et al. 2017; the HigherHRNet decoder).

1. Peaks: max-pool NMS on each keypoint's heatmap, the `max_people` strongest per keypoint.
2. Matching, keypoint by keypoint (head and shoulders first): each peak above `detection_threshold` is assigned to
   a person by the Hungarian algorithm on the tag distance to the person's mean tag (rounded, minus the peak's
   score, so among equally close people the stronger peak wins); a distance above `tag_threshold` starts a person.
3. Refinement (optional): a person's missing keypoints are taken at the maximum of heatmap - |tag - person tag|.
4. Score: the mean heatmap value over the 17 keypoints (before refinement).
5. Sub-pixel position: a quarter pixel towards the higher neighbour (the authors' decoder) or DARK's Taylor step on
   the blurred log-heatmap (`decoder`, the single-person hourglass's two decoders).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment

from stacked_hourglass.heatmaps import DECODERS, dark_steps, quarter_steps

JOINT_ORDER = (0, 1, 2, 3, 4, 5, 6, 11, 12, 7, 8, 9, 10, 13, 14, 15, 16)


@dataclass(frozen=True)
class GroupingSettings:
    max_people: int = 30
    detection_threshold: float = 0.1
    tag_threshold: float = 1.0
    nms_kernel: int = 5
    refine: bool = True
    decoder: str = "quarter"  # stacked_hourglass.heatmaps.DECODERS
    sigma: float = 2.0  # the training targets' Gaussian, heatmap px (the dark decoder blurs with it)

    def __post_init__(self):
        assert self.decoder in DECODERS, f"decoder must be one of {DECODERS}, got {self.decoder!r}"


def top_peaks(heatmaps: torch.Tensor, tags: torch.Tensor, settings: GroupingSettings
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """heatmaps (K, H, W), tags (K, H, W, T) -> values (K, M), positions (K, M, 2) x, y, tags (K, M, T)."""
    joints, height, width = heatmaps.shape
    pooled = F.max_pool2d(heatmaps[None], settings.nms_kernel, 1, settings.nms_kernel // 2)[0]
    kept = heatmaps * (pooled == heatmaps).float()
    count = min(settings.max_people, height * width)
    values, index = kept.reshape(joints, -1).topk(count, dim=1)  # (K, M)
    flat_tags = tags.reshape(joints, height * width, -1)
    picked = flat_tags.gather(1, index[..., None].expand(-1, -1, flat_tags.shape[-1]))  # (K, M, T)
    positions = torch.stack([index % width, index // width], -1)
    return values.numpy(), positions.numpy(), picked.numpy()


def match(values: np.ndarray, positions: np.ndarray, tags: np.ndarray, settings: GroupingSettings) -> np.ndarray:
    """Peaks (K, M), (K, M, 2), (K, M, T) -> people (N, K, 3 + T): x, y, value, tag (value 0: keypoint missing)."""
    joints, _, tag_dim = tags.shape
    people: list[np.ndarray] = []
    person_tags: list[list[np.ndarray]] = []
    for joint in JOINT_ORDER:
        chosen = values[joint] > settings.detection_threshold
        if not chosen.any():
            continue
        joint_values, joint_positions, joint_tags = values[joint][chosen], positions[joint][chosen], tags[joint][chosen]
        rows = np.concatenate([joint_positions, joint_values[:, None], joint_tags], axis=1)  # (m, 3 + T)
        if not people:
            for row, tag in zip(rows, joint_tags):
                people.append(_new_person(joints, tag_dim, joint, row))
                person_tags.append([tag])
            continue
        means = np.stack([np.mean(t, axis=0) for t in person_tags])  # (n, T)
        distance = np.linalg.norm(joint_tags[:, None] - means[None], axis=2)  # (m, n)
        cost = np.round(distance) * 100 - joint_values[:, None]
        if len(rows) > len(people):  # room for every peak to start a new person
            cost = np.concatenate([cost, np.full((len(rows), len(rows) - len(people)), 1e10)], axis=1)
        assigned_rows, assigned_cols = linear_sum_assignment(cost)
        existing = len(people)  # columns past it are the padding for new people
        for r, c in zip(assigned_rows, assigned_cols):
            if c < existing and distance[r, c] < settings.tag_threshold:
                people[c][joint] = rows[r]
                person_tags[c].append(joint_tags[r])
            else:
                people.append(_new_person(joints, tag_dim, joint, rows[r]))
                person_tags.append([joint_tags[r]])
    return np.stack(people) if people else np.zeros((0, joints, 3 + tag_dim))


def _new_person(joints: int, tag_dim: int, joint: int, row: np.ndarray) -> np.ndarray:
    person = np.zeros((joints, 3 + tag_dim))
    person[joint] = row
    return person


def sub_pixel(people: np.ndarray, heatmaps: np.ndarray, settings: GroupingSettings) -> np.ndarray:
    """Found keypoints (N, K, >=3) at integer heatmap px -> the same at sub-pixel positions (`settings.decoder`)."""
    if not len(people):
        return people
    maps = torch.from_numpy(np.ascontiguousarray(heatmaps, dtype=np.float32))[None]  # (1, K, H, W)
    x, y = (torch.from_numpy(people[..., axis].T.astype(np.int64))[None] for axis in (0, 1))  # (1, K, N)
    steps = quarter_steps(maps, x, y) if settings.decoder == "quarter" else dark_steps(maps, x, y, settings.sigma)
    out = people.copy()
    out[..., :2] += steps[0].permute(1, 0, 2).numpy() * (people[..., 2:3] > 0)
    return out


def refine(people: np.ndarray, heatmaps: np.ndarray, tags: np.ndarray) -> np.ndarray:
    """Fill each person's missing keypoints at the maximum of heatmap - round(|tag - person's mean tag|).

    people (N, K, 3 + T); heatmaps (K, H, W); tags (K, H, W, T)."""
    out = people.copy()
    joints, height, width = heatmaps.shape
    for person in out:
        found = person[:, 2] > 0
        if not found.any():
            continue
        mean_tag = person[found, 3:].mean(0)  # (T,)
        for joint in np.flatnonzero(~found):
            score = heatmaps[joint] - np.round(np.linalg.norm(tags[joint] - mean_tag, axis=-1))
            y, x = np.unravel_index(np.argmax(score), score.shape)
            person[joint, :3] = (x, y, heatmaps[joint, y, x])
    return out


def group(heatmaps: torch.Tensor, tags: torch.Tensor, settings: GroupingSettings = GroupingSettings()
          ) -> tuple[np.ndarray, np.ndarray]:
    """heatmaps (K, H, W), tags (K, H, W, T) -> keypoints (N, K, 3) heatmap px x, y and value; scores (N,)."""
    values, positions, peak_tags = top_peaks(heatmaps.float(), tags.float(), settings)
    people = match(values, positions, peak_tags, settings)
    if not len(people):
        return np.zeros((0, heatmaps.shape[0], 3)), np.zeros(0)
    maps = heatmaps.float().numpy()
    scores = people[..., 2].mean(1)
    if settings.refine:
        people = refine(people, maps, tags.float().numpy())
    people = sub_pixel(people, maps, settings)
    return people[..., :3], scores


def group_by_truth(heatmaps: torch.Tensor, truth_hm: np.ndarray, settings: GroupingSettings = GroupingSettings()
                   ) -> tuple[np.ndarray, np.ndarray]:
    """The grouping oracle: each peak goes to the labelled person whose same keypoint is nearest (the strongest
    peak per person and keypoint wins); what is left is the detector's error. truth_hm (P, K, 3) heatmap px."""
    values, positions, _ = top_peaks(heatmaps.float(), heatmaps.float()[..., None], settings)
    joints = heatmaps.shape[0]
    people = np.zeros((len(truth_hm), joints, 3))
    for joint in range(joints):
        labelled = truth_hm[:, joint, 2] > 0
        if not labelled.any():
            continue
        for value, position in zip(values[joint], positions[joint]):
            if value <= settings.detection_threshold:
                continue
            distance = np.linalg.norm(truth_hm[:, joint, :2] - position, axis=1)
            distance[~labelled] = np.inf
            nearest = int(np.argmin(distance))
            if value > people[nearest, joint, 2]:
                people[nearest, joint] = (*position, value)
    kept = (people[..., 2] > 0).any(1)
    people = people[kept]
    scores = people[..., 2].mean(1)
    return sub_pixel(people, heatmaps.float().numpy(), settings), scores
