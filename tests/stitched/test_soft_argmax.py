import torch

from stitched.soft_argmax import SoftArgmax, soft_argmax_2d, to_image_pixels


def test_exact_on_a_delta_heatmap():
    heatmaps = torch.zeros(2, 3, 16, 12)
    heatmaps[0, 0, 5, 7] = heatmaps[0, 1, 0, 0] = heatmaps[0, 2, 15, 11] = heatmaps[1, :, 9, 2] = 1.0
    coords = soft_argmax_2d(heatmaps, beta=1000.0)
    expected = torch.tensor([[[7.0, 5.0], [0.0, 0.0], [11.0, 15.0]], [[2.0, 9.0]] * 3])
    torch.testing.assert_close(coords, expected, atol=1e-6, rtol=0)


def test_matches_argmax_on_sharp_gaussians():
    torch.manual_seed(0)
    ys, xs = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
    centres = torch.randint(4, 28, (5, 2)).float()
    heatmaps = torch.stack([torch.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / 2) for cx, cy in centres])[None]
    coords = soft_argmax_2d(heatmaps, beta=200.0)[0]
    torch.testing.assert_close(coords, centres, atol=1e-3, rtol=0)


def test_sub_pixel_on_a_two_pixel_peak():
    heatmaps = torch.zeros(1, 1, 8, 8)
    heatmaps[0, 0, 3, 4] = heatmaps[0, 0, 3, 5] = 1.0  # equal neighbours: the midpoint x = 4.5
    torch.testing.assert_close(soft_argmax_2d(heatmaps, beta=500.0)[0, 0], torch.tensor([4.5, 3.0]))
    # Hand-computed: one row [0, ln 2] -> probabilities [1/3, 2/3] -> x = 2/3.
    row = torch.tensor([0.0, torch.log(torch.tensor(2.0))]).reshape(1, 1, 1, 2)
    torch.testing.assert_close(soft_argmax_2d(row, beta=1.0)[0, 0], torch.tensor([2.0 / 3.0, 0.0]))


def test_gradient_reaches_every_pixel():
    heatmaps = torch.randn(2, 4, 8, 8, requires_grad=True)
    soft_argmax_2d(heatmaps, beta=1.0).sum().backward()
    assert (heatmaps.grad.abs() > 0).all()


def test_learnable_temperature_gets_a_gradient_and_stays_positive():
    module = SoftArgmax(num_joints=4, beta=2.0, learnable=True)
    heatmaps = torch.randn(2, 4, 8, 8)
    module(heatmaps)[..., 0].sum().backward()
    assert module.log_beta.grad is not None and module.log_beta.grad.abs().sum() > 0
    torch.testing.assert_close(module.beta, torch.full((4,), 2.0))
    fixed = SoftArgmax(num_joints=4, beta=2.0)
    assert not list(fixed.parameters())


def test_bf16_heatmaps_are_decoded_in_float32():
    heatmaps = torch.zeros(1, 1, 64, 64)
    heatmaps[0, 0, 40, 21] = 10.0
    coords = soft_argmax_2d(heatmaps.to(torch.bfloat16), beta=10.0)
    assert coords.dtype == torch.float32
    torch.testing.assert_close(coords[0, 0], torch.tensor([21.0, 40.0]), atol=1e-2, rtol=0)


def test_inverse_affine_to_image_pixels():
    points = torch.tensor([[[0.0, 0.0], [63.0, 63.0], [10.0, 20.0]]])
    # heatmap px -> image px: scale 4 and offset (100, 50)
    inverse = torch.tensor([[[4.0, 0.0, 100.0], [0.0, 4.0, 50.0]]])
    expected = torch.tensor([[[100.0, 50.0], [352.0, 302.0], [140.0, 130.0]]])
    torch.testing.assert_close(to_image_pixels(points, inverse), expected)
