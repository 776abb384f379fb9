"""The synthetic HumanEva-I recordings: VideoPose3D's layout, projections that match the 2D file, rendered clips,
and the lazy cache entry of their own."""
import json

import cv2
import numpy as np

from synthetic import cache
from twod_threed.humaneva_files import read_humaneva_2d, read_humaneva_3d, read_humaneva_cameras
from utils.npz import load_npz


def test_layout_and_values(tiny_humaneva):
    poses = read_humaneva_3d(tiny_humaneva / "data_3d_humaneva15.npz")
    subjects = {s for s, _ in poses}
    assert subjects == {f"{split}/S{n}" for split in ("Train", "Validate") for n in (1, 2, 3)}
    assert {a for _, a in poses} == {"Walking 1", "Jog 1", "Box 1", "Gestures 1", "ThrowCatch 1"}
    walking = poses[("Train/S1", "Walking 1")]
    assert walking.shape[1:] == (15, 3) and 32 <= len(walking) <= 40
    # pelvis about 0.9-1.1 m high, head above thorax above pelvis, ankles near the floor (world z up, mm)
    assert 800 < walking[:, 0, 2].mean() < 1150 and (walking[:, 14, 2] > walking[:, 1, 2]).all()
    assert (walking[:, [10, 13], 2].min(1) < 200).all()  # a foot on the floor in every frame
    raw = load_npz(tiny_humaneva / "data_2d_humaneva15_gt.npz")
    metadata = raw["metadata"].item()
    assert metadata["num_joints"] == 15 and metadata["keypoints_symmetry"] == [[2, 3, 4, 8, 9, 10], [5, 6, 7, 11, 12, 13]]
    assert raw["positions_2d"].item()["Train/S1"]["Walking 1"][0].dtype == np.float32


def test_cameras_file_reprojects_the_2d_file(tiny_humaneva):
    """3D world mm through humaneva_cameras.json (quaternion camera -> world, centre mm, f, c) = the 2D file."""
    poses = read_humaneva_3d(tiny_humaneva / "data_3d_humaneva15.npz")
    keypoints = read_humaneva_2d(tiny_humaneva / "data_2d_humaneva15_gt.npz")
    cameras = read_humaneva_cameras(tiny_humaneva / "humaneva_cameras.json")
    assert [c.name for c in cameras["S2"]] == ["C1", "C2", "C3"] and cameras["S2"][0].width == 640
    for key in [("Validate/S2", "Jog 1"), ("Train/S3", "Box 1")]:
        for camera, joints_2d in zip(cameras[key[0].split("/")[1]], keypoints[key]):
            np.testing.assert_allclose(camera.project_world(poses[key]), joints_2d, atol=2e-3)
            assert (camera.world_to_camera(poses[key])[..., 2] > 1000).all()  # in front of every camera


def test_rendered_clips_are_consecutive_frames(tiny_humaneva):
    index = json.loads((tiny_humaneva / "frames.json").read_text())
    assert len(index) == 2 * 3 * 5 * 3 * 4
    clip = [e["frame"] for e in index if (e["subject"], e["action"], e["camera"]) == ("Train/S1", "Jog 1", "C2")]
    assert np.all(np.diff(clip) == 1) and len(clip) == 4
    image = cv2.imread(str(tiny_humaneva / index[0]["image"]))
    assert image.shape == (480, 640, 3)


def test_humaneva_has_its_own_lazy_cache_entry(tmp_path, monkeypatch):
    """Asking for the Human3.6M/MPII dataset never generates HumanEva; the HumanEva entry sits beside it."""
    monkeypatch.setenv("STITCHPOSE_CACHE", str(tmp_path))
    calls = []
    monkeypatch.setattr("synthetic.write_humaneva.generate_humaneva",
                        lambda root, size, seed: calls.append((size, seed)) or _fake_info(root, size, seed))
    folder = cache.humaneva_data_dir("tiny", 3)
    assert folder == tmp_path / "synthetic" / "humaneva_tiny_seed3" and calls == [("tiny", 3)]
    assert cache.humaneva_data_dir("tiny", 3) == folder and calls == [("tiny", 3)]  # reused, not regenerated
    assert cache.humaneva_root(tmp_path / "x") == tmp_path / "x"  # a folder given is used as it is


def _fake_info(root, size, seed):
    root.mkdir(parents=True, exist_ok=True)
    (root / "info.json").write_text(json.dumps({"version": cache.HUMANEVA_VERSION, "size": size, "seed": seed}))
