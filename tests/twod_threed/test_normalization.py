import pytest
import torch

from twod_threed.normalization import Normaliser, dataset_statistics, per_instance_2d


def _data(count=50, seed=0):
    generator = torch.Generator().manual_seed(seed)
    joints_2d = 500 + 80 * torch.randn(count, 16, 2, generator=generator)
    joints_3d = 300 * torch.randn(count, 16, 3, generator=generator)
    return joints_2d, joints_3d


def test_per_instance_2d_hand_computed():
    # Two joints at (0, 0) and (6, 8) (the rest at the mean (3, 4)): RMS radius = sqrt(2 * 25 / 16).
    joints = torch.full((1, 16, 2), 0.0)
    joints[0, :, 0], joints[0, :, 1] = 3.0, 4.0
    joints[0, 0] = torch.tensor([0.0, 0.0])
    joints[0, 1] = torch.tensor([6.0, 8.0])
    out = per_instance_2d(joints)
    radius = (2 * 25 / 16) ** 0.5
    assert torch.allclose(out[0, 0], torch.tensor([-3.0, -4.0]) / radius)
    assert torch.allclose(out[0, 2], torch.zeros(2))
    assert torch.allclose(out.square().sum(-1).mean(), torch.tensor(1.0))


def test_per_instance_2d_ignores_image_position_and_size():
    joints, _ = _data()
    moved = joints * 2.5 + torch.tensor([100.0, -40.0])
    assert torch.allclose(per_instance_2d(joints), per_instance_2d(moved), atol=1e-5)


@pytest.mark.parametrize("mode", ["per_instance", "dataset"])
def test_round_trip_and_state_dict(mode):
    joints_2d, joints_3d = _data()
    normaliser = Normaliser.from_training_data(joints_2d, joints_3d, mode)
    target = normaliser.normalise_3d(joints_3d)
    assert target.shape == (50, 48)
    assert torch.allclose(normaliser.denormalise_3d(target), joints_3d, atol=1e-3)
    restored = Normaliser.from_state_dict(normaliser.state_dict())
    assert torch.allclose(restored.normalise_2d(joints_2d), normaliser.normalise_2d(joints_2d))
    # Both ends are standardised over the training set (the 2D after the per-pose step in per_instance mode).
    assert torch.allclose(target.mean(0), torch.zeros(48), atol=1e-4)
    assert torch.allclose(target.std(0), torch.ones(48), atol=1e-4)
    inputs = normaliser.normalise_2d(joints_2d)
    assert torch.allclose(inputs.mean(0), torch.zeros(32), atol=1e-4)
    assert torch.allclose(inputs.std(0), torch.ones(32), atol=1e-4)
    moved = normaliser.normalise_2d(joints_2d * 1.5 + 30.0)
    assert torch.allclose(moved, inputs, atol=1e-4) == (mode == "per_instance")


def test_maps_are_differentiable():
    joints_2d, joints_3d = _data(count=4)
    normaliser = Normaliser.from_training_data(joints_2d, joints_3d, "per_instance")
    pixels = joints_2d.clone().requires_grad_(True)
    normaliser.normalise_2d(pixels).square().sum().backward()
    assert pixels.grad is not None and torch.isfinite(pixels.grad).all() and pixels.grad.abs().sum() > 0
    output = torch.randn(4, 48, requires_grad=True)
    normaliser.denormalise_3d(output).sum().backward()
    assert torch.allclose(output.grad, normaliser.std_3d.expand(4, 48))


def test_dataset_statistics_by_hand():
    joints_2d = torch.zeros(2, 16, 2)
    joints_2d[1] = 2.0
    joints_3d = torch.zeros(2, 16, 3)
    joints_3d[1] = 4.0
    stats = dataset_statistics(joints_2d, joints_3d, "dataset")
    assert torch.allclose(stats["mean_2d"], torch.ones(32)) and torch.allclose(stats["mean_3d"], torch.full((48,), 2.0))
    assert torch.allclose(stats["std_3d"], torch.full((48,), 8 ** 0.5))  # unbiased std of {0, 4}
    # Per-pose normalised 2D: two poses, mirror images along x of each other -> mean 0 in x, std |x| sqrt(2).
    joints_2d = torch.zeros(2, 16, 2)
    joints_2d[0, :8, 0], joints_2d[0, 8:, 0] = -1.0, 1.0
    joints_2d[1] = -joints_2d[0]
    stats = dataset_statistics(joints_2d, joints_3d, "per_instance")
    assert torch.allclose(stats["mean_2d"], torch.zeros(32), atol=1e-6)
    assert torch.allclose(stats["std_2d"][0::2], torch.full((16,), 2 ** 0.5))
