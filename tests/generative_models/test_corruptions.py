import math

import numpy as np
import torch

from generative_models.corruptions import (CORRUPTIONS, LIMBS, corrupt, hyperextend, negative_examples, scale_bones,
                                           swap_left_right)
from generative_models.pose_representation import bone_lengths, bone_vectors, canonicalise, root_relative
from tests.generative_models.pose_fixture import sample_poses


def poses(count=8, seed=0) -> torch.Tensor:
    return torch.from_numpy(sample_poses(count, np.random.default_rng(seed)))


def angle_deg(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    cosine = (a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1))
    return torch.rad2deg(torch.arccos(cosine.clamp(-1, 1)))


def test_scale_bones_lengthens_exactly_the_chosen_bones():
    original = poses()
    mask = torch.zeros(8, 17, dtype=torch.bool)
    mask[:, [12, 13]] = True  # left upper arm and forearm
    scaled = scale_bones(original, mask, 1.3)
    ratio = bone_lengths(scaled) / bone_lengths(original)
    expected = torch.ones(16, dtype=ratio.dtype)
    expected[[11, 12]] = 1.3  # bone k leads into joint k + 1
    assert torch.allclose(ratio, expected.expand(8, 16))
    assert torch.allclose(angle_deg(bone_vectors(scaled), bone_vectors(original)), torch.zeros(8, 16, dtype=ratio.dtype),
                          atol=1e-4)
    assert torch.equal(scaled[:, 0], original[:, 0])


def test_bone_scale_corruption_scales_one_limb_by_1_3():
    original = poses(40)
    ratio = bone_lengths(corrupt(original, "bone_scale", torch.Generator().manual_seed(0))) / bone_lengths(original)
    changed = (ratio - 1).abs() > 1e-9
    assert (changed.sum(-1) == 2).all()
    assert torch.allclose(ratio[changed], torch.full_like(ratio[changed], 1.3))
    limb_bones = {tuple(int(j) - 1 for j in limb[1:]) for limb in LIMBS.values()}
    assert {tuple(torch.nonzero(row).flatten().tolist()) for row in changed} <= limb_bones


def test_swap_is_symmetric_and_moves_only_one_limb_pair():
    original = poses()
    arms = torch.tensor([True, False] * 4)
    swapped = swap_left_right(original, arms)
    assert torch.equal(swap_left_right(swapped, arms), original)
    assert torch.equal(swapped[0, 11:14], original[0, 14:17]) and torch.equal(swapped[0, 14:17], original[0, 11:14])
    assert torch.equal(swapped[0, :11], original[0, :11])
    assert torch.equal(swapped[1, 1:4], original[1, 4:7]) and torch.equal(swapped[1, 7:], original[1, 7:])
    # in the body frame the swapped limb now hangs from the other side
    assert (canonicalise(root_relative(swapped))[0::2, 11, 0] > 0).all()


def test_hyperextension_bends_the_knee_forwards_and_keeps_the_bone():
    # straight legs standing in the rest pose: the knee can only flex backwards
    pose = poses(1)
    straight = pose.clone()
    straight[0, 3] = straight[0, 2] + (straight[0, 2] - straight[0, 1]) / (straight[0, 2] - straight[0, 1]).norm() * 454
    bent = hyperextend(straight, torch.tensor([0]), torch.tensor([math.radians(60.0)], dtype=pose.dtype))
    assert torch.allclose(bone_lengths(bent), bone_lengths(straight))
    assert torch.equal(bent[0, :3], straight[0, :3]) and torch.equal(bent[0, 4:], straight[0, 4:])
    thigh, shin = straight[0, 2] - straight[0, 1], bent[0, 3] - bent[0, 2]
    assert abs(float(angle_deg(thigh, shin)) - 60.0) < 1e-6
    canonical = canonicalise(root_relative(bent))
    assert canonical[0, 3, 1] > canonical[0, 2, 1] + 100  # the foot ends up in front of the knee


def test_hyperextension_of_a_bent_elbow_goes_to_the_other_side():
    original = poses(16, seed=3)
    limb = torch.full((16,), list(LIMBS).index("l_arm"))
    bent = hyperextend(original, limb, torch.full((16,), math.radians(45.0), dtype=original.dtype))
    upper = original[:, 12] - original[:, 11]
    before, after = original[:, 13] - original[:, 12], bent[:, 13] - bent[:, 12]
    flexion = angle_deg(upper, before)
    was_bent = flexion > 20
    assert torch.allclose(angle_deg(upper, after), torch.full((16,), 45.0, dtype=original.dtype), atol=1e-6)
    assert torch.allclose(angle_deg(before, after)[was_bent], flexion[was_bent] + 45.0, atol=1e-6)


def test_every_kind_and_the_training_negatives_change_every_pose():
    original = poses(32)
    for kind in CORRUPTIONS:
        moved = (corrupt(original, kind, torch.Generator().manual_seed(1)) - original).norm(dim=-1).amax(-1)
        assert (moved > 50).all(), kind
    negatives = negative_examples(original, torch.Generator().manual_seed(2))
    assert negatives.shape == original.shape and torch.isfinite(negatives).all()
    assert ((negatives - original).norm(dim=-1).amax(-1) > 10).all()
