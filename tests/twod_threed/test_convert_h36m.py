"""The original Human3.6M release (CDF files) -> both derived layouts, and the built-in Human3.6M cameras."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from twod_threed.convert_h36m import convert, main
from twod_threed.data import load_pose_pairs
from twod_threed.h36m_cameras import BUILTIN_SUBJECTS, builtin_cameras
from twod_threed.h36m_files import read_baseline_3d, read_videopose3d_2d, read_videopose3d_3d
from twod_threed.h36m_release import canonical_action, read_release_sequence
from utils.cameras import H36M_CAMERA_IDS, load_h36m_cameras
from utils.errors import InputError
from utils.npz import load_npz
from utils.skeletons import H36M16_2D_FROM_17, H36M17_FROM_32, h36m17_from_32
from tests.twod_threed.fake_h36m import write_fake_h36m

SEQUENCES = (("S1", "Directions 1"), ("S1", "Directions"), ("S5", "Walking 1"), ("S11", "Directions"))


def write_pose_cdf(path, values: np.ndarray, variable: str = "Pose") -> None:
    """A release-style CDF file: `variable` (1, T, W) float32."""
    from cdflib.cdfwrite import CDF

    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)  # cdflib writes new files only
    writer = CDF(str(path), cdf_spec={"Majority": "row_major"})
    writer.write_var({"Variable": variable, "Data_Type": CDF.CDF_FLOAT, "Num_Elements": 1, "Rec_Vary": True,
                      "Dim_Sizes": list(values.shape[1:])}, var_data=values.astype(np.float32))
    writer.close()


@pytest.fixture(scope="module")
def release(specimens):
    return specimens / "h36m" / "original"


@pytest.fixture(scope="module")
def expected(release):
    return load_npz(release / "EXPECTED.npz")


@pytest.fixture(scope="module")
def converted(release, tmp_path_factory):
    output = tmp_path_factory.mktemp("converted")
    assert main(["--source", str(release), "--output_dir", str(output)]) == 0
    return output


def test_builtin_cameras_equal_the_published_file(specimens):
    published = load_h36m_cameras(specimens / "h36m" / "cameras.h5", list(BUILTIN_SUBJECTS))
    builtin = builtin_cameras()
    assert sorted(builtin) == sorted(published) and len(builtin) == 28
    for key, camera in published.items():
        for field in ("R", "T", "f", "c", "k", "p"):
            np.testing.assert_array_equal(getattr(builtin[key], field), getattr(camera, field), err_msg=f"{key}")
        assert (builtin[key].name, builtin[key].width, builtin[key].height) == (camera.name, camera.width,
                                                                                camera.height)


def test_builtin_cameras_refuse_a_subject_they_lack():
    with pytest.raises(InputError, match="no built-in Human3.6M cameras for subjects \\[2\\]"):
        builtin_cameras([1, 2])


def test_both_layouts_reproduce_the_release(converted, expected):
    baseline = read_baseline_3d(converted, (1, 5, 11), drop_corrupt=False)
    videopose_3d = read_videopose3d_3d(converted / "data_3d_h36m.npz", (1, 5, 11), drop_corrupt=False)
    videopose_2d, layout = read_videopose3d_2d(converted / "data_2d_h36m_gt.npz", (1, 5, 11))
    assert layout == "h36m"
    for subject, action in SEQUENCES:
        key, world_mm = (int(subject[1:]), action), expected[f"{subject}/{action}/world_mm"]
        np.testing.assert_allclose(baseline[key], world_mm, atol=1e-3, rtol=0)
        np.testing.assert_allclose(videopose_3d[key], world_mm, atol=1e-3, rtol=0)  # float32 metres
        assert len(videopose_2d[key]) == 4
        for camera_id, joints_px in zip(H36M_CAMERA_IDS, videopose_2d[key]):
            assert joints_px.shape == (len(world_mm), 17, 2)
            np.testing.assert_allclose(joints_px, h36m17_from_32(expected[f"{subject}/{action}/{camera_id}/image_px"]),
                                       atol=1e-3, rtol=0)
    metadata = load_npz(converted / "data_2d_h36m_gt.npz")["metadata"].item()
    assert metadata["num_joints"] == 17 and metadata["keypoints_symmetry"] == [[4, 5, 6, 11, 12, 13],
                                                                              [1, 2, 3, 14, 15, 16]]


def test_camera_frame_and_projection_without_the_release_files(release, expected, tmp_path):
    """Without D3_Positions_mono and D2_Positions the camera frame and the 2D come from the (built-in) cameras and
    still match the release's to 1e-3 mm / 1e-3 px."""
    source = tmp_path / "release"
    world_poses = Path("S5") / "MyPoseFeatures" / "D3_Positions"
    shutil.copytree(release / world_poses, source / world_poses)
    sequence = read_release_sequence(source / "S5" / "MyPoseFeatures" / "D3_Positions" / "Walking 1.cdf", 5,
                                     builtin_cameras([5]))
    assert sequence.sources == {"camera": "computed", "image": "computed"}
    for camera_id in H36M_CAMERA_IDS:
        np.testing.assert_allclose(sequence.camera_mm[camera_id], expected[f"S5/Walking 1/{camera_id}/camera_mm"],
                                   atol=1e-3, rtol=0)
        np.testing.assert_allclose(sequence.image_px[camera_id], expected[f"S5/Walking 1/{camera_id}/image_px"],
                                   atol=1e-3, rtol=0)
    read = read_release_sequence(release / "S5" / "MyPoseFeatures" / "D3_Positions" / "Walking 1.cdf", 5, {})
    assert read.sources == {"camera": "read", "image": "read"}
    np.testing.assert_allclose(read.camera_mm["60457274"], expected["S5/Walking 1/60457274/camera_mm"], atol=1e-3)


def test_the_loaders_train_on_the_output_with_builtin_cameras(converted, specimens, expected, tmp_path):
    """No cameras.h5 in the output: the built-in cameras; the same pairs as with the published cameras.h5."""
    pairs = load_pose_pairs(converted, (1, 5), cache=False)
    assert [s[:2] for s in pairs.sequences[::4]] == [(1, "Directions"), (1, "Directions 1"), (5, "Walking 1")]
    first = expected["S1/Directions/54138969/image_px"][:, list(H36M17_FROM_32)][:, list(H36M16_2D_FROM_17)]
    np.testing.assert_allclose(pairs.joints_2d_px[:30].numpy(), first, atol=1e-3)
    with_file = tmp_path / "with_cameras"
    shutil.copytree(converted, with_file)
    shutil.copy(specimens / "h36m" / "cameras.h5", with_file / "cameras.h5")
    np.testing.assert_array_equal(load_pose_pairs(with_file, (1, 5), cache=False).joints_2d_px, pairs.joints_2d_px)


def test_videopose3d_files_alone_are_enough(tmp_path):
    """A VideoPose3D-only folder without cameras.h5 (the files VideoPose3D users have) loads with the built-ins."""
    folder = write_fake_h36m(tmp_path / "vp3d", subjects=(1, 9), frames=5, layout="videopose3d")
    (folder / "cameras.h5").unlink()
    pairs = load_pose_pairs(folder, (9,), cache=False)
    world_mm = read_videopose3d_3d(folder / "data_3d_h36m.npz", (9,))[(9, "Eating")]
    camera = builtin_cameras([9])[(9, "54138969")]
    index = pairs.sequences.index((9, "Eating", "54138969"))
    rows = (pairs.sequence_index == index).numpy()
    expected_px = camera.project_world(h36m17_from_32(world_mm))[:, list(H36M16_2D_FROM_17)]
    np.testing.assert_allclose(pairs.joints_2d_px[rows].numpy(), expected_px, atol=1e-3)


def test_action_names_and_all_files(release, tmp_path):
    source = tmp_path / "release"
    folder = source / "S1" / "MyPoseFeatures" / "D3_Positions"
    folder.mkdir(parents=True)
    original = release / "S1" / "MyPoseFeatures" / "D3_Positions" / "Directions 1.cdf"
    for name in ("TakingPhoto 1", "WalkingDog", "Directions_ALL"):
        shutil.copy(original, folder / f"{name}.cdf")
    sequences = convert(source, tmp_path / "out")
    assert sorted(s.action for s in sequences) == ["Photo 1", "WalkDog"]
    assert sorted(p.name for p in (tmp_path / "out" / "S1" / "MyPoses" / "3D_positions").iterdir()) == \
        ["Photo 1.h5", "WalkDog.h5"]
    assert canonical_action("Directions 1") == "Directions 1"


def test_clear_errors_name_the_file(tmp_path, capsys):
    (tmp_path / "empty" / "S1").mkdir(parents=True)
    with pytest.raises(InputError, match="no S<n>/MyPoseFeatures/D3_Positions/ folder"):
        convert(tmp_path / "empty", tmp_path / "out")
    folder = tmp_path / "bad" / "S1" / "MyPoseFeatures" / "D3_Positions"
    write_pose_cdf(folder / "Walking.cdf", np.zeros((1, 4, 96)), variable="Positions")
    with pytest.raises(InputError, match="Walking.cdf: has no variable 'Pose'"):
        convert(tmp_path / "bad", tmp_path / "out")
    (folder / "Walking.cdf").unlink()
    write_pose_cdf(folder / "Eating.cdf", np.zeros((1, 4, 64)))
    with pytest.raises(InputError, match="Eating.cdf: 'Pose' has shape \\(1, 4, 64\\), expected \\(1, T, 96\\)"):
        convert(tmp_path / "bad", tmp_path / "out")
    (folder / "Eating.cdf").write_bytes(b"not a CDF file")
    assert main(["--source", str(tmp_path / "bad"), "--output_dir", str(tmp_path / "out")]) == 1
    assert "Eating.cdf: cannot be read as a CDF file" in capsys.readouterr().err


def test_files_of_different_lengths_keep_the_common_frames(release, expected, tmp_path, capsys):
    source = tmp_path / "release"
    shutil.copytree(release / "S5", source / "S5")
    short = source / "S5" / "MyPoseFeatures" / "D2_Positions" / "Walking 1.55011271.cdf"
    write_pose_cdf(short, expected["S5/Walking 1/55011271/image_px"][None, :30].reshape(1, 30, 64))
    sequence = convert(source, tmp_path / "out")[0]
    assert "files hold [30, 36] frames; keeping the first 30" in capsys.readouterr().out
    assert len(sequence.world_mm) == 30 and all(len(v) == 30 for v in sequence.image_px.values())
    np.testing.assert_allclose(sequence.image_px["55011271"], expected["S5/Walking 1/55011271/image_px"][:30],
                               atol=1e-3, rtol=0)
