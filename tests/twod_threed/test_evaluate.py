import json

import numpy as np
import pytest

import eval as eval_entry
from twod_threed.evaluate import action_group, as_h36m17, evaluate_poses
from utils.errors import InputError


def _gt(count):
    """Root-relative H36M-17 poses: joint j at (j, 0, 0) mm, so |joint j| = j."""
    poses = np.zeros((count, 17, 3))
    poses[:, :, 0] = np.arange(17)
    return poses


def test_per_action_metrics_by_hand():
    # 'Walking 1' and 'Walking' pool into Walking (3 frames): one joint off by 10 mm.
    # 'Eating' (1 frame): the prediction is the ground truth scaled by 2.
    gt = _gt(4)
    pred = gt.copy()
    pred[:3, 5, 1] += 10.0
    pred[3] *= 2.0
    report = evaluate_poses(pred, gt, np.array(["Walking 1", "Walking", "Walking 1", "Eating"]))
    walking, eating = report["per_action"]["Walking"], report["per_action"]["Eating"]
    assert walking["frames"] == 3 and eating["frames"] == 1
    assert walking["mpjpe_mm"] == pytest.approx(10 / 17)
    assert eating["mpjpe_mm"] == pytest.approx(sum(range(17)) / 17)  # |2x - x| = |x| = j
    assert eating["p_mpjpe_mm"] == pytest.approx(0, abs=1e-6) and eating["n_mpjpe_mm"] == pytest.approx(0, abs=1e-6)
    assert report["average_over_actions"]["mpjpe_mm"] == pytest.approx((10 / 17 + 8) / 2)  # unweighted by frames
    assert report["average_over_frames"]["mpjpe_mm"] == pytest.approx((3 * 10 / 17 + 8) / 4)
    assert report["root_joint_counted"] and report["joints"] == 17
    assert report["per_joint_mpjpe_mm"]["r_elbow"] == pytest.approx(15 / 4)  # joint 15: Eating frame only
    assert report["per_joint_mpjpe_mm"]["l_knee"] == pytest.approx((3 * 10 + 5) / 4)  # joint 5
    without_root = evaluate_poses(pred, gt, np.array(["Walking 1", "Walking", "Walking 1", "Eating"]),
                                  include_root=False)
    assert without_root["per_action"]["Walking"]["mpjpe_mm"] == pytest.approx(10 / 16)
    assert without_root["joints"] == 16 and "hip" not in without_root["per_joint_mpjpe_mm"]


def test_mpjve_by_hand_per_sequence():
    # Two sequences given out of order. In sequence 0 every non-root joint drifts by 1 mm per frame along x;
    # sequence 1 is a constant 5 mm offset (no velocity error). MPJVE must not mix the two sequences.
    gt = _gt(6)
    pred = gt.copy()
    sequence = np.array([0, 1, 0, 1, 0, 1])
    frames = np.array([2, 0, 0, 1, 1, 2])
    pred[sequence == 0, 1:, 0] += frames[sequence == 0, None]
    pred[sequence == 1, 1:, 2] += 5.0
    actions = np.where(sequence == 0, "Walking", "Eating")
    report = evaluate_poses(pred, gt, actions, sequence_index=sequence, frames=frames)
    assert report["per_action"]["Walking"]["mpjve_mm"] == pytest.approx(16 / 17)
    assert report["per_action"]["Eating"]["mpjve_mm"] == pytest.approx(0)
    assert report["average_over_actions"]["mpjve_mm"] == pytest.approx(8 / 17)


def test_action_names_and_joint_sets():
    assert action_group("Walking 1") == "Walking" and action_group("TakingPhoto 1") == "Photo"
    assert action_group("WalkDog") == "WalkDog" and action_group("WalkTogether 1") == "WalkTogether"
    camera_frame = _gt(2) + np.array([100.0, 200.0, 4000.0])
    np.testing.assert_allclose(as_h36m17(camera_frame, "f", "poses_3d"), _gt(2))
    np.testing.assert_allclose(as_h36m17(_gt(2)[:, 1:], "f", "poses_3d"), _gt(2))
    with pytest.raises(InputError, match=r"f: field 'poses_3d' has shape \(2, 15, 3\)"):
        as_h36m17(_gt(2)[:, 2:], "f", "poses_3d")


def test_cli_with_ground_truth_inside_the_predictions(tmp_path):
    gt = _gt(3)
    pred = gt + np.array([0.0, 3.0, 4.0])  # every joint but the root 5 mm off after root alignment
    pred[:, 0] = 0.0
    np.savez(tmp_path / "p.npz", poses_3d=pred, ground_truth_3d=gt, actions=np.array(["Eating"] * 3))
    assert eval_entry.main(["h36m_MPJPE", "--predictions", str(tmp_path / "p.npz"),
                            "--output_dir", str(tmp_path / "out")]) == 0
    report = json.loads((tmp_path / "out" / "h36m_MPJPE.json").read_text())
    assert report["average_over_actions"]["mpjpe_mm"] == pytest.approx(5 * 16 / 17)
    assert (tmp_path / "out" / "h36m_MPJPE_per_action.png").stat().st_size > 0
    assert (tmp_path / "out" / "h36m_MPJPE_per_joint.png").stat().st_size > 0


def test_cli_ground_truth_file_matched_by_name(tmp_path):
    gt = _gt(3) * np.array([1.0, 2.0, 3.0])[:, None, None]
    names = np.array(["S9/Eating/1/000000", "S9/Eating/1/000001", "S9/Eating/1/000002"])
    np.savez(tmp_path / "p.npz", poses_3d=gt[:, 1:], names=names)  # 16 joints, root-relative
    np.savez(tmp_path / "gt.npz", poses_3d=gt[::-1], names=names[::-1])
    assert eval_entry.main(["h36m_MPJPE", "--predictions", str(tmp_path / "p.npz"), "--ground_truth",
                            str(tmp_path / "gt.npz"), "--output_dir", str(tmp_path / "out")]) == 0
    report = json.loads((tmp_path / "out" / "h36m_MPJPE.json").read_text())
    assert report["average_over_actions"]["mpjpe_mm"] == pytest.approx(0)
    assert list(report["per_action"]) == ["Eating"]
    np.savez(tmp_path / "gt.npz", poses_3d=gt[:2], names=names[:2])
    assert eval_entry.main(["h36m_MPJPE", "--predictions", str(tmp_path / "p.npz"), "--ground_truth",
                            str(tmp_path / "gt.npz"), "--output_dir", str(tmp_path / "out")]) == 1


def test_cli_bad_predictions(tmp_path, capsys):
    np.savez(tmp_path / "p.npz", poses_3d=np.full((2, 17, 3), np.nan), ground_truth_3d=_gt(2))
    assert eval_entry.main(["h36m_MPJPE", "--predictions", str(tmp_path / "p.npz"),
                            "--output_dir", str(tmp_path / "out")]) == 1
    assert "p.npz: field 'poses_3d' holds NaN" in capsys.readouterr().err
    assert eval_entry.main(["h36m_MPJPE", "--predictions", str(tmp_path / "missing.npz"),
                            "--output_dir", str(tmp_path / "out")]) == 1
    assert "missing.npz: file not found" in capsys.readouterr().err
