"""The pull/push loss against hand-computed values; grouping of hand-made heatmaps and tag maps."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from bottom_up.grouping import GroupingSettings, group, group_by_truth
from bottom_up.loss import pull_push


def test_pull_push_hand_computed():
    """Image 0: person A's tags 1 and 3 (mean 2), person B's tag 0 -> pull (1 + 0) / 2, push exp(-4) / 2.
    Image 1: one person with tags 0.5, 0.5, 2 -> pull mean of (0.5 - 1)^2, (0.5 - 1)^2, 1^2 = 0.5, push 0."""
    tags = torch.zeros(2, 17, 4, 4)
    tags[0, 0, 0, 0], tags[0, 1, 0, 1], tags[0, 0, 2, 2] = 1.0, 3.0, 0.0
    tags[1, 0, 1, 1], tags[1, 1, 1, 2], tags[1, 2, 3, 3] = 0.5, 0.5, 2.0
    tags_at = torch.zeros(2, 3, 17, 2, dtype=torch.long)
    tags_at[0, 0, 0], tags_at[0, 0, 1], tags_at[0, 1, 0] = torch.tensor([0, 1]), torch.tensor([1, 1]), torch.tensor([10, 1])
    tags_at[1, 0, 0], tags_at[1, 0, 1], tags_at[1, 0, 2] = torch.tensor([5, 1]), torch.tensor([6, 1]), torch.tensor([15, 1])
    pull, push = pull_push(tags, tags_at)
    assert pull.item() == pytest.approx((0.5 + 0.5) / 2)
    assert push.item() == pytest.approx((math.exp(-4) / 2 + 0.0) / 2)


def test_push_is_zero_for_far_apart_and_one_half_for_equal_tags():
    tags = torch.zeros(1, 17, 2, 2)
    tags[0, 0, 0, 1] = 0.0
    tags_at = torch.zeros(1, 2, 17, 2, dtype=torch.long)
    tags_at[0, 0, 0], tags_at[0, 1, 0] = torch.tensor([0, 1]), torch.tensor([1, 1])  # both people tag 0
    assert pull_push(tags, tags_at)[1].item() == pytest.approx(0.5)
    tags[0, 0, 0, 1] = 100.0
    assert pull_push(tags, tags_at)[1].item() == pytest.approx(0.0)


def two_people_maps(missing: int | None = None):
    """Person 1 at x = 5, person 2 at x = 20, keypoint k at y = k + 2 (one-pixel peaks 0.9 and 0.6); tags 0 and 5."""
    heatmaps, tags = torch.zeros(17, 24, 24), torch.zeros(17, 24, 24, 1)
    for joint in range(17):
        if joint != missing:
            heatmaps[joint, joint + 2, 5] = 0.9
        heatmaps[joint, joint + 2, 20] = 0.6
        tags[joint, :, :12, 0], tags[joint, :, 12:, 0] = 0.1 * (joint % 3), 5.0 + 0.1 * (joint % 2)
    return heatmaps, tags


def test_grouping_two_people_by_tags():
    heatmaps, tags = two_people_maps()
    keypoints, scores = group(heatmaps, tags, GroupingSettings(refine=False))
    assert keypoints.shape == (2, 17, 3)
    order = np.argsort(keypoints[:, 0, 0])
    np.testing.assert_allclose(keypoints[order, :, 0], [[5] * 17, [20] * 17])
    np.testing.assert_allclose(keypoints[order[0], :, 1], np.arange(17) + 2)
    np.testing.assert_allclose(scores[order], [0.9, 0.6], rtol=1e-6)


def test_a_far_tag_starts_a_person_and_refinement_fills_a_missing_keypoint():
    heatmaps, tags = two_people_maps(missing=7)
    heatmaps[7, 9, 5] = 0.3  # weak left elbow of person 1 under the threshold
    keypoints, scores = group(heatmaps, tags, GroupingSettings(detection_threshold=0.4, refine=True))
    first = keypoints[np.argmin(keypoints[:, 0, 0])]
    assert tuple(first[7, :2]) == (5, 9) and first[7, 2] == pytest.approx(0.3)
    assert scores[np.argmin(keypoints[:, 0, 0])] == pytest.approx(0.9 * 16 / 17)  # scored before refinement
    tags[3, :, :12, 0] = 2.5  # person 1's left ear tag far from both means: a third person
    keypoints, _ = group(heatmaps, tags, GroupingSettings(refine=False))
    assert len(keypoints) == 3


def test_ground_truth_grouping_takes_the_nearest_labelled_person():
    heatmaps, _ = two_people_maps()
    truth = np.zeros((2, 17, 3))
    truth[0, :, 0], truth[1, :, 0], truth[:, :, 1], truth[:, :, 2] = 19, 6, np.arange(17) + 2, 2
    keypoints, scores = group_by_truth(heatmaps, truth)
    np.testing.assert_allclose(keypoints[:, :, 0], [[20] * 17, [5] * 17])
    np.testing.assert_allclose(scores, [0.6, 0.9], rtol=1e-6)


def test_more_peaks_than_people_start_new_people():
    """The nose has one peak, the left eye three (tags 0, 5, 9): two new people start at the eye."""
    heatmaps, tags = torch.zeros(17, 16, 16), torch.zeros(17, 16, 16, 1)
    heatmaps[0, 2, 2] = 0.8
    for x, tag in ((2, 0.0), (8, 5.0), (13, 9.0)):
        heatmaps[1, 5, x], tags[1, 5, x, 0] = 0.7, tag
    keypoints, scores = group(heatmaps, tags, GroupingSettings(refine=False))
    assert len(keypoints) == 3
    first = keypoints[np.argmax(keypoints[:, 0, 2])]
    assert tuple(first[1, :2]) == (2, 5) and first[0, 2] == pytest.approx(0.8)


def test_dark_decoder_finds_each_persons_sub_pixel_keypoint():
    """Two people's Gaussian peaks (sigma 2) at sub-pixel positions on every keypoint map: the dark decoder puts
    both within 0.05 px; the quarter step only within 0.25 px of the grid."""
    grid = torch.arange(32, dtype=torch.float32)
    centres = [(6.3, 10.7), (22.6, 9.2)]
    heatmaps, tags = torch.zeros(17, 32, 32), torch.zeros(17, 32, 32, 1)
    for person, (cx, cy) in enumerate(centres):
        blob = torch.exp(-((grid[None, :] - cx) ** 2 + (grid[:, None] - cy) ** 2) / (2 * 2.0 ** 2))
        heatmaps = torch.maximum(heatmaps, blob.expand(17, -1, -1))
        tags[:, :, 16 * person: 16 * (person + 1), 0] = 5.0 * person
    for decoder, tolerance in (("dark", 0.05), ("quarter", 0.36)):
        keypoints, _ = group(heatmaps, tags, GroupingSettings(refine=False, decoder=decoder, sigma=2.0))
        found = keypoints[np.argsort(keypoints[:, 0, 0]), :, :2]
        assert np.abs(found - np.array(centres)[:, None]).max() < tolerance, decoder
    dark, _ = group(heatmaps, tags, GroupingSettings(refine=False, decoder="dark"))
    quarter, _ = group(heatmaps, tags, GroupingSettings(refine=False))
    assert np.abs(dark[..., :2] - quarter[..., :2]).max() > 0.05  # the two decoders differ here


class PointNetwork(torch.nn.Module):
    """A stand-in network: at any input side, every keypoint's heatmap is a Gaussian (sigma 2 cells) at image px
    `point` of a `width` x `height` image letterboxed into the input; tags 0."""

    def __init__(self, point, width, height):
        super().__init__()
        self.point, self.width, self.height = np.asarray(point, dtype=np.float64), width, height

    def forward(self, images):
        from bottom_up.codec import apply_affine, letterbox_matrix

        side = images.shape[-1]
        x, y = (apply_affine(letterbox_matrix(self.width, self.height, side), self.point) - 1.5) / 4
        grid = torch.arange(side // 4, dtype=torch.float32)
        blob = torch.exp(-((grid[None, :] - x) ** 2 + (grid[:, None] - y) ** 2) / 8)
        maps = torch.cat([blob.expand(17, -1, -1), torch.zeros(17, side // 4, side // 4)])
        return {"heatmaps": [maps.expand(len(images), -1, -1, -1)]}


@pytest.mark.parametrize("scales, tolerance", [((1.0,), 0.1), ((2.0,), 0.05), ((1.0, 2.0), 0.3)])
def test_every_test_scale_maps_back_to_the_same_image_point(scales, tolerance):
    """Maps of several scales are joined at the largest one's resolution and mapped back through its letterbox."""
    from bottom_up.codec import AssociativeEmbeddingCodec
    from bottom_up.inference import InferenceSettings, detect_people, image_maps

    point, image = (41.3, 30.7), np.zeros((80, 100, 3), dtype=np.uint8)
    codec = AssociativeEmbeddingCodec(64, 4, 2.0, 30)
    settings = InferenceSettings(False, scales, GroupingSettings(decoder="dark", sigma=2.0))
    network, mean, std = PointNetwork(point, 100, 80), torch.zeros(3), torch.ones(3)
    heatmaps, tags, _ = image_maps(network, image, codec, mean, std, settings)
    assert heatmaps.shape == (17, 16 * max(scales), 16 * max(scales)) and tags.shape[-1] == len(scales)
    keypoints, scores = detect_people(network, image, codec, mean, std, settings)
    assert len(keypoints) == 1 and scores[0] > 0.9
    assert np.abs(keypoints[0, :, :2] - point).max() < tolerance
