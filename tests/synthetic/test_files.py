"""The written files, field by field against the specimens of the real formats (../shared/specimens)."""
import json
from pathlib import Path

import cv2
import h5py
import numpy as np
import pytest
import scipy.io

from synthetic.h36m_scene import SUBJECTS
from synthetic.motions import ACTIONS
from utils.cameras import H36M_CAMERA_IDS, load_h36m_cameras
from utils.npz import load_npz
from utils.skeletons import H36M32

TINY_ACTIONS = ("Directions", "Greeting", "Purchases", "Sitting", "SittingDown", "Walking")


@pytest.fixture(scope="module")
def records(tiny_dataset):
    return json.loads((tiny_dataset / "mpii" / "mpii_annotations.json").read_text())


def test_mpii_records_have_the_specimen_keys_and_types(records, specimens):
    specimen = json.loads((specimens / "mpii" / "mpii_annotations_sample.json").read_text())
    keys = list(specimen[0])
    by_others = {int(r["numOtherPeople"]): r for r in specimen}
    for record in records:
        assert list(record) == keys + ["headboxes"]
        reference = by_others[min(int(record["numOtherPeople"]), 2)]
        for key in keys:
            assert type(record[key]) is type(reference[key]), key
        assert record["dataset"] == "MPI" and record["isValidation"] in (0.0, 1.0)
        assert len(record["img_paths"]) == 13 and record["img_paths"][:9].isdigit()
        assert np.array(record["joint_self"]).shape == (16, 3)
        assert np.array(record["headboxes"]).shape == (2, 2)
        others = int(record["numOtherPeople"])
        if others == 0:
            assert record["joint_others"] == by_others[0]["joint_others"]  # MATLAB's empty array
        elif others == 1:
            assert np.array(record["joint_others"]).shape == (16, 3)
        else:
            assert np.array(record["joint_others"]).shape == (others, 16, 3)
            assert len(record["scale_provided_other"]) == others


def test_mpii_record_conventions(records, tiny_dataset):
    images = {}
    for record in records:
        images.setdefault(record["img_paths"], []).append(record)
        joints = np.array(record["joint_self"])
        missing = (joints[:, :2] == 0).all(1)
        assert (joints[missing, 2] == 0).all()
        inside = ~missing
        assert (joints[inside, 0] >= 0).all() and (joints[inside, 0] <= record["img_width"] - 1).all()
        assert (joints[inside, 1] >= 0).all() and (joints[inside, 1] <= record["img_height"] - 1).all()
        (x1, y1), (x2, y2) = record["headboxes"]
        assert x1 < x2 and y1 < y2
        top, neck = joints[9, :2], joints[8, :2]  # the head box holds head top and upper neck
        if inside[9] and inside[8]:
            for point in (top, neck):
                assert x1 - 2 <= point[0] <= x2 + 2 and y1 - 2 <= point[1] <= y2 + 2
        assert 0.3 < record["scale_provided"] < 6
    for name, people in images.items():
        image = cv2.imread(str(tiny_dataset / "mpii" / "images" / name))
        assert image.shape[:2] == (people[0]["img_height"], people[0]["img_width"])
        assert sorted(p["people_index"] for p in people) == list(range(1, len(people) + 1))
        assert all(p["numOtherPeople"] == len(people) - 1 for p in people)
        assert len({p["isValidation"] for p in people}) == 1 and len({p["annolist_index"] for p in people}) == 1
    assert (1280.0, 720.0) in {(r["img_width"], r["img_height"]) for r in records}


def test_valid_h5_matches_the_specimen_layout_and_conventions(records, tiny_dataset, specimens):
    val = [record for record in records if record["isValidation"] == 1.0]
    with h5py.File(specimens / "mpii" / "valid.h5") as reference, \
            h5py.File(tiny_dataset / "mpii" / "annot" / "valid.h5") as written:
        assert sorted(written) == sorted(reference)
        for key in reference:
            assert written[key].dtype.kind == reference[key].dtype.kind, key
            assert written[key].shape[1:] == reference[key].shape[1:], key
            assert written[key].shape[0] == len(val), key
        data = {key: written[key][()] for key in written}
    assert data["imgname"].dtype == np.dtype("S13")
    for index, record in enumerate(val):
        scale = record["scale_provided"]
        assert data["imgname"][index].decode() == record["img_paths"]
        np.testing.assert_allclose(data["center"][index], np.add(record["objpos"], [0, 15 * scale]))
        assert data["scale"][index] == pytest.approx(1.25 * scale)
        joints = np.array(record["joint_self"])
        np.testing.assert_array_equal(data["part"][index], joints[:, :2])
        np.testing.assert_array_equal(data["visible"][index], joints[:, 2])
        (x1, y1), (x2, y2) = record["headboxes"]
        assert data["normalize"][index] == pytest.approx(0.6 * np.hypot(x2 - x1, y2 - y1))
        assert data["index"][index] == record["annolist_index"] - 1
        assert data["person"][index] == record["people_index"] - 1
        thorax, pelvis = joints[7, :2], joints[6, :2]
        if (thorax != 0).any() and (pelvis != 0).any():
            dx, dy = thorax - pelvis
            assert data["torsoangle"][index] == pytest.approx(np.degrees(np.arctan2(dx, -dy)))


def test_detections_mat_matches_the_specimen(records, tiny_dataset, specimens):
    reference = scipy.io.loadmat(specimens / "mpii" / "detections_our_format.mat")
    written = scipy.io.loadmat(tiny_dataset / "mpii" / "detections_our_format.mat")
    count = sum(record["isValidation"] == 1.0 for record in records)
    for key in ("pos_gt_src", "jnt_missing", "headboxes_src", "dataset_joints"):
        assert written[key].dtype == reference[key].dtype, key
        assert written[key].shape[:-1] == reference[key].shape[:-1], key
    assert written["pos_gt_src"].shape == (16, 2, count)
    assert written["jnt_missing"].shape == (16, count)
    assert written["headboxes_src"].shape == (2, 2, count)
    names = [str(cell[0]) for cell in written["dataset_joints"][0]]
    assert names == [str(cell[0]) for cell in reference["dataset_joints"][0]]
    with h5py.File(tiny_dataset / "mpii" / "annot" / "valid.h5") as valid:
        np.testing.assert_array_equal(written["pos_gt_src"].transpose(2, 0, 1), valid["part"][()])
        missing = (valid["part"][()] == 0).all(-1)
    np.testing.assert_array_equal(written["jnt_missing"].T, missing)
    boxes = written["headboxes_src"].transpose(2, 0, 1)
    val = [record for record in records if record["isValidation"] == 1.0]
    np.testing.assert_array_equal(boxes, [record["headboxes"] for record in val])


def test_cameras_h5_matches_the_specimen_layout(tiny_dataset, specimens):
    with h5py.File(specimens / "h36m" / "cameras.h5") as reference, \
            h5py.File(tiny_dataset / "h36m" / "cameras.h5") as written:
        assert sorted(written) == sorted(f"subject{subject}" for subject in SUBJECTS)
        for subject in SUBJECTS:
            assert sorted(written[f"subject{subject}"]) == sorted(reference[f"subject{subject}"])
            for camera in reference[f"subject{subject}"]:
                group, expected = written[f"subject{subject}/{camera}"], reference[f"subject{subject}/{camera}"]
                assert sorted(group) == sorted(expected)
                for key in expected:
                    assert group[key].shape == expected[key].shape and group[key].dtype == expected[key].dtype, key
    real = load_h36m_cameras(specimens / "h36m" / "cameras.h5", subjects=[1])
    cameras = load_h36m_cameras(tiny_dataset / "h36m" / "cameras.h5")
    assert sorted(cameras) == sorted((s, c) for s in SUBJECTS for c in H36M_CAMERA_IDS)
    for (subject, camera_id), camera in cameras.items():
        twin = real[(1, camera_id)]
        np.testing.assert_allclose(camera.R @ camera.R.T, np.eye(3), atol=1e-9)
        assert np.linalg.det(camera.R) == pytest.approx(1.0)
        assert np.linalg.norm(camera.T - twin.T) < 500  # where the real camera stands, within half a metre
        np.testing.assert_allclose(camera.f, twin.f, atol=5)
        np.testing.assert_allclose(camera.k, twin.k, atol=0.01)
        assert (camera.width, camera.height) == ((1000, 1002) if camera_id == "60457274" else (1000, 1000))
        # the camera looks at the capture area: the origin is in front of it and inside the image
        centre_px = camera.project_world(np.array([0.0, 0.0, 900.0]))
        assert 200 < centre_px[0] < 800 and 200 < centre_px[1] < 800


def _poses(tiny_dataset: Path) -> dict:
    poses = {}
    for path in sorted((tiny_dataset / "h36m").glob("S*/MyPoses/3D_positions/*.h5")):
        with h5py.File(path) as handle:
            assert list(handle) == ["3D_positions"]
            data = handle["3D_positions"]
            assert data.dtype == np.float64 and data.shape[0] == 96
            poses[(path.parents[2].name, path.stem)] = data[()].T.reshape(-1, 32, 3)
    return poses


def test_pose_files_names_and_realistic_bones(tiny_dataset, specimens):
    poses = _poses(tiny_dataset)
    expected = {(f"S{s}", name) for s in SUBJECTS for a in TINY_ACTIONS for name in (a, f"{a} 1")}
    assert set(poses) == expected
    with h5py.File(specimens / "h36m" / "cameras.h5") as handle:
        real = handle["3dtest"][()].reshape(32, 3)  # one real Human3.6M pose, world mm
    bones = [j for j, p in enumerate(H36M32.parents) if p >= 0 and np.linalg.norm(real[j] - real[p]) > 50]
    real_lengths = np.array([np.linalg.norm(real[j] - real[H36M32.parents[j]]) for j in bones])
    for joints in poses.values():
        lengths = np.linalg.norm(joints[0, bones] - joints[0, [H36M32.parents[j] for j in bones]], axis=-1)
        assert ((lengths / real_lengths > 0.6) & (lengths / real_lengths < 1.4)).all()
    head_heights = np.concatenate([joints[:, 15, 2] for joints in poses.values()])
    assert 1350 < np.percentile(head_heights, 95) < 1900  # adults standing on the floor (z = 0), mm


def test_projecting_3d_labels_reproduces_the_2d_labels(tiny_dataset):
    cameras = load_h36m_cameras(tiny_dataset / "h36m" / "cameras.h5")
    poses = _poses(tiny_dataset)
    archive_3d = load_npz(tiny_dataset / "h36m" / "data_3d_h36m.npz")
    archive_2d = load_npz(tiny_dataset / "h36m" / "data_2d_h36m_gt.npz")
    positions_3d, positions_2d = archive_3d["positions_3d"].item(), archive_2d["positions_2d"].item()
    assert sorted(positions_3d) == sorted(positions_2d) == sorted(f"S{s}" for s in SUBJECTS)
    for (subject, action), joints_mm in poses.items():
        metres = positions_3d[subject][action]
        assert metres.shape == joints_mm.shape and metres.dtype == np.float32
        np.testing.assert_allclose(metres * 1000.0, joints_mm, atol=1e-3)
        views = positions_2d[subject][action]
        assert isinstance(views, list) and len(views) == 4
        for camera_id, joints_px in zip(H36M_CAMERA_IDS, views):
            assert joints_px.shape == (len(joints_mm), 32, 2)
            camera = cameras[(int(subject[1:]), camera_id)]
            np.testing.assert_allclose(camera.project_world(joints_mm), joints_px, atol=1e-3)
            np.testing.assert_allclose(camera.project_world(metres.astype(np.float64) * 1000.0), joints_px, atol=1e-3)
    metadata = archive_2d["metadata"].item()
    assert metadata["num_joints"] == 32 and metadata["layout_name"] == "h36m"
    left, right = metadata["keypoints_symmetry"]
    assert list(zip(left, right)) == list(H36M32.flip_pairs)


def test_frame_index_and_images(tiny_dataset):
    frames = json.loads((tiny_dataset / "h36m" / "frames.json").read_text())
    assert frames and set(frames[0]) == {"subject", "action", "camera", "frame", "image"}
    poses = _poses(tiny_dataset)
    for item in frames:
        assert item["image"] == f"{item['subject']}/Images/{item['action']}.{item['camera']}/{item['frame']:06d}.jpg"
        assert 0 <= item["frame"] < len(poses[(item["subject"], item["action"])])
    assert not [f for f in frames if f["subject"] == "S11" and f["action"] == "Directions"]  # like the real set
    assert ("S11", "Directions") in poses
    assert {f["camera"] for f in frames} == set(H36M_CAMERA_IDS)
    for item in frames[:: max(len(frames) // 8, 1)]:
        image = cv2.imread(str(tiny_dataset / "h36m" / item["image"]))
        assert image.shape == ((1002, 1000, 3) if item["camera"] == "60457274" else (1000, 1000, 3))


def test_info_json(tiny_dataset, records):
    info = json.loads((tiny_dataset / "info.json").read_text())
    assert info["size"] == "tiny" and info["seed"] == 0
    counts = info["counts"]
    assert counts["mpii_people"] == len(records) >= 36
    assert counts["mpii_val_people"] == sum(r["isValidation"] == 1.0 for r in records) >= 12
    assert counts["h36m_sequences"] == len(SUBJECTS) * len(TINY_ACTIONS) * 2
    assert set(TINY_ACTIONS) <= set(ACTIONS)
