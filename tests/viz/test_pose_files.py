"""Pose file readers: every file run.py writes and the ground-truth formats, to arrays; clear errors otherwise."""
import json

import numpy as np
import pytest
import scipy.io

import run as run_command
from stacked_hourglass.annotations import load_split
from stacked_hourglass.inference import Predictions
from stacked_hourglass.run import write_predictions
from stitched.run import write_outputs
from twod_threed.data import load_pose_pairs
from utils.errors import InputError
from stitched.pairing import align
from stitched.h36m_truth import read_h36m_dataset
from stitched.pose_files import read_poses_2d, read_poses_3d
from utils.skeletons import H36M16_2D, MPII


@pytest.fixture
def valid_records(toy_mpii):
    return load_split(toy_mpii, "valid")


@pytest.fixture
def run_outputs(valid_records, tmp_path):
    """What run.py hourglass_mpii and stitched_mpii write, through their own writers."""
    count = len(valid_records)
    rng = np.random.default_rng(0)
    joints = valid_records.joints_px + rng.normal(0, 2, (count, 16, 2))
    missing = np.zeros(count, bool)
    missing[1] = True
    write_predictions(tmp_path / "hourglass", "valid", valid_records,
                      Predictions(joints, rng.random((count, 16)), missing, []))
    poses_3d = np.concatenate([np.zeros((count, 1, 3)), rng.normal(0, 300, (count, 16, 3))], 1)
    write_outputs(tmp_path / "stitched", valid_records, {"preds": joints, "poses_3d": poses_3d, "missing": missing})
    return joints, poses_3d, missing, tmp_path


def test_reads_hourglass_and_stitched_predictions(run_outputs, valid_records):
    joints, poses_3d, missing, folder = run_outputs
    for path in (folder / "hourglass" / "preds_valid.npz", folder / "hourglass" / "preds_valid.mat",
                 folder / "stitched" / "stitched_predictions.npz", folder / "stitched" / "stitched_predictions.json"):
        poses = read_poses_2d(path)
        assert poses.skeleton is MPII and np.allclose(poses.joints_px, joints, atol=0.01), path
        assert list(poses.names) == list(valid_records.image_names), path  # a .mat takes them from its .npz
    assert list(read_poses_2d(folder / "hourglass" / "preds_valid.npz").missing) == list(missing)
    assert np.allclose(read_poses_2d(folder / "hourglass" / "preds_valid.npz").centre_px, valid_records.center_px)
    for path in (folder / "stitched" / "stitched_predictions.npz", folder / "stitched" / "stitched_predictions.json"):
        poses = read_poses_3d(path)
        assert poses.poses_mm.shape == (len(joints), 17, 3) and np.allclose(poses.poses_mm, poses_3d, atol=0.01)


def test_reads_lifter_predictions_with_names_and_their_ground_truth(fake_h36m, checkpoints, tmp_path):
    pairs = load_pose_pairs(fake_h36m, (9,))
    truth = np.concatenate([np.zeros((len(pairs), 1, 3)), pairs.root_relative_mm.numpy()], 1)
    np.savez(tmp_path / "input.npz", poses_2d=pairs.joints_2d_px.numpy(), names=pairs.names(),
             ground_truth_3d=truth)
    assert run_command.main(["2d3d_h36m", "--load", str(checkpoints[1]), "--input", str(tmp_path / "input.npz"),
                             "--output_dir", str(tmp_path / "lifted")]) == 0
    predictions = read_poses_3d(tmp_path / "lifted" / "predictions_3d.npz")
    assert predictions.source.endswith(":poses_3d") and np.allclose(predictions.poses_mm[:, 0], 0)
    assert list(predictions.names) == list(pairs.names())
    truth_read = read_poses_3d(tmp_path / "lifted" / "predictions_3d.npz", ground_truth=True)
    assert truth_read.source.endswith(":ground_truth_3d") and np.allclose(truth_read.poses_mm, truth, atol=1e-3)
    lifter_input = read_poses_2d(tmp_path / "input.npz")  # the lifter's own input format, H36M order
    assert lifter_input.skeleton is H36M16_2D and np.allclose(lifter_input.joints_px, pairs.joints_2d_px.numpy())


def test_mpii_ground_truth_formats_agree(toy_mpii, valid_records):
    h5 = read_poses_2d(toy_mpii / "annot" / "valid.h5", ground_truth=True)
    mat = read_poses_2d(toy_mpii / "detections_our_format.mat", ground_truth=True)
    every_record = read_poses_2d(toy_mpii / "mpii_annotations.json", ground_truth=True)
    assert np.allclose(h5.joints_px, valid_records.joints_px) and np.allclose(mat.joints_px, h5.joints_px)
    assert mat.names is None and mat.visible.all()
    # The JSON holds every record, two people per image: the validation people are found by name and box centre.
    paired = align(every_record, h5.names, len(h5), h5.centre_px)
    assert np.allclose(paired.joints_px, h5.joints_px)
    with h5py_file(toy_mpii) as data:
        np.savez(toy_mpii.parent / "valid_keys.npz", **data)
    assert np.allclose(read_poses_2d(toy_mpii.parent / "valid_keys.npz").joints_px, h5.joints_px)


def h5py_file(root):
    import contextlib

    import h5py

    @contextlib.contextmanager
    def fields():
        with h5py.File(root / "annot" / "valid.h5", "r") as data:
            yield {key: data[key][()] for key in ("part", "visible", "normalize", "center")}

    return fields()


def test_real_format_specimens(specimens):
    mpii = specimens / "mpii"
    valid = read_poses_2d(mpii / "valid.h5")
    assert valid.joints_px.shape == (2958, 16, 2) and valid.names[0].endswith(".jpg")
    truth = read_poses_2d(mpii / "detections_our_format.mat", ground_truth=True)
    published = read_poses_2d(mpii / "detections_our_format.mat")
    assert truth.source.endswith("pos_gt_src") and published.source.endswith("pos_pred_src")
    assert truth.joints_px.shape == published.joints_px.shape == (2958, 16, 2) and truth.visible.shape == (2958, 16)
    assert not np.allclose(truth.joints_px, published.joints_px)
    assert len(read_poses_2d(mpii / "mpii_annotations_sample.json")) == 168
    body3d = np.load(specimens / "h36m" / "test_h36m_body3d.npz")
    poses_3d = read_poses_3d(specimens / "h36m" / "test_h36m_body3d.npz")
    metres = body3d["S"][..., :3]
    assert np.allclose(poses_3d.poses_mm, (metres - metres[:, :1]) * 1000.0)
    poses_2d = read_poses_2d(specimens / "h36m" / "test_h36m_body3d.npz")
    assert poses_2d.skeleton is H36M16_2D and np.allclose(poses_2d.joints_px[:, 0], body3d["part"][:, 0, :2])


def test_human36m_ground_truth_by_frame_name_or_image(fake_h36m):
    pairs = load_pose_pairs(fake_h36m, (9,))
    names = pairs.names()[[5, 0, 17]]
    poses_2d, poses_3d = read_h36m_dataset(fake_h36m, names)
    assert list(poses_3d.names) == list(names) and np.allclose(poses_3d.poses_mm[:, 0], 0)
    assert np.allclose(poses_3d.poses_mm[:, 1:], pairs.root_relative_mm.numpy()[[5, 0, 17]], atol=1e-3)
    assert np.allclose(poses_2d.joints_px, pairs.joints_2d_px.numpy()[[5, 0, 17]], atol=1e-3)
    frames = json.loads((fake_h36m / "frames.json").read_text())
    by_image, _ = read_h36m_dataset(fake_h36m / "data_3d_h36m.npz", np.asarray([f["image"] for f in frames]))
    assert list(by_image.image_names) == [f["image"] for f in frames]
    assert list(by_image.names) == [f"S9/{f['action']}/{f['camera']}/{f['frame']:06d}" for f in frames]
    with pytest.raises(InputError, match="no ground truth for 1 of 1 rows .*S9/Walking 1/54138969/009999"):
        read_h36m_dataset(fake_h36m, np.asarray(["S9/Walking 1/54138969/009999"]))


def bad_file(tmp_path, name, **fields):
    path = tmp_path / name
    np.savez(path, **fields)
    return path


@pytest.mark.parametrize("reader, make, field, words", [
    (read_poses_2d, lambda t: t / "absent.npz", None, "file not found"),
    (read_poses_2d, lambda t: bad_file(t, "p.npz", preds=np.zeros((3, 15, 2))), "preds", "shape (3, 15, 2)"),
    (read_poses_2d, lambda t: bad_file(t, "p.npz", preds=np.full((3, 16, 2), np.nan)), "preds", "NaN"),
    (read_poses_2d, lambda t: bad_file(t, "p.npz", poses_3d=np.zeros((3, 17, 3))), "poses_3d", "not 2D poses"),
    (read_poses_3d, lambda t: bad_file(t, "q.npz", poses_3d=np.zeros((3, 14, 3))), "poses_3d", "shape (3, 14, 3)"),
    (read_poses_3d, lambda t: bad_file(t, "q.npz", poses_3d=np.full((2, 17, 3), np.inf)), "poses_3d", "NaN"),
    (read_poses_3d, lambda t: bad_file(t, "q.npz", preds=np.zeros((2, 16, 2))), "poses_3d", "no 3D poses"),
    (read_poses_3d, lambda t: (t / "p.txt").write_text("x") and t / "p.txt", None, "unknown 3D pose format"),
])
def test_bad_files_name_the_file_and_the_field(reader, make, field, words, tmp_path):
    path = make(tmp_path)
    with pytest.raises(InputError) as error:
        reader(path)
    message = str(error.value)
    assert str(path) in message and words in message and (field is None or f"'{field}'" in message), message


def test_rows_without_names_must_correspond_one_to_one(run_outputs):
    folder = run_outputs[3]
    scipy.io.savemat(folder / "lonely.mat", {"preds": np.zeros((2, 16, 2))})
    lonely = read_poses_2d(folder / "lonely.mat")
    assert lonely.names is None
    with pytest.raises(InputError, match=r"lonely.mat:preds: 2 rows for 5 poses"):
        align(lonely, np.asarray(["a"] * 5), 5)
    hourglass = read_poses_2d(folder / "hourglass" / "preds_valid.npz")
    with pytest.raises(InputError, match="none of its 8 names match"):
        align(hourglass, np.asarray(["x.jpg", "y.jpg"]), 2)
