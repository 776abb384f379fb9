import json
import re

import numpy as np
import pytest
import scipy.io

import eval as eval_command
from stacked_hourglass.pckh_eval import load_ground_truth, load_predictions, pckh_report
from utils.errors import InputError

KEYS = {"Head", "Shoulder", "Elbow", "Wrist", "Hip", "Knee", "Ankle", "Mean", "Mean_weighted", "Mean@0.1",
        "Mean@0.1_weighted", "AUC", "AUC_weighted", "joints"}


def write_gt_mat(path, joints, missing, headboxes):
    scipy.io.savemat(path, {"pos_gt_src": joints.transpose(1, 2, 0), "jnt_missing": missing.T.astype(np.uint8),
                            "headboxes_src": headboxes.transpose(1, 2, 0)})


@pytest.fixture
def small_gt(tmp_path):
    rng = np.random.default_rng(0)
    n = 10
    joints = rng.uniform(100, 400, size=(n, 16, 2))
    missing = np.zeros((n, 16))
    missing[0, 3] = 1
    headboxes = np.stack([joints[:, 9] - 30, joints[:, 9] + 30], 1)  # 60x60 box: head size 0.6*84.85 = 50.9
    path = tmp_path / "gt.mat"
    write_gt_mat(path, joints, missing, headboxes)
    return path, joints


def test_standard_layout_and_specimen_predictions(specimens):
    truth = load_ground_truth(specimens / "mpii" / "detections_our_format.mat")
    assert truth.joints_px.shape == (2958, 16, 2)
    preds = load_predictions(specimens / "mpii" / "detections_our_format.mat", 2958)  # pos_pred_src fallback
    report, _ = pckh_report(preds, truth)
    # Reference values computed by the standard evaluation formula on these files (head size = 0.6 x diagonal):
    # pytorch-pose's eval_PCKh.py / .m take the unweighted mean of the 14 joints, HRNet and MMPose weight it.
    assert report["Head"] == pytest.approx(95.60, abs=0.01)
    assert report["Mean"] == pytest.approx(81.46, abs=0.01)
    assert report["Mean_weighted"] == pytest.approx(82.34, abs=0.01)


def test_valid_h5_layout_matches_mat_annotations(specimens):
    from_mat = load_ground_truth(specimens / "mpii" / "detections_our_format.mat")
    from_h5 = load_ground_truth(specimens / "mpii" / "valid.h5")
    np.testing.assert_array_equal(from_mat.visible, from_h5.visible)
    np.testing.assert_allclose(from_mat.head_size, from_h5.head_size, atol=1e-3)


def test_cli_writes_reports_and_plot(tmp_path, small_gt, capsys):
    gt_path, joints = small_gt
    perfect, shifted = tmp_path / "perfect.mat", tmp_path / "shifted.npz"
    scipy.io.savemat(perfect, {"preds": joints})
    moved = joints.copy()
    # threshold = 0.5 x 0.6 x 60 sqrt(2) = 25.46 px: r_wrist 25 px off still counts, l_wrist 26 px off does not.
    moved[:, 10] += np.array([15.0, 20.0])
    moved[:, 15] += np.array([0.0, 26.0])
    np.savez(shifted, preds=moved)
    out = tmp_path / "out"
    code = eval_command.main(["mpii_PCKh", "--prediction_files", str(perfect), str(shifted),
                              "--model_names", "perfect", "shifted", "--gt", str(gt_path), "--output_dir", str(out)])
    assert code == 0
    perfect_report = json.loads((out / "perfect_pckh.json").read_text())
    shifted_report = json.loads((out / "shifted_pckh.json").read_text())
    assert set(perfect_report) == KEYS
    assert perfect_report["Mean"] == 100.0 and perfect_report["AUC"] > 95
    assert shifted_report["Wrist"] == 50.0
    assert shifted_report["joints"]["r_wrist"] == 100.0 and shifted_report["joints"]["l_wrist"] == 0.0
    assert (out / "pckh_curves.png").stat().st_size > 10_000
    assert "shifted" in capsys.readouterr().out


def test_bad_predictions_are_named(tmp_path, small_gt, capsys):
    gt_path, joints = small_gt
    cases = {
        "count.mat": ({"preds": joints[:5]}, "5 predictions, but the ground truth has 10"),
        "shape.mat": ({"preds": joints[:, :14]}, "expected (N, 16, 2)"),
        "nan.mat": ({"preds": np.where(np.arange(16)[None, :, None] == 4, np.nan, joints)}, "NaN"),
        "key.mat": ({"predictions": joints}, "missing the field 'preds'"),
    }
    for name, (content, message) in cases.items():
        scipy.io.savemat(tmp_path / name, content)
        with pytest.raises(InputError, match=re.escape(message)):
            load_predictions(tmp_path / name, 10)
        assert eval_command.main(["mpii_PCKh", "--prediction_files", str(tmp_path / name), "--gt", str(gt_path),
                                  "--output_dir", str(tmp_path / "o")]) == 1
        assert name in capsys.readouterr().err


def test_mismatched_model_names_are_rejected(tmp_path, small_gt, capsys):
    with pytest.raises(SystemExit):
        eval_command.main(["mpii_PCKh", "--prediction_files", "a.mat", "b.mat", "--model_names", "a"])
    assert "one name per file" in capsys.readouterr().err


def test_missing_gt_field_is_named(tmp_path):
    scipy.io.savemat(tmp_path / "gt.mat", {"pos_gt_src": np.zeros((16, 2, 3))})
    with pytest.raises(InputError, match="jnt_missing"):
        load_ground_truth(tmp_path / "gt.mat")
