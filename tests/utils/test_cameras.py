import numpy as np
import pytest
import torch

from utils.cameras import Camera, load_h36m_cameras, project_to_pixels, save_h36m_cameras


def test_specimen_projection_reproduces_2d_labels(specimens):
    cameras = load_h36m_cameras(specimens / "h36m" / "cameras.h5")
    data = np.load(specimens / "h36m" / "test_h36m_body3d.npz")
    for image_name, joints_camera_m, part in zip(data["imgname"], data["S"], data["part"]):
        subject = int(image_name.split("/")[0][1:])
        camera_id = image_name.split(".")[1][:8]
        pixels = cameras[(subject, camera_id)].project(joints_camera_m[:, :3])
        np.testing.assert_allclose(pixels, part[:, :2], atol=1e-3)


def test_specimen_conventions(specimens):
    cameras = load_h36m_cameras(specimens / "h36m" / "cameras.h5")
    camera = cameras[(1, "54138969")]
    # R is transposed on load: rows of a world->camera rotation; the camera looks at the scene centre.
    assert np.allclose(camera.R @ camera.R.T, np.eye(3), atol=1e-6)
    np.testing.assert_allclose(camera.p, [-0.0009757, -0.00142447], atol=1e-7)  # stored reversed
    np.testing.assert_allclose(camera.T, [1841.10702775, 4955.28462345, 1563.4453959])
    assert cameras[(1, "60457274")].height == 1002


def test_specimen_3dtest_pose_lies_in_front_of_every_camera(specimens):
    import h5py

    with h5py.File(specimens / "h36m" / "cameras.h5") as handle:
        pose_world = handle["3dtest"][()].reshape(32, 3)
    for camera in load_h36m_cameras(specimens / "h36m" / "cameras.h5", subjects=[1]).values():
        depth = camera.world_to_camera(pose_world)[:, 2]
        assert (depth > 1000).all()
        pixels = camera.project_world(pose_world)
        assert ((pixels > 0) & (pixels < 1000)).all()


def test_world_camera_round_trip_and_hand_computed_projection():
    camera = Camera(R=np.eye(3), T=np.array([0.0, 0.0, -1000.0]), f=np.array([1000.0, 1000.0]),
                    c=np.array([500.0, 500.0]), k=np.zeros(3), p=np.zeros(2))
    point = np.array([[100.0, -50.0, 1000.0]])
    cam = camera.world_to_camera(point)
    np.testing.assert_allclose(cam, [[100.0, -50.0, 2000.0]])
    np.testing.assert_allclose(camera.camera_to_world(cam), point)
    np.testing.assert_allclose(camera.project(cam), [[550.0, 475.0]])


def test_distortion_hand_computed():
    # x = (0.1, 0.2): r2 = 0.05; radial = 1 + k1 r2; tangential per Human3.6M's model.
    k1, p1, p2 = 0.1, 0.01, 0.02
    x, y, r2 = 0.1, 0.2, 0.05
    radial = 1 + k1 * r2
    tan = p1 * x + p2 * y
    expected = np.array([x * (radial + tan) + p1 * r2, y * (radial + tan) + p2 * r2]) * 1000 + 500
    out = project_to_pixels(np.array([0.1, 0.2, 1.0]), np.array([1000.0, 1000]), np.array([500.0, 500]),
                            np.array([k1, 0, 0]), np.array([p1, p2]))
    np.testing.assert_allclose(out, expected)


def test_projection_is_differentiable_in_torch():
    points = torch.tensor([[0.1, 0.2, 2.0]], requires_grad=True)
    pixels = project_to_pixels(points, [1000, 1000], [500, 500], [0.1, 0.0, 0.0], [0.01, 0.02])
    pixels.sum().backward()
    assert torch.isfinite(points.grad).all() and points.grad.abs().sum() > 0


def test_save_load_round_trip(tmp_path, specimens):
    cameras = load_h36m_cameras(specimens / "h36m" / "cameras.h5")
    save_h36m_cameras(tmp_path / "cameras.h5", cameras)
    again = load_h36m_cameras(tmp_path / "cameras.h5")
    assert again.keys() == cameras.keys()
    for key in cameras:
        for field in ("R", "T", "f", "c", "k", "p"):
            np.testing.assert_allclose(getattr(again[key], field), getattr(cameras[key], field))


def test_bad_camera_file_is_named(tmp_path):
    bad = tmp_path / "cameras.h5"
    bad.write_bytes(b"not hdf5")
    with pytest.raises(ValueError, match="cameras.h5"):
        load_h36m_cameras(bad)
    with pytest.raises(FileNotFoundError, match="missing.h5"):
        load_h36m_cameras(tmp_path / "missing.h5")


def test_quaternions_against_hand_computed_rotations():
    from utils.cameras import camera_from_videopose3d, matrix_to_quaternion, quaternion_to_matrix

    half = np.sqrt(0.5)
    np.testing.assert_allclose(quaternion_to_matrix([half, 0, 0, half]), [[0, -1, 0], [1, 0, 0], [0, 0, 1]],
                               atol=1e-12)  # 90 degrees about z
    np.testing.assert_allclose(quaternion_to_matrix([0, 1, 0, 0]), np.diag([1.0, -1.0, -1.0]), atol=1e-12)
    for rotation, expected in ((np.diag([1.0, -1.0, -1.0]), [0, 1, 0, 0]), (np.diag([-1.0, 1.0, -1.0]), [0, 0, 1, 0]),
                               (np.diag([-1.0, -1.0, 1.0]), [0, 0, 0, 1]),
                               ([[0, -1, 0], [1, 0, 0], [0, 0, 1]], [half, 0, 0, half])):
        np.testing.assert_allclose(matrix_to_quaternion(np.array(rotation, dtype=float)), expected, atol=1e-12)
    rng = np.random.default_rng(0)
    for _ in range(20):
        q = rng.normal(size=4)
        q = q / np.linalg.norm(q) * np.sign(q[0])
        np.testing.assert_allclose(matrix_to_quaternion(quaternion_to_matrix(q)), q, atol=1e-12)
    # VideoPose3D: orientation rotates camera -> world, translation is the centre; a point 2 m along the optical axis
    camera = camera_from_videopose3d([half, 0, 0, half], [1000.0, 0.0, 0.0])
    centre_ahead = camera.camera_to_world(np.array([0.0, 0.0, 2000.0]))
    np.testing.assert_allclose(centre_ahead, [1000.0, 0.0, 2000.0], atol=1e-9)
    np.testing.assert_allclose(camera.world_to_camera(np.array([1000.0, 500.0, 0.0])), [500.0, 0.0, 0.0], atol=1e-9)
