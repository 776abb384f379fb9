import numpy as np
import pytest
import torch

from stacked_hourglass import transforms
from stacked_hourglass.heatmaps import decode, flip_back, flip_test, gaussian_targets, heatmap_to_image
from utils.skeletons import MPII


def test_gaussian_values_by_hand():
    joints = torch.tensor([[[3.0, 2.0], [1.5, 1.0]]])
    heatmaps, weights = gaussian_targets(joints, torch.ones(1, 2), 8, sigma=1.0)
    assert heatmaps.shape == (1, 2, 8, 8) and weights.tolist() == [[1.0, 1.0]]
    assert heatmaps[0, 0, 2, 3] == 1.0  # peak 1 at (x=3, y=2)
    assert heatmaps[0, 0, 3, 4] == pytest.approx(np.exp(-1.0))  # one px away on both axes: exp(-(1+1)/2)
    assert heatmaps[0, 1, 1, 1] == pytest.approx(np.exp(-0.125))  # half a pixel from the sub-pixel centre


def test_target_weights_zero_outside_the_crop_or_unannotated():
    joints = torch.tensor([[-0.6, 3.0], [3.0, 8.5], [7.4, 0.0], [-0.4, 7.4], [3.0, 3.0]])
    annotated = torch.tensor([1.0, 1.0, 1.0, 1.0, 0.0])
    heatmaps, weights = gaussian_targets(joints, annotated, 8)
    assert weights.tolist() == [0.0, 0.0, 1.0, 1.0, 0.0]
    assert heatmaps[[0, 1, 4]].abs().sum() == 0 and (heatmaps[[2, 3]].amax((-1, -2)) > 0.5).all()


def test_encode_decode_round_trip_is_sub_pixel():
    rng = np.random.default_rng(0)
    joints = torch.from_numpy(rng.uniform(1.0, 62.0, size=(8, 16, 2))).float()
    heatmaps, _ = gaussian_targets(joints, torch.ones(8, 16), 64)
    coords, peaks = decode(heatmaps)
    error = (coords - joints).abs()
    assert error.max() <= 0.5 and error.mean() < 0.2  # argmax alone: up to 0.5, mean 0.25
    # On the grid the quarter step is not taken (equal neighbours): exact.
    on_grid = torch.tensor([[[5.0, 7.0]]])
    assert decode(gaussian_targets(on_grid, torch.ones(1, 1), 16)[0])[0].tolist() == [[[5.0, 7.0]]]
    assert decode(gaussian_targets(torch.tensor([[[5.3, 7.0]]]), torch.ones(1, 1), 16)[0])[0].tolist() == \
        [[[5.25, 7.0]]]


def test_dark_decoding_recovers_gaussian_centres_exactly():
    # A Gaussian's logarithm is a quadratic, and so is the blurred one's: the Taylor step lands on the centre.
    rng = np.random.default_rng(2)
    joints = torch.from_numpy(rng.uniform(6.0, 26.0, size=(4, 16, 2))).float()
    heatmaps, _ = gaussian_targets(joints, torch.ones(4, 16), 32)
    coords, peaks = decode(heatmaps, "dark")
    assert (coords - joints).abs().max() < 1e-3
    torch.testing.assert_close(peaks, heatmaps.flatten(2).amax(-1))
    # Quarter steps are at best 0.25 px from an off-grid centre.
    assert (decode(heatmaps)[0] - joints).abs().mean() > 0.05


def test_dark_decoding_keeps_the_argmax_where_the_map_is_not_a_peak():
    flat = torch.zeros(1, 1, 8, 8)
    flat[0, 0, 3, 5] = 1.0  # a single hot pixel: blurred, a Gaussian at the pixel centre
    assert decode(flat, "dark")[0].tolist() == [[[5.0, 3.0]]]
    uniform = torch.ones(1, 1, 8, 8)  # no curvature: the argmax (first pixel) stays
    assert decode(uniform, "dark")[0].tolist() == [[[0.0, 0.0]]]


def test_flip_back_of_a_mirrored_target_is_the_target():
    rng = np.random.default_rng(1)
    joints = rng.uniform(0, 31, size=(2, 16, 2))
    # The input mirrored about its centre (u -> R - 1 - u) has heatmap joints h -> 31 - h, left/right swapped.
    mirrored = joints[:, MPII.flip_permutation()].copy()
    mirrored[..., 0] = 31 - mirrored[..., 0]
    target = gaussian_targets(torch.from_numpy(joints).float(), torch.ones(2, 16), 32)[0]
    target_of_mirror = gaussian_targets(torch.from_numpy(mirrored).float(), torch.ones(2, 16), 32)[0]
    torch.testing.assert_close(flip_back(target_of_mirror), target)


def test_flip_test_is_symmetric():
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(3, 16, 3, padding=1)
    predict = lambda images: conv(images)  # not mirror-symmetric
    images = torch.randn(2, 3, 16, 16)
    averaged = flip_test(predict, images)
    # The flip-test prediction of the mirrored images is the mirror of the flip-test prediction.
    torch.testing.assert_close(flip_test(predict, images.flip(-1)), flip_back(averaged), atol=1e-6, rtol=1e-5)


def test_heatmap_to_image_inverts_the_crop():
    rng = np.random.default_rng(2)
    joints_px = rng.uniform(100, 300, size=(3, 16, 2))
    image_to_input = transforms.crop_matrix(rng.uniform(150, 250, (3, 2)), rng.uniform(200, 300, 3), 256,
                                            rng.uniform(-30, 30, 3), np.array([False, True, False]))
    joints_hm = transforms.apply(transforms.compose(transforms.heatmap_matrix(4), image_to_input), joints_px)
    np.testing.assert_allclose(heatmap_to_image(joints_hm, image_to_input, 4), joints_px, atol=1e-9)
