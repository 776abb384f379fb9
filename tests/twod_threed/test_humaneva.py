"""HumanEva-I lifting: file readers and their errors, camera-frame pairs, the evaluation against hand-computed values,
and train.py / run.py / eval.py 2d3d_eva + humaneva_MPJPE end to end on the tiny synthetic HumanEva-I."""
import json

import numpy as np
import pytest
import torch

import eval as eval_entry
import run as run_entry
import train as train_entry
from twod_threed.humaneva_eval import evaluate_humaneva
from twod_threed.humaneva_files import (BUILTIN_CAMERAS, load_humaneva_pairs, read_humaneva_3d,
                                        read_humaneva_cameras)
from utils.checkpoints import load_checkpoint
from utils.errors import InputError


def test_builtin_cameras_are_videopose3d_extrinsics():
    cameras = read_humaneva_cameras(BUILTIN_CAMERAS)
    assert sorted(cameras) == ["S1", "S2", "S3"]
    c1 = cameras["S1"][0]
    np.testing.assert_allclose(c1.T, [4062.227, 663.2477, 1528.397])
    # camera -> world rotation of the quaternion (0.424207, -0.4983646, -0.5802981, 0.4847012): its third column
    # (the optical axis in the world) points from C1 towards the capture area (x < 0 from x = 4 m), nearly level
    axis = c1.R[2]
    assert axis[0] < -0.95 and abs(axis[2]) < 0.3
    assert c1.world_to_camera(np.array([0.0, 0.0, 900.0]))[2] == pytest.approx(4162.1354, abs=1e-3)


def test_pairs_are_camera_frame_and_root_relative(tiny_humaneva):
    pairs = load_humaneva_pairs(tiny_humaneva, ("Validate/S1",), actions=("Walking",))
    poses = read_humaneva_3d(tiny_humaneva / "data_3d_humaneva15.npz")[("Validate/S1", "Walking 1")]
    cameras = read_humaneva_cameras(tiny_humaneva / "humaneva_cameras.json")["S1"]
    assert [s for s in pairs.sequences] == [("Validate/S1", "Walking 1", c) for c in ("C1", "C2", "C3")]
    camera_mm = cameras[1].world_to_camera(poses)
    rows = pairs.sequence_index == 1
    np.testing.assert_allclose(pairs.root_relative_mm[rows].numpy(), camera_mm[:, 1:] - camera_mm[:, :1], atol=1e-3)
    np.testing.assert_allclose(pairs.joints_2d_px[rows].numpy(), cameras[1].project_world(poses), atol=2e-3)
    assert pairs.frames[rows].tolist() == list(range(len(poses)))


def test_bad_files_name_the_file_and_field(tmp_path, tiny_humaneva):
    bad = tmp_path / "data_3d_humaneva15.npz"
    np.savez(bad, positions_3d=np.array({"Train/S1": {"Walking 1": np.zeros((5, 14, 3))}}, dtype=object))
    with pytest.raises(InputError, match=r"data_3d_humaneva15.npz: positions_3d\['Train/S1'\]\['Walking 1'\] has shape"):
        read_humaneva_3d(bad)
    nan = tmp_path / "nan.npz"
    np.savez(nan, positions_3d=np.array({"Train/S1": {"Jog 1": np.full((5, 15, 3), np.nan)}}, dtype=object))
    with pytest.raises(InputError, match="nan.npz.*positions_3d"):
        read_humaneva_3d(nan)
    with pytest.raises(InputError, match="file not found"):
        load_humaneva_pairs(tiny_humaneva, ("Train/S1",), input_2d=str(tmp_path / "none.npz"))
    with pytest.raises(InputError, match="no HumanEva sequences"):
        load_humaneva_pairs(tiny_humaneva, ("Train/S9",))


def test_evaluation_against_hand_computed_values():
    """Two Walking frames of S1, one Box frame of S2. Prediction = 2 x truth: MPJPE = mean |truth_j| (the root
    counted as 0), P-MPJPE = 0 (a similarity undoes the scale); Box shifted by 15 mm on one joint -> 1 mm."""
    gt = np.zeros((3, 15, 3))
    gt[:, 1:, 0] = np.arange(1, 15) * 10.0  # |joint j| = 10 j mm
    gt[:, 5:, 1] = 7.0  # not all on one line (Procrustes is well posed)
    pred = gt.copy()
    pred[:2] *= 2.0
    pred[2, 4, 2] += 15.0
    report = evaluate_humaneva(pred, gt, np.array(["Validate/S1", "Validate/S1", "Validate/S2"]),
                               np.array(["Walking 1", "Walking 1 chunk2", "Box 1"]),
                               sequence_index=np.array([0, 0, 1]), frames=np.array([0, 1, 0]))
    walking = report["per_action_subject"]["Walking"]["Validate/S1"]
    expected = np.linalg.norm(gt[0], axis=-1).mean()
    assert walking["frames"] == 2 and walking["mpjpe_mm"] == pytest.approx(expected)
    assert walking["p_mpjpe_mm"] == pytest.approx(0.0, abs=1e-6) and walking["mpjve_mm"] == pytest.approx(0.0)
    box = report["per_action_subject"]["Box"]["Validate/S2"]
    assert box["mpjpe_mm"] == pytest.approx(1.0)
    assert report["average"]["mpjpe_mm"] == pytest.approx((expected + 1.0) / 2)
    assert set(report["per_action"]) == {"Walking", "Box"}


@pytest.mark.slow
@pytest.mark.parametrize("temporal", [False, True])
def test_train_run_eval_humaneva(tiny_humaneva, tmp_path, temporal):
    extra = ["--temporal", "--receptive_field", "9", "--channels", "16"] if temporal else ["--linear_size", "32"]
    assert train_entry.main(["2d3d_eva", "--data_dir", str(tiny_humaneva.parent), "--checkpoint_dir", str(tmp_path),
                             "--epochs", "1", "--batch_size", "64", "--exp", "e", *extra]) == 0
    best = tmp_path / "2d3d_eva_e" / "best.pt"
    payload = load_checkpoint(best, kind="temporal_lifter" if temporal else "lifter")
    assert payload["joint_orders"] == {"input": "humaneva15", "output": "humaneva14_3d"}
    assert payload["model_config"]["input_size"] == 30 and payload["model_config"]["output_size"] == 42
    assert run_entry.main(["2d3d_eva", "--data_dir", str(tiny_humaneva), "--load", str(best),
                           "--output_dir", str(tmp_path / "pred")]) == 0
    with np.load(tmp_path / "pred" / "predictions_3d.npz") as data:
        assert data["poses_3d"].shape == data["ground_truth_3d"].shape and data["poses_3d"].shape[1:] == (15, 3)
        assert set(data["subjects"]) == {"Validate/S1", "Validate/S2", "Validate/S3"}
        assert {a.split(" ")[0] for a in data["actions"]} == {"Walking", "Jog", "Box"}
        assert np.all(data["poses_3d"][:, 0] == 0) and len(data["sequence_names"]) == 3 * 3 * 3
    assert eval_entry.main(["humaneva_MPJPE", "--predictions", str(tmp_path / "pred" / "predictions_3d.npz"),
                            "--output_dir", str(tmp_path / "eval")]) == 0
    report = json.loads((tmp_path / "eval" / "humaneva_MPJPE.json").read_text())
    assert set(report["per_action_subject"]) == {"Walking", "Jog", "Box"}
    assert set(report["per_action_subject"]["Jog"]) == {"Validate/S1", "Validate/S2", "Validate/S3"}
    assert 0 < report["average"]["p_mpjpe_mm"] < report["average"]["mpjpe_mm"] + 1e-6
    assert "mpjve_mm" in report["average"] and (tmp_path / "eval" / "humaneva_MPJPE.png").stat().st_size > 1000


def test_eval_refuses_predictions_without_ground_truth(tmp_path, capsys):
    np.savez(tmp_path / "p.npz", poses_3d=np.zeros((2, 15, 3)), subjects=np.array(["a", "b"]),
             actions=np.array(["Walking 1"] * 2))
    assert eval_entry.main(["humaneva_MPJPE", "--predictions", str(tmp_path / "p.npz"),
                            "--output_dir", str(tmp_path / "e")]) == 1
    assert "p.npz: missing the field 'ground_truth_3d'" in capsys.readouterr().err
