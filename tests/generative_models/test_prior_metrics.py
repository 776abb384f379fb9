import pytest
import torch

from generative_models.pose_representation import joints_from_bone_vectors
from generative_models.prior_metrics import (bone_length_difference_mm, coverage_ratio, mean_bone_lengths_mm, roc_auc,
                                             roc_curve, spread_ratio)
from tests.generative_models.pose_fixture import OFFSETS_MM


def test_roc_auc_hand_values():
    assert roc_auc(torch.tensor([3.0, 2.0]), torch.tensor([1.0, 0.0])) == 1.0
    assert roc_auc(torch.tensor([0.0]), torch.tensor([1.0])) == 0.0
    # pairs (pos, neg): (2,1) win, (2,3) loss, (4,1) win, (4,3) win -> 3/4
    assert roc_auc(torch.tensor([2.0, 4.0]), torch.tensor([1.0, 3.0])) == 0.75
    # ties count one half: (1,1) tie, (1,0) win, (1,1) tie, (1,0) win -> 3/4
    assert roc_auc(torch.tensor([1.0, 1.0]), torch.tensor([1.0, 0.0])) == 0.75


def test_roc_curve_runs_from_corner_to_corner():
    false_positive, true_positive = roc_curve(torch.tensor([3.0, 1.0]), torch.tensor([2.0, 0.0]))
    assert false_positive.tolist() == [0.0, 0.0, 0.5, 0.5, 1.0]
    assert true_positive.tolist() == [0.0, 0.5, 0.5, 1.0, 1.0]


def test_bone_length_difference_hand_value():
    offsets = torch.tensor(OFFSETS_MM, dtype=torch.float32)[1:]  # (16, 3) bone vectors of the rest pose, mm
    real = joints_from_bone_vectors(offsets.expand(3, 16, 3))
    longer = offsets.clone()
    longer[1] *= (443.0 + 32.0) / 443.0  # thigh 32 mm longer
    generated = joints_from_bone_vectors(longer[None])
    assert mean_bone_lengths_mm(real)[1].item() == 443.0
    assert abs(bone_length_difference_mm(generated, real) - 32.0 / 16) < 1e-4


def test_spread_and_coverage_ratios():
    real = torch.randn(400, 17, 3, generator=torch.Generator().manual_seed(0))
    collapsed = real[:1].expand(400, 17, 3)
    assert spread_ratio(real.flip(0), real) == pytest.approx(1.0)
    assert spread_ratio(collapsed, real) == 0.0
    fresh = torch.randn(400, 17, 3, generator=torch.Generator().manual_seed(1))
    queries = torch.randn(100, 17, 3, generator=torch.Generator().manual_seed(2))
    assert 0.9 < coverage_ratio(fresh, queries, real) < 1.1
    assert coverage_ratio(real, queries, real) == 1.0
    assert coverage_ratio(collapsed, queries, real) > 1.2
