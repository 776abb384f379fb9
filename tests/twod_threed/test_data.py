import shutil

import h5py
import numpy as np
import pytest
import torch

from tests.twod_threed.fake_h36m import ACTIONS, write_fake_h36m
from twod_threed.data import load_pose_pairs
from twod_threed.h36m_files import read_h36m_poses
from utils.cameras import H36M_CAMERA_IDS, load_h36m_cameras
from utils.errors import InputError
from utils.skeletons import H36M16_2D_FROM_17, MPII_TO_H36M16_2D, coco17_to_h36m17, h36m17_from_32


def test_both_layouts_give_the_same_pairs(tmp_path):
    baseline = write_fake_h36m(tmp_path / "baseline", subjects=(1, 11), frames=8, layout="baseline")
    videopose = write_fake_h36m(tmp_path / "videopose", subjects=(1, 11), frames=8, layout="videopose3d")
    a = load_pose_pairs(baseline, (1, 11), cache=False)
    b = load_pose_pairs(videopose, (1, 11), cache=False)
    assert a.sequences == b.sequences
    for name in ("root_relative_mm", "joints_2d_px", "root_camera_mm", "sequence_index", "frames", "intrinsics"):
        assert torch.allclose(getattr(a, name).double(), getattr(b, name).double(), atol=1e-3), name
    # The VideoPose3D 2D file (17 joints) as the 2D source gives the same 2D as projecting the 3D.
    c = load_pose_pairs(videopose, (1, 11), input_2d=str(videopose / "data_2d_h36m_gt.npz"), cache=False)
    assert torch.allclose(c.joints_2d_px, b.joints_2d_px, atol=1e-3)



def test_a_coco_order_2d_file_trains_on_its_mapped_joints(tmp_path):
    """A VideoPose3D 2D file in COCO order (its metadata says so) is mapped to the lifter's joints, never read as
    Human3.6M's 17."""
    videopose = write_fake_h36m(tmp_path / "videopose", subjects=(1,), frames=6, layout="videopose3d")
    rng = np.random.default_rng(3)
    coco = {"S1": {action: [rng.uniform(0, 1000, (6, 17, 2)) for _ in H36M_CAMERA_IDS]
                   for action in ACTIONS}}
    metadata = {"layout_name": "coco", "num_joints": 17,
                "keypoints_symmetry": [[1, 3, 5, 7, 9, 11, 13, 15], [2, 4, 6, 8, 10, 12, 14, 16]]}
    path = tmp_path / "data_2d_h36m_detectron_pt_coco.npz"
    np.savez(path, positions_2d=np.array(coco, dtype=object), metadata=np.array(metadata, dtype=object))
    pairs = load_pose_pairs(videopose, (1,), input_2d=str(path), cache=False)
    row = pairs.sequences.index((1, "Eating", H36M_CAMERA_IDS[1]))
    rows = torch.nonzero(pairs.sequence_index == row)[:, 0]
    expected = coco17_to_h36m17(coco["S1"]["Eating"][1])[:, list(H36M16_2D_FROM_17)]
    np.testing.assert_allclose(pairs.joints_2d_px[rows].numpy(), expected, atol=1e-3)
    pelvis = (coco["S1"]["Eating"][1][:, 11] + coco["S1"]["Eating"][1][:, 12]) / 2  # mid-hips
    np.testing.assert_allclose(pairs.joints_2d_px[rows, 0].numpy(), pelvis, atol=1e-3)

def test_pairs_are_root_relative_camera_frame_and_projected(fake_h36m):
    pairs = load_pose_pairs(fake_h36m, (1,), cache=False)
    assert len(pairs) == 4 * 4 * 40 and pairs.root_relative_mm.shape == (640, 16, 3)
    world = read_h36m_poses(fake_h36m, (1,))[(1, "Eating")]
    camera = load_h36m_cameras(fake_h36m / "cameras.h5", [1])[(1, H36M_CAMERA_IDS[2])]
    row = pairs.sequences.index((1, "Eating", H36M_CAMERA_IDS[2]))
    rows = torch.nonzero(pairs.sequence_index == row)[:, 0]
    joints_camera = camera.world_to_camera(h36m17_from_32(world))
    np.testing.assert_allclose(pairs.root_relative_mm[rows].numpy(), joints_camera[:, 1:] - joints_camera[:, :1],
                               atol=1e-3)
    np.testing.assert_allclose(pairs.root_camera_mm[rows].numpy(), joints_camera[:, 0], atol=1e-3)
    np.testing.assert_allclose(pairs.joints_2d_px[rows].numpy(),
                               camera.project(joints_camera)[:, list(H36M16_2D_FROM_17)], atol=1e-3)
    assert pairs.names()[rows[5]] == f"S1/Eating/{H36M_CAMERA_IDS[2]}/000005"


def test_corrupt_s11_directions_is_dropped(fake_h36m):
    pairs = load_pose_pairs(fake_h36m, (9, 11), cache=False)
    assert (11, "Directions") not in {(s, a) for s, a, _ in pairs.sequences}
    assert (9, "Directions") in {(s, a) for s, a, _ in pairs.sequences}
    assert len(pairs) == (4 + 3) * 4 * 40
    assert (11, "Directions") in read_h36m_poses(fake_h36m, (11,), drop_corrupt=False)


def test_cache_is_reused_and_follows_the_files(tmp_path, private_cache):
    root = write_fake_h36m(tmp_path / "data", subjects=(1,), frames=6, actions=("Walking",))
    first = load_pose_pairs(root, (1,))
    assert len(list(private_cache.glob("twod_threed/pairs_*.pt"))) == 1
    second = load_pose_pairs(root, (1,))
    assert torch.equal(first.joints_2d_px, second.joints_2d_px) and first.sequences == second.sequences
    path = root / "S1" / "MyPoses" / "3D_positions" / "Walking.h5"
    with h5py.File(path, "r+") as handle:
        handle["3D_positions"][...] = handle["3D_positions"][()] + 10.0
    third = load_pose_pairs(root, (1,))
    assert len(list(private_cache.glob("twod_threed/pairs_*.pt"))) == 2
    assert not torch.allclose(third.root_camera_mm, first.root_camera_mm)


def test_detections_in_mpii_order_are_read(tmp_path):
    root = write_fake_h36m(tmp_path / "data", subjects=(1,), frames=6, actions=("Photo 1",))
    gt = load_pose_pairs(root, (1,), cache=False)
    folder = root / "S1" / "StackedHourglass"
    folder.mkdir()
    for s, (subject, action, camera_id) in enumerate(gt.sequences):
        h36m = gt.joints_2d_px[gt.sequence_index == s].numpy() + 1.5
        mpii = np.zeros_like(h36m)
        mpii[:, list(MPII_TO_H36M16_2D)] = h36m
        # The baseline's detections name this action TakingPhoto for some subjects.
        with h5py.File(folder / f"TakingPhoto_1.{camera_id}.h5", "w") as handle:
            handle["poses"] = mpii
    detected = load_pose_pairs(root, (1,), input_2d="detections", cache=False)
    assert torch.allclose(detected.joints_2d_px, gt.joints_2d_px + 1.5, atol=1e-4)


def test_specimen_cameras_are_read(specimens, tmp_path):
    with h5py.File(specimens / "h36m" / "cameras.h5") as handle:
        pose_world = handle["3dtest"][()].reshape(32, 3)
    shutil.copy(specimens / "h36m" / "cameras.h5", tmp_path / "cameras.h5")
    folder = tmp_path / "S1" / "MyPoses" / "3D_positions"
    folder.mkdir(parents=True)
    with h5py.File(folder / "Posing.h5", "w") as handle:
        handle["3D_positions"] = np.repeat(pose_world.reshape(96, 1), 3, axis=1)
    pairs = load_pose_pairs(tmp_path, (1,), cache=False)
    assert [c for _, _, c in pairs.sequences] == list(H36M_CAMERA_IDS)
    cameras = load_h36m_cameras(specimens / "h36m" / "cameras.h5", [1])
    for s, (_, _, camera_id) in enumerate(pairs.sequences):
        expected = cameras[(1, camera_id)].project_world(h36m17_from_32(pose_world))[list(H36M16_2D_FROM_17)]
        np.testing.assert_allclose(pairs.joints_2d_px[pairs.sequence_index == s][0].numpy(), expected, atol=1e-3)
    assert (pairs.root_camera_mm[:, 2] > 1000).all()


def _write_positions(root, values):
    folder = root / "S1" / "MyPoses" / "3D_positions"
    with h5py.File(folder / "Walking.h5", "w") as handle:
        handle["3D_positions"] = values


def test_bad_input_names_the_file_and_field(tmp_path):
    root = write_fake_h36m(tmp_path / "data", subjects=(1,), frames=6, actions=("Walking",))
    _write_positions(root, np.zeros((93, 6)))  # 31 joints
    with pytest.raises(InputError, match=r"Walking\.h5.*'3D_positions'.*\(96, T\)"):
        load_pose_pairs(root, (1,), cache=False)
    values = np.zeros((96, 6))
    values[4, 2] = np.nan
    _write_positions(root, values)
    with pytest.raises(InputError, match=r"Walking\.h5.*'3D_positions'.*NaN.*frame 2"):
        load_pose_pairs(root, (1,), cache=False)
    (root / "cameras.h5").unlink()  # the built-in Human3.6M cameras stand in; the poses are still checked
    with pytest.raises(InputError, match=r"Walking\.h5.*'3D_positions'.*NaN"):
        load_pose_pairs(root, (1,), cache=False)
    with pytest.raises(InputError, match=r"no built-in Human3.6M cameras for subjects \[2\].*cameras.h5"):
        (write_fake_h36m(tmp_path / "s2", subjects=(2,), frames=4, actions=("Walking",)) / "cameras.h5").unlink()
        load_pose_pairs(tmp_path / "s2", (2,), cache=False)
    with pytest.raises(InputError, match=r"no group 'subject5'"):
        write_fake_h36m(tmp_path / "other", subjects=(1,), frames=4, actions=("Walking",))
        load_pose_pairs(tmp_path / "other", (1, 5), cache=False)
    with pytest.raises(InputError, match=r"S7.*3D_positions.*folder not found|no Human3.6M poses"):
        write_fake_h36m(tmp_path / "third", subjects=(7,), frames=4, actions=("Walking",))
        shutil.rmtree(tmp_path / "third" / "S7")
        load_pose_pairs(tmp_path / "third", (7,), cache=False)
