import math

import pytest
import torch

from generative_models.pose_representation import (H36M17_PARENTS, body_frame, bone_lengths, bone_vectors,
                                                   canonicalise, chain_matrix, joints_from_bone_vectors,
                                                   normalise_pose, prior_representation, root_relative, with_root)
from tests.generative_models.pose_fixture import OFFSETS_MM, sample_poses


def rest_pose() -> torch.Tensor:
    """(1, 17, 3) the fixture's rest pose in mm, body frame (x right, y forward, z up), root at 1000 mm height."""
    offsets = torch.tensor(OFFSETS_MM, dtype=torch.float64)
    return joints_from_bone_vectors(offsets[1:][None], root_position=torch.tensor([[0.0, 0.0, 1000.0]],
                                                                                   dtype=torch.float64))


def random_rotation(seed: int) -> torch.Tensor:
    q, r = torch.linalg.qr(torch.randn(3, 3, generator=torch.Generator().manual_seed(seed), dtype=torch.float64))
    q = q * torch.sign(torch.diagonal(r))
    return q if torch.det(q) > 0 else -q


def test_bone_vectors_match_hand_values():
    pose = rest_pose()
    bones = bone_vectors(pose)
    assert bones.shape == (1, 16, 3)
    # bone k leads into joint k + 1: root -> r_hip, r_hip -> r_knee, ..., thorax -> neck_nose, ...
    assert torch.allclose(bones[0, 0], torch.tensor([110.0, 0, 0], dtype=torch.float64))
    assert torch.allclose(bones[0, 1], torch.tensor([0.0, 0, -443], dtype=torch.float64))
    assert torch.allclose(bones[0, 8], torch.tensor([0.0, 20, 121], dtype=torch.float64))
    # the left shoulder hangs from the thorax (joint 8): thorax at 1000 + 233 + 257
    assert torch.allclose(pose[0, 11], torch.tensor([-145.0, 0, 1490 - 40], dtype=torch.float64))
    assert torch.allclose(bone_lengths(pose)[0, 1], torch.tensor(443.0, dtype=torch.float64))


def test_chain_matrix_of_a_three_joint_chain_and_a_branch():
    chain = chain_matrix((-1, 0, 1, 0))
    expected = torch.tensor([[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0], [1, 0, 0, 1]], dtype=torch.float32)
    assert torch.equal(chain, expected)


def test_bone_vectors_round_trip():
    poses = torch.from_numpy(sample_poses(5, __import__("numpy").random.default_rng(0)))
    rebuilt = joints_from_bone_vectors(bone_vectors(poses), root_position=poses[:, 0])
    assert torch.allclose(rebuilt, poses, atol=1e-9)


def test_with_root_accepts_16_17_and_flat_joints():
    poses = torch.randn(4, 17, 3)
    centred = root_relative(poses)
    assert torch.equal(with_root(centred), centred)
    assert torch.equal(with_root(centred[:, 1:]), centred)
    assert torch.equal(with_root(centred[:, 1:].reshape(4, 48)), centred)
    assert torch.equal(with_root(centred.reshape(4, 51)), centred)
    with pytest.raises(AssertionError, match="16, 3"):
        with_root(torch.randn(4, 15, 3))


def test_normalised_pose_has_root_zero_and_mean_bone_one():
    poses = torch.from_numpy(sample_poses(6, __import__("numpy").random.default_rng(1)))
    normalised, scale = normalise_pose(poses)
    assert torch.allclose(normalised[:, 0], torch.zeros(6, 3, dtype=poses.dtype))
    assert torch.allclose(bone_lengths(normalised).mean(-1), torch.ones(6, dtype=poses.dtype))
    assert torch.allclose(scale, bone_lengths(poses).mean(-1))


def test_body_frame_of_the_rest_pose_is_the_world_axes():
    right, forward, up = body_frame(rest_pose())
    for axis, expected in ((right, [1.0, 0, 0]), (forward, [0, 1.0, 0]), (up, [0, 0, 1.0])):
        assert torch.allclose(axis[0], torch.tensor(expected, dtype=torch.float64), atol=1e-9)


def test_representation_ignores_rotation_translation_and_size():
    poses = torch.from_numpy(sample_poses(8, __import__("numpy").random.default_rng(2)))
    moved = 1.7 * poses @ random_rotation(3).T + torch.tensor([100.0, -50.0, 30.0], dtype=poses.dtype)
    assert torch.allclose(prior_representation(moved), prior_representation(root_relative(poses)), atol=1e-9)
    # the body frame is a proper rotation: the canonical pose is not mirrored
    canonical = canonicalise(root_relative(poses))
    assert (canonical[:, 1, 0] > 0).all() and (canonical[:, 4, 0] < 0).all()  # right hip on +x, left on -x
    assert math.isclose(float(torch.det(torch.stack(body_frame(poses), -2)).min()), 1.0, rel_tol=1e-9)


def test_representation_is_differentiable():
    poses = torch.randn(3, 16, 3, dtype=torch.float64, requires_grad=True)
    prior_representation(poses * 100).square().sum().backward()
    assert torch.isfinite(poses.grad).all() and poses.grad.abs().sum() > 0
    assert len(H36M17_PARENTS) == 17
