import numpy as np
import pytest
import torch

from stacked_hourglass import transforms
from stacked_hourglass.checkpoint import load_hourglass
from stitched.checkpoint import checkpoint_fields, load_stitched, stitch
from stitched.network import heatmap_to_image_matrices
from stitched.train import freeze
from twod_threed.checkpoint import load_lifter
from utils.checkpoints import save_checkpoint
from utils.skeletons import MPII_TO_H36M16_2D


def test_forward_shapes_and_gradient_reaches_both_networks(stage_checkpoints):
    network = stitch(*stage_checkpoints)
    images = torch.randint(0, 255, (2, 3, 64, 64), dtype=torch.uint8)
    matrices = heatmap_to_image_matrices(transforms.crop_matrix(np.array([[50.0, 60.0]] * 2), np.array([80.0] * 2), 64))
    output = network(images, matrices)
    assert output["joints_2d_px"].shape == (2, 16, 2)
    assert output["root_relative_mm"].shape == (2, 16, 3)
    output["root_relative_mm"].square().mean().backward()
    assert network.hourglass.stem[0].weight.grad.abs().sum() > 0  # the 3D loss trains the hourglass
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in network.lifter.parameters() if p.dim() > 1)


def test_2d_joints_land_in_the_image_box(stage_checkpoints):
    network = stitch(*stage_checkpoints).eval()
    center, side = np.array([[300.0, 200.0]]), np.array([100.0])
    matrices = heatmap_to_image_matrices(transforms.crop_matrix(center, side, 64))
    joints = network(torch.zeros(1, 3, 64, 64, dtype=torch.uint8), matrices)["joints_2d_px"][0]
    assert ((joints - torch.tensor([300.0, 200.0])).abs() <= 50.0).all()


def test_lifter_part_equals_the_lifter_checkpoint(stage_checkpoints):
    network = stitch(*stage_checkpoints).eval()
    lifter, _, extras = load_lifter(stage_checkpoints[1])
    normaliser = extras["normaliser"]
    joints_mpii = torch.rand(3, 16, 2) * 100
    expected = normaliser.denormalise_3d(lifter(normaliser.normalise_2d(joints_mpii[:, list(MPII_TO_H36M16_2D)])))
    got = network.normaliser.denormalise_3d(network.lifter(
        network.normaliser.normalise_2d(joints_mpii[:, list(MPII_TO_H36M16_2D)])))
    torch.testing.assert_close(got, expected)


def test_stitched_checkpoint_round_trip(stage_checkpoints, tmp_path):
    network = stitch(*stage_checkpoints, softargmax_beta=20.0, learnable_beta=True)
    save_checkpoint(tmp_path / "s.pt", {**checkpoint_fields(network), "model_state": network.state_dict()})
    again = load_stitched(tmp_path / "s.pt").model
    assert again.config == network.config
    for (name, a), (_, b) in zip(network.state_dict().items(), again.state_dict().items()):
        torch.testing.assert_close(a, b, msg=name)


def test_stage_loaders_read_their_part_of_a_stitched_checkpoint(stage_checkpoints, tmp_path):
    network = stitch(*stage_checkpoints).eval()
    with torch.no_grad():
        network.hourglass.stem[0].weight.mul_(1.5)  # fine-tuned: differs from the stage checkpoint
    save_checkpoint(tmp_path / "s.pt", {**checkpoint_fields(network), "model_state": network.state_dict()})
    hourglass, hourglass_config, hourglass_extras = load_hourglass(tmp_path / "s.pt")
    lifter, _, lifter_extras = load_lifter(tmp_path / "s.pt")
    assert hourglass_extras["part_of"] == lifter_extras["part_of"] == "stitched"
    assert hourglass_config == network.hourglass.config
    for part, loaded in ((network.hourglass, hourglass), (network.lifter, lifter)):
        for name, value in part.state_dict().items():
            torch.testing.assert_close(loaded.state_dict()[name], value, msg=name)
    torch.testing.assert_close(hourglass_extras["mean_rgb"], network.mean_rgb)
    assert lifter_extras["normaliser"].mode == network.normaliser.mode
    torch.testing.assert_close(lifter_extras["normaliser"].mean_3d, network.normaliser.mean_3d)


def test_frozen_hourglass_stays_in_eval_mode_and_gets_no_gradient(stage_checkpoints):
    network = stitch(*stage_checkpoints)
    trainable = freeze(network, hourglass=True, lifter=False)
    network.train()
    assert not network.hourglass.training and network.lifter.training
    assert all(not p.requires_grad for p in network.hourglass.parameters())
    assert len(trainable) == len(list(network.lifter.parameters()))


def test_wrong_checkpoint_kind_is_refused(stage_checkpoints):
    from utils.checkpoints import CheckpointError

    with pytest.raises(CheckpointError, match="expected a 'hourglass'"):
        stitch(stage_checkpoints[1], stage_checkpoints[1])


def test_kept_batch_norm_statistics_do_not_move_while_the_weights_train():
    from stitched.train import keep_running_statistics

    network = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 1), torch.nn.BatchNorm2d(4))
    keep_running_statistics(network)
    before = network[1].running_mean.clone(), network[1].running_var.clone()
    optimizer = torch.optim.SGD(network.parameters(), lr=0.1)
    network.train()
    output = network(torch.randn(4, 3, 5, 5) * 3 + 2)
    torch.testing.assert_close(output.mean((0, 2, 3)), torch.zeros(4), atol=1e-5, rtol=0)  # batch statistics
    output.square().mean().backward()
    optimizer.step()
    torch.testing.assert_close(network[1].running_mean, before[0], rtol=0, atol=0)
    torch.testing.assert_close(network[1].running_var, before[1], rtol=0, atol=0)
    assert network[0].weight.grad is not None
