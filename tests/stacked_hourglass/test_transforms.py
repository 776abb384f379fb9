import cv2
import numpy as np
import pytest

from stacked_hourglass import transforms


def test_crop_matrix_by_hand():
    # Box of side 100 centred at (200, 100) -> 50 px crop: zoom 0.5, centre to (24.5, 24.5).
    matrix = transforms.crop_matrix(np.array([200.0, 100.0]), 100.0, 50)
    np.testing.assert_allclose(matrix, [[0.5, 0.0, 24.5 - 100.0], [0.0, 0.5, 24.5 - 50.0]])
    corners = transforms.apply(matrix, np.array([[150.0, 50.0], [250.0, 150.0]]))
    np.testing.assert_allclose(corners, [[-0.5, -0.5], [49.5, 49.5]])  # the box edges are the crop's pixel edges


def test_rotation_and_flip_by_hand():
    # 90 degrees counter-clockwise on screen (y down): a point to the right of the centre goes up.
    matrix = transforms.crop_matrix(np.array([10.0, 10.0]), 11.0, 11, rotation_deg=90.0)
    np.testing.assert_allclose(transforms.apply(matrix, np.array([[13.0, 10.0]])), [[5.0, 2.0]], atol=1e-12)
    flipped = transforms.crop_matrix(np.array([10.0, 10.0]), 11.0, 11, flip=True)
    np.testing.assert_allclose(transforms.apply(flipped, np.array([[13.0, 10.0]])), [[2.0, 5.0]], atol=1e-12)


def test_compose_and_invert():
    rng = np.random.default_rng(0)
    a = transforms.crop_matrix(rng.uniform(0, 100, (4, 2)), rng.uniform(50, 150, 4), 64, rng.uniform(-60, 60, 4),
                               rng.random(4) < 0.5)
    b = transforms.crop_matrix(rng.uniform(0, 100, (4, 2)), rng.uniform(50, 150, 4), 32)
    points = rng.uniform(0, 100, (4, 5, 2))
    np.testing.assert_allclose(transforms.apply(transforms.compose(b, a), points),
                               transforms.apply(b, transforms.apply(a, points)))
    np.testing.assert_allclose(transforms.apply(transforms.invert(a), transforms.apply(a, points)), points, atol=1e-9)


def dot_position(image: np.ndarray) -> np.ndarray:
    """Intensity-weighted centre of a bright dot, (x, y) px."""
    weights = image.astype(np.float64)
    ys, xs = np.mgrid[:image.shape[0], :image.shape[1]]
    return np.array([(weights * xs).sum(), (weights * ys).sum()]) / weights.sum()


@pytest.mark.parametrize("rotation, flip, box", [(0.0, False, 120.0), (37.0, False, 90.0), (-60.0, True, 150.0),
                                                 (0.0, True, 200.0)])
def test_warp_moves_pixels_where_joints_go(rotation, flip, box):
    image = np.zeros((240, 320), np.uint8)
    dot = np.array([171.0, 97.0])
    cv2.circle(image, (int(dot[0] * 16), int(dot[1] * 16)), 4 * 16, 255, -1, cv2.LINE_AA, shift=4)
    found_before = dot_position(image)
    matrix = transforms.crop_matrix(np.array([160.0, 120.0]), box, 96, rotation, flip)
    warped = cv2.warpAffine(image, matrix, (96, 96), flags=cv2.INTER_LINEAR)
    expected = transforms.apply(matrix, found_before[None])[0]
    np.testing.assert_allclose(dot_position(warped), expected, atol=0.05)


def test_heatmap_matrix_pixel_centres():
    # Heatmap pixel h of stride 4 covers input pixels 4h .. 4h+3, centred at 4h + 1.5.
    to_heatmap = transforms.heatmap_matrix(4)
    np.testing.assert_allclose(transforms.apply(to_heatmap, np.array([[1.5, 5.5]])), [[0.0, 1.0]])
    # JPEG reduction by 2: reduced pixel 0 covers original pixels 0 and 1.
    np.testing.assert_allclose(transforms.apply(transforms.scaling_matrix(0.5), np.array([[0.0, 3.0]])),
                               [[0.5, 6.5]])


def test_augmentation_ranges():
    rng = np.random.default_rng(1)
    draws = [transforms.sample_augmentation(rng, transforms.AugmentSettings()) for _ in range(2000)]
    scales = np.log2([d.box_scale for d in draws])
    rotations = np.array([d.rotation_deg for d in draws])
    assert np.abs(scales).max() <= 0.5 + 1e-9 and 0.2 < scales.std() < 0.27
    assert np.abs(rotations).max() <= 60 and 0.3 < (rotations != 0).mean() < 0.5
    assert 0.45 < np.mean([d.flip for d in draws]) < 0.55
    gains = np.array([d.colour_gain for d in draws])
    assert gains.min() >= 0.6 and gains.max() <= 1.4


def test_mask_is_a_bar_through_the_joints():
    rng = np.random.default_rng(2)
    joints = np.array([[20.0, 10.0], [40.0, 50.0], [0.0, 0.0]])
    annotated = np.array([1.0, 1.0, 0.0])
    vertical = transforms.MaskSettings(prob=1.0, vertical_prob=1.0, max_cover_ratio=0.5)
    for _ in range(50):
        rows, columns, _ = transforms.sample_mask(rng, vertical, joints, annotated, 64)
        assert rows == slice(None) and 20 <= columns.start <= 40 and 1 <= columns.stop - columns.start <= 10
    assert transforms.sample_mask(rng, transforms.MaskSettings(prob=0.0), joints, annotated, 64) is None
