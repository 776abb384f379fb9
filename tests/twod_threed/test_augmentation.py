import numpy as np
import pytest
import torch

from tests.twod_threed.fake_h36m import make_cameras, sequence_world_mm
from twod_threed.augmentation import (FLIP_PERMUTATION_3D, augment_orthogonal, pack_intrinsics, project_batch,
                                      project_h36m16_2d, random_rotations)
from utils.cameras import H36M_CAMERA_IDS, load_h36m_cameras, project_to_pixels
from utils.skeletons import H36M16_2D_FROM_17, H36M16_3D, h36m17_from_32


def _batch(count=12, seed=0):
    """Camera-frame poses of the fake subject 1 seen by its 4 cameras."""
    rng = np.random.default_rng(seed)
    world = h36m17_from_32(sequence_world_mm(count // 4, rng))  # (T, 17, 3)
    cameras = [make_cameras(1)[(1, c)] for c in H36M_CAMERA_IDS]
    joints = np.concatenate([c.world_to_camera(world) for c in cameras])  # (4T, 17, 3)
    intrinsics = torch.stack([pack_intrinsics(c) for c in cameras]).repeat_interleave(count // 4, 0)
    up = torch.as_tensor(np.stack([c.R[:, 2] for c in cameras])).repeat_interleave(count // 4, 0)
    joints = torch.as_tensor(joints)
    return joints[:, 1:] - joints[:, :1], joints[:, 0], intrinsics, up, cameras


def _bone_lengths(root_relative):
    full = torch.cat([torch.zeros_like(root_relative[:, :1]), root_relative], 1)  # H36M-17
    from utils.skeletons import H36M17
    return torch.stack([(full[:, c] - full[:, p]).norm(dim=-1) for p, c in H36M17.bones], 1)


def test_project_batch_matches_the_camera_model():
    relative, root, intrinsics, _, cameras = _batch()
    full = torch.cat([root[:, None], relative + root[:, None]], 1)
    ours = project_batch(full, intrinsics)
    for i in range(len(full)):
        camera = cameras[i // 3]
        expected = project_to_pixels(full[i].numpy(), camera.f, camera.c, camera.k, camera.p)
        np.testing.assert_allclose(ours[i].numpy(), expected, rtol=1e-9, atol=1e-9)


def test_project_batch_reproduces_real_2d_labels(specimens):
    cameras = load_h36m_cameras(specimens / "h36m" / "cameras.h5")
    data = np.load(specimens / "h36m" / "test_h36m_body3d.npz")
    keys = [(int(n.split("/")[0][1:]), n.split(".")[1][:8]) for n in data["imgname"]]
    intrinsics = torch.stack([pack_intrinsics(cameras[k]) for k in keys])
    pixels = project_batch(torch.as_tensor(data["S"][..., :3] * 1000.0), intrinsics)
    np.testing.assert_allclose(pixels.numpy(), data["part"][..., :2], atol=1e-3)


def test_rotations_are_proper_and_z_rotations_keep_the_up_axis():
    up = torch.nn.functional.normalize(torch.randn(64, 3, dtype=torch.float64), dim=1)
    for axes in (None, up):
        rotation = random_rotations(64, axes, dtype=torch.float64)
        assert torch.allclose(rotation @ rotation.transpose(1, 2), torch.eye(3, dtype=torch.float64).expand(64, 3, 3),
                              atol=1e-12)
        assert torch.allclose(torch.linalg.det(rotation), torch.ones(64, dtype=torch.float64))
    assert torch.allclose((rotation @ up[:, :, None])[..., 0], up, atol=1e-12)


@pytest.mark.parametrize("z_only", [False, True])
def test_augmentation_keeps_bones_and_reprojects_consistently(z_only):
    relative, root, intrinsics, up, _ = _batch()
    torch.manual_seed(1)
    joints_2d, augmented = augment_orthogonal(relative, root, intrinsics, up, 0.5, z_only)
    assert joints_2d.shape == (12, 16, 2) and augmented.shape == (12, 16, 3)
    assert torch.allclose(_bone_lengths(augmented), _bone_lengths(relative), atol=1e-6)
    assert not torch.allclose(augmented, relative, atol=1.0)
    # The 2D input is the projection of the augmented 3D with the sample's own camera.
    assert torch.allclose(joints_2d, project_h36m16_2d(augmented, root, intrinsics), atol=1e-9)
    full = torch.cat([root[:, None], augmented + root[:, None]], 1)
    assert torch.allclose(joints_2d, project_batch(full, intrinsics)[:, list(H36M16_2D_FROM_17)], atol=1e-9)
    if z_only:  # heights along world up are unchanged by a rotation about it (up to the mirror's effect)
        heights = lambda poses: (poses @ up[:, :, None])[..., 0]  # (B, 16)
        flipped_or_not = torch.isclose(heights(augmented), heights(relative), atol=1e-6).all(1)
        mirrored = relative.clone()
        mirrored[..., 0] *= -1
        mirrored_heights = heights(mirrored[:, FLIP_PERMUTATION_3D])
        assert (flipped_or_not | torch.isclose(heights(augmented), mirrored_heights, atol=1e-6).all(1)).all()


def _kabsch_residual(a, b):
    """Largest joint distance after the best proper rotation of a onto b (both root-relative, (J, 3))."""
    u, _, vh = torch.linalg.svd(a.T @ b)
    d = torch.sign(torch.linalg.det(u @ vh))
    rotation = u @ torch.diag(torch.tensor([1.0, 1.0, float(d)], dtype=a.dtype)) @ vh
    return (a @ rotation - b).norm(dim=-1).max()


def test_flip_mirrors_and_swaps_left_and_right():
    relative, root, intrinsics, up, _ = _batch()
    assert H36M16_3D.joint_names[FLIP_PERMUTATION_3D[0]] == "l_hip"
    _, always = augment_orthogonal(relative, root, intrinsics, up, flip_prob=1.0)
    _, never = augment_orthogonal(relative, root, intrinsics, up, flip_prob=0.0)
    mirrored = relative.clone()
    mirrored[..., 0] *= -1
    mirrored = mirrored[:, FLIP_PERMUTATION_3D]
    for i in range(len(relative)):
        assert _kabsch_residual(always[i], mirrored[i]) < 1e-6  # a rotation of the mirrored pose
        assert _kabsch_residual(never[i], relative[i]) < 1e-6  # a rotation of the pose itself
        assert _kabsch_residual(always[i], relative[i]) > 1.0  # the swing makes poses chiral
