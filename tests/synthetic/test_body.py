import numpy as np
import pytest

from synthetic.body import (CROWN, FOOT_POINTS, JOINT_LIMITS_DEG, NUM_JOINTS, PARENTS, REST_OFFSETS_MM,
                            SOLE_MM, clamp_to_limits, forward_kinematics, root_rotation, sample_body_shape)
from synthetic.motions import ACTIONS, FPS, make_motion, sequence_points
from utils.skeletons import H36M32


def _pose(shape, angles, yaw=0.0):
    frames = len(angles)
    rotation = root_rotation(np.full(frames, yaw), np.zeros(frames), np.zeros(frames))
    return forward_kinematics(shape, angles, rotation, np.zeros((frames, 3)))


def test_rest_pose_is_human36m_like_and_symmetric():
    # Human3.6M bone lengths (mm) of the published skeleton: thigh 443, shin 454, upper arm 279, forearm 252.
    lengths = np.linalg.norm(REST_OFFSETS_MM, axis=1)
    assert lengths[[2, 7]] == pytest.approx([443, 443])
    assert lengths[[3, 8]] == pytest.approx([454, 454])
    assert lengths[[18, 26]] == pytest.approx([279, 279])
    assert lengths[[19, 27]] == pytest.approx([252, 252])
    mirrored = REST_OFFSETS_MM * [-1, 1, 1]
    perm = H36M32.flip_permutation()
    np.testing.assert_allclose(mirrored[perm], REST_OFFSETS_MM)


def test_forward_kinematics_keeps_bone_lengths():
    rng = np.random.default_rng(0)
    shape = sample_body_shape(rng)
    angles = rng.uniform(-90, 90, (5, NUM_JOINTS, 3))
    points = _pose(shape, angles, yaw=0.7)
    bones = np.linalg.norm(points[:, 1:32] - points[:, PARENTS[1:]], axis=-1)
    np.testing.assert_allclose(bones, np.broadcast_to(np.linalg.norm(shape.offsets_mm[1:], axis=1), bones.shape),
                               atol=1e-9)
    assert points.shape == (5, 34, 3)


def test_flexion_moves_limbs_the_anatomical_way():
    shape = sample_body_shape(np.random.default_rng(1))
    angles = np.zeros((1, NUM_JOINTS, 3))
    angles[0, 26, 0] = 90  # right shoulder flexion: the arm points forward (+y)
    angles[0, 3, 0] = 90  # right knee flexion: the shin points backward (-y)
    points = _pose(shape, angles)[0]
    arm = points[27] - points[25]
    assert arm[1] > 0.99 * np.linalg.norm(arm)
    shin = points[3] - points[2]
    assert shin[1] < -0.99 * np.linalg.norm(shin)
    angles[0, 13, 0] = 30  # upper spine flexion: the chest leans forward, the arm with it
    points = _pose(shape, angles)[0]
    assert points[14, 1] > points[12, 1] + 100
    arm = points[27] - points[25]
    assert arm[2] / np.linalg.norm(arm) == pytest.approx(-np.sin(np.deg2rad(30)), abs=1e-6)


def test_mirrored_angles_give_mirrored_pose():
    rng = np.random.default_rng(2)
    shape = sample_body_shape(rng)
    shape = type(shape)(offsets_mm=REST_OFFSETS_MM.copy(), girth=1.0)
    angles = clamp_to_limits(rng.uniform(-60, 60, (1, NUM_JOINTS, 3)))
    perm = H36M32.flip_permutation()
    points = _pose(shape, angles)[0, :32]
    mirrored_points = _pose(shape, angles[:, perm])[0, :32]
    centre_twist_and_bend = angles.copy()
    # a mirror image also reverses the sideways bend and twist of the centre joints
    for joint in (12, 13, 14, 15):
        centre_twist_and_bend[0, joint, 1:] *= -1
    mirrored_points = _pose(shape, centre_twist_and_bend[:, perm])[0, :32]
    np.testing.assert_allclose(mirrored_points[perm] * [-1, 1, 1], points, atol=1e-6)


def test_limits_clip():
    wild = np.full((1, NUM_JOINTS, 3), 500.0)
    assert (clamp_to_limits(wild) <= JOINT_LIMITS_DEG[..., 1]).all()
    assert clamp_to_limits(-wild)[0, 3, 0] == 0  # knees do not bend backwards


@pytest.mark.parametrize("action", ACTIONS)
def test_actions_are_smooth_plausible_and_grounded(action):
    rng = np.random.default_rng([3, ACTIONS.index(action)])
    shape = sample_body_shape(rng)
    motion = make_motion(action, np.arange(200) / FPS, rng)
    points = sequence_points(shape, motion)
    assert np.isfinite(points).all()
    speed = np.linalg.norm(np.diff(points, axis=0), axis=-1)  # mm per frame at 50 fps
    assert speed.max() < 160, f"{action}: a joint moves {speed.max():.0f} mm in one frame"
    assert np.abs(points[..., :2]).max() < 3000  # inside the capture area
    np.testing.assert_allclose(points[:, list(FOOT_POINTS), 2].min(1), SOLE_MM * shape.girth)
    assert (points[:, CROWN, 2] > points[:, 0, 2]).all()  # head above the hips
    assert (points[:, 15, 2] > 900).mean() > 0.5 or action in ("Sitting", "Eating", "SittingDown")


def test_sequences_differ_between_takes():
    shape = sample_body_shape(np.random.default_rng(4))
    times = np.arange(50) / FPS
    first = sequence_points(shape, make_motion("Walking", times, np.random.default_rng(5)))
    second = sequence_points(shape, make_motion("Walking", times, np.random.default_rng(6)))
    assert np.abs(first - second).max() > 100
