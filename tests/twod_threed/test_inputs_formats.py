"""2D inputs people have: COCO-17 keypoints, MMPose's Human3.6M npz, and the 17-joint ambiguity."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import run as run_entry
from twod_threed.checkpoint import checkpoint_fields
from twod_threed.inputs import read_2d_input, to_h36m16_2d
from twod_threed.model import Lifter, LifterConfig
from twod_threed.normalization import Normaliser
from utils.checkpoints import save_checkpoint
from utils.errors import InputError
from utils.skeletons import COCO17_JOINT_NAMES, H36M16_2D, H36M16_2D_FROM_17, coco17_to_h36m17

OUT = "predictions_3d.npz"


def coco_pose() -> np.ndarray:
    """(1, 17, 2): COCO keypoint k at (10 k, 100 + k) px."""
    return np.stack([10.0 * np.arange(17), 100.0 + np.arange(17)], -1)[None]


def test_coco_keypoints_map_to_the_lifter_joints_by_hand():
    coco = coco_pose()
    x = {name: coco[0, k] for k, name in enumerate(COCO17_JOINT_NAMES)}
    h36m = dict(zip(H36M16_2D.joint_names, to_h36m16_2d(coco, "coco", "poses.npz", "poses_2d")[0]))
    pelvis, thorax = (x["left_hip"] + x["right_hip"]) / 2, (x["left_shoulder"] + x["right_shoulder"]) / 2
    np.testing.assert_allclose(h36m["hip"], [115.0, 111.5])  # COCO 11 and 12
    np.testing.assert_allclose(h36m["thorax"], thorax)
    np.testing.assert_allclose(h36m["spine"], (pelvis + thorax) / 2)
    np.testing.assert_allclose(h36m["head"], (x["left_eye"] + x["right_eye"]) / 2)
    for ours, theirs in (("r_hip", "right_hip"), ("l_foot", "left_ankle"), ("r_wrist", "right_wrist"),
                         ("l_shoulder", "left_shoulder"), ("r_elbow", "right_elbow")):
        np.testing.assert_array_equal(h36m[ours], x[theirs])
    np.testing.assert_allclose(coco17_to_h36m17(coco)[0, 9], x["nose"])  # H36M-17 neck/nose


def test_seventeen_joints_need_an_order(tmp_path):
    np.savez(tmp_path / "poses.npz", poses_2d=np.repeat(coco_pose(), 3, axis=0))
    with pytest.raises(InputError, match="poses.npz: field 'poses_2d' has 17 joints: say which order with "
                                         "--joint_order h36m .* or --joint_order coco"):
        read_2d_input(tmp_path / "poses.npz")
    as_h36m, _ = read_2d_input(tmp_path / "poses.npz", "h36m")
    np.testing.assert_array_equal(as_h36m[0], coco_pose()[0, list(H36M16_2D_FROM_17)])
    as_coco, _ = read_2d_input(tmp_path / "poses.npz", "coco")
    np.testing.assert_allclose(as_coco[0, 0], [115.0, 111.5])
    with pytest.raises(InputError, match="16 joints, which --joint_order coco does not have"):
        np.savez(tmp_path / "sixteen.npz", poses_2d=np.zeros((2, 16, 2)))
        read_2d_input(tmp_path / "sixteen.npz", "coco")


def test_videopose3d_coco_files_are_recognised_by_their_metadata(tmp_path):
    positions = {"S9": {"Walking": [np.repeat(coco_pose(), 2, axis=0)] * 4}}
    metadata = {"layout_name": "coco", "num_joints": 17,
                "keypoints_symmetry": [[1, 3, 5, 7, 9, 11, 13, 15], [2, 4, 6, 8, 10, 12, 14, 16]]}
    np.savez(tmp_path / "data_2d_h36m_detectron_pt_coco.npz", positions_2d=np.array(positions, dtype=object),
             metadata=np.array(metadata, dtype=object))
    joints, meta = read_2d_input(tmp_path / "data_2d_h36m_detectron_pt_coco.npz")
    assert joints.shape == (8, 16, 2) and list(meta["cameras"][::2]) == ["54138969", "55011271", "58860488",
                                                                         "60457274"]
    np.testing.assert_allclose(joints[:, 0], np.tile([115.0, 111.5], (8, 1)))


def test_mmpose_human36m_npz(specimens):
    path = specimens / "h36m" / "test_h36m_body3d.npz"
    joints, meta = read_2d_input(path)
    with np.load(path) as data:
        np.testing.assert_array_equal(joints, data["part"][:, list(H36M16_2D_FROM_17), :2])
        np.testing.assert_allclose(meta["ground_truth_3d"], data["S"][..., :3] * 1000.0)
        assert list(meta["names"]) == list(data["imgname"])


def _tiny_lifter(path) -> None:
    torch.manual_seed(0)
    config = LifterConfig(linear_size=16, num_stage=1)
    normaliser = Normaliser("dataset", torch.full((32,), 500.0), torch.full((32,), 100.0), torch.zeros(48),
                            torch.full((48,), 200.0))
    save_checkpoint(path, {**checkpoint_fields(config, normaliser, {}), "model_state": Lifter(config).state_dict()})


def test_run_lifts_coco_and_mmpose_inputs(specimens, tmp_path, capsys):
    _tiny_lifter(tmp_path / "lifter.pt")
    mmpose = specimens / "h36m" / "test_h36m_body3d.npz"
    with np.load(mmpose) as data:
        np.savez(tmp_path / "h36m17.npz", keypoints=data["part"])
    common = ["2d3d_h36m", "--load", str(tmp_path / "lifter.pt")]
    assert run_entry.main([*common, "--input", str(mmpose), "--output_dir", str(tmp_path / "mmpose")]) == 0
    assert run_entry.main([*common, "--input", str(tmp_path / "h36m17.npz"), "--joint_order", "h36m",
                           "--output_dir", str(tmp_path / "h36m17")]) == 0
    with np.load(tmp_path / "mmpose" / OUT) as a, np.load(tmp_path / "h36m17" / OUT) as b:
        assert a["poses_3d"].shape == (4, 17, 3) and a["ground_truth_3d"].shape == (4, 17, 3)
        np.testing.assert_array_equal(a["poses_3d"], b["poses_3d"])
        assert a["names"][3].endswith("S8_WalkDog_1.55011271_000026.jpg")
    assert run_entry.main([*common, "--input", str(tmp_path / "h36m17.npz"), "--output_dir", str(tmp_path / "x")]) == 1
    assert "has 17 joints: say which order with --joint_order" in capsys.readouterr().err
    np.savez(tmp_path / "coco.npz", keypoints=np.repeat(coco_pose(), 2, axis=0))
    assert run_entry.main([*common, "--input", str(tmp_path / "coco.npz"), "--joint_order", "coco",
                           "--output_dir", str(tmp_path / "coco")]) == 0
    with np.load(tmp_path / "coco" / OUT) as c:
        assert c["poses_3d"].shape == (2, 17, 3) and np.isfinite(c["poses_3d"]).all()
