import numpy as np
import pytest
import torch

from utils.metrics import (mpii_pckh_table, mpjpe, mpjve, n_mpjpe, p_mpjpe, pckh, pckh_auc, pckh_curve,
                           procrustes_align)


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def test_mpjpe_hand_computed():
    gt = np.zeros((2, 3))
    pred = np.array([[3.0, 4.0, 0.0], [0.0, 0.0, 2.0]])  # distances 5 and 2
    assert mpjpe(pred, gt) == pytest.approx(3.5)


def test_mpjpe_leading_dims_and_torch():
    rng = np.random.default_rng(0)
    pred, gt = rng.normal(size=(4, 5, 17, 3)), rng.normal(size=(4, 5, 17, 3))
    out = mpjpe(pred, gt)
    assert out.shape == (4, 5) and isinstance(out, np.ndarray)
    expected = np.linalg.norm(pred - gt, axis=-1).mean(-1)
    np.testing.assert_allclose(out, expected)
    out_torch = mpjpe(torch.tensor(pred), torch.tensor(gt))
    assert isinstance(out_torch, torch.Tensor)
    np.testing.assert_allclose(out_torch.numpy(), expected)


def test_n_mpjpe_removes_scale_only():
    gt = np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0], [1.0, 1.0, 0]])
    assert n_mpjpe(2.5 * gt, gt) == pytest.approx(0.0, abs=1e-12)
    # A shifted pose is not fixed by scaling: optimal s = <p,g>/<p,p> computed by hand.
    pred = gt + np.array([1.0, 0, 0])
    s = (pred * gt).sum() / (pred * pred).sum()
    assert n_mpjpe(pred, gt) == pytest.approx(np.linalg.norm(s * pred - gt, axis=-1).mean())


def test_p_mpjpe_invariant_to_similarity_transform():
    rng = np.random.default_rng(1)
    gt = rng.normal(size=(6, 17, 3)) * 100
    rotations = np.stack([random_rotation(rng) for _ in range(6)])
    pred = 1.7 * np.einsum("fjc,fdc->fjd", gt, rotations) + rng.normal(size=(6, 1, 3)) * 50
    np.testing.assert_allclose(p_mpjpe(pred, gt), 0.0, atol=1e-9)
    assert (mpjpe(pred, gt) > 10).all()


def test_p_mpjpe_does_not_reflect():
    # A mirrored pose cannot be aligned by a proper rotation: the error must stay well above zero.
    rng = np.random.default_rng(2)
    gt = rng.normal(size=(17, 3))
    mirrored = gt * np.array([-1.0, 1.0, 1.0])
    aligned = procrustes_align(mirrored, gt)
    centred = aligned - aligned.mean(0)
    # The alignment must be a rotation: pairwise distances keep their ratios and handedness stays mirrored.
    assert p_mpjpe(mirrored, gt) > 0.1
    cross = np.linalg.det(np.stack([centred[1] - centred[0], centred[2] - centred[0], centred[3] - centred[0]]))
    ref = gt - gt.mean(0)
    cross_ref = np.linalg.det(np.stack([ref[1] - ref[0], ref[2] - ref[0], ref[3] - ref[0]]))
    assert np.sign(cross) == -np.sign(cross_ref)


def test_p_mpjpe_hand_computed_two_point_pose():
    # Two joints at +-1 on x; prediction at +-2 on y: rotation + scale align exactly.
    gt = np.array([[1.0, 0, 0], [-1.0, 0, 0]])
    pred = np.array([[0, 2.0, 0], [0, -2.0, 0]])
    assert p_mpjpe(pred, gt) == pytest.approx(0.0, abs=1e-9)


def test_mpjve_hand_computed():
    gt = np.zeros((3, 1, 3))
    pred = np.zeros((3, 1, 3))
    pred[1, 0, 0] = 2.0  # velocities: (2,0,0) then (-2,0,0)
    np.testing.assert_allclose(mpjve(pred, gt), [2.0, 2.0])


def test_pckh_hand_computed():
    gt = np.zeros((2, 3, 2))
    pred = np.zeros((2, 3, 2))
    head_size = np.array([10.0, 20.0])  # thresholds at 0.5: 5 px and 10 px
    pred[0] = [[4.9, 0], [5.1, 0], [100, 0]]
    pred[1] = [[0, 9.0], [0, 11.0], [0, 0]]
    visible = np.array([[1, 1, 0], [1, 1, 1]])
    np.testing.assert_allclose(pckh(pred, gt, visible, head_size), [100.0, 0.0, 100.0])
    # At t = 0.3 (3 px and 6 px) no moved joint counts; the untouched one does.
    np.testing.assert_allclose(pckh(pred, gt, visible, head_size, threshold=0.3), [0.0, 0.0, 100.0])


def test_pckh_curve_and_auc_of_uniform_errors():
    # Errors uniform in [0, 0.5) head sizes -> PCKh(t) ~ t / 0.5, so AUC over [0, 0.5] is 50 %.
    n = 10000
    err = (np.arange(n) + 0.5) / n * 0.5
    pred = np.stack([err, np.zeros(n)], -1)[:, None, :]
    curve = pckh_curve(pred, np.zeros_like(pred), np.ones((n, 1)), np.ones(n))
    assert curve.shape == (51, 1)
    np.testing.assert_allclose(curve[:, 0], np.linspace(0, 100, 51), atol=0.02)
    assert pckh_auc(curve)[0] == pytest.approx(50.0, abs=0.05)


def test_unannotated_joint_gives_nan_not_zero():
    out = pckh(np.zeros((1, 2, 2)), np.zeros((1, 2, 2)), np.array([[1, 0]]), np.ones(1))
    assert out[0] == 100.0 and np.isnan(out[1])


def test_mpii_table_groups_and_both_means():
    rng = np.random.default_rng(3)
    n = 40
    gt = rng.uniform(0, 100, size=(n, 16, 2))
    pred = gt.copy()
    pred[:20, 0] += 100  # r_ankle wrong for half the people
    visible = np.ones((n, 16))
    visible[:, 5] = 0  # l_ankle never annotated
    table, curve = mpii_pckh_table(pred, gt, visible, np.ones(n) * 10)
    assert table["Ankle"] == 50.0  # mean of r_ankle (50) and an absent l_ankle is r_ankle alone
    assert table["Head"] == 100.0
    # Mean over 14 joints weighted by counts: 13 joints x 40 annotated (l_ankle 0), 20 wrong.
    assert table["Mean_weighted"] == pytest.approx(round(100 * (13 * 40 - 20) / (13 * 40), 2))
    # Unweighted (pytorch-pose): the 13 annotated joints' values, 12 x 100 and r_ankle 50, averaged.
    assert table["Mean"] == pytest.approx(round((12 * 100 + 50) / 13, 2))
    assert curve.shape == (51, 16)


def test_mpii_means_differ_when_counts_differ():
    """Two people: r_ankle annotated once (and wrong), every other joint twice (right). Unweighted, r_ankle's 0 %
    is one of 14 values; weighted, it is 1 of 27 annotations. AUC follows the unweighted mean."""
    gt = np.tile(np.arange(32, dtype=np.float64).reshape(1, 16, 2), (2, 1, 1))
    pred = gt.copy()
    pred[0, 0] += 50.0
    visible = np.ones((2, 16))
    visible[1, 0] = 0
    table, curve = mpii_pckh_table(pred, gt, visible, np.ones(2))
    assert table["Mean"] == pytest.approx(round(13 * 100 / 14, 2)) == 92.86
    assert table["Mean_weighted"] == pytest.approx(round(100 * 26 / 27, 2)) == 96.3
    assert table["Mean@0.1"] == 92.86 and table["Mean@0.1_weighted"] == 96.3
    # PCKh(t) is 0 at t = 0 (distance 0 is not below 0) and the plateau from t = 0.01 on.
    expected_auc = (0.5 - 0.01 / 2) / 0.5 * 100 * 13 / 14
    assert table["AUC"] == pytest.approx(round(expected_auc, 2))
    assert table["AUC_weighted"] == pytest.approx(round((0.5 - 0.005) / 0.5 * 100 * 26 / 27, 2))


def test_shape_mismatch_is_reported():
    with pytest.raises(AssertionError, match="shape"):
        mpjpe(np.zeros((2, 17, 3)), np.zeros((2, 16, 3)))
