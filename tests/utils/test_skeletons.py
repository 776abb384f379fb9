import numpy as np

from utils.skeletons import (H36M16_2D, H36M16_3D, H36M17, H36M32, MPII, MPII_TO_H36M16_2D, h36m17_from_32,
                             mpii_to_h36m16_2d)


def test_joint_counts_and_names():
    assert (MPII.num_joints, H36M32.num_joints, H36M17.num_joints) == (16, 32, 17)
    assert (H36M16_2D.num_joints, H36M16_3D.num_joints) == (16, 16)
    assert MPII.joint_names[9] == "head_top" and MPII.joint_names[6] == "pelvis"
    assert "neck_nose" not in H36M16_2D.joint_names and "hip" not in H36M16_3D.joint_names


def test_h36m17_parents_match_the_published_tree():
    assert H36M17.parents == (-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15)


def test_flip_pairs_are_left_right():
    for skeleton in (MPII, H36M32, H36M17, H36M16_2D):
        for a, b in skeleton.flip_pairs:
            assert {skeleton.side_of(a), skeleton.side_of(b)} == {"left", "right"}
    perm = MPII.flip_permutation()
    assert perm[0] == 5 and perm[10] == 15 and perm[9] == 9
    assert (perm[perm] == np.arange(16)).all()


def test_mpii_to_h36m_mapping_puts_joints_where_names_say():
    mpii = np.arange(16)[:, None].repeat(2, 1).astype(float)
    h36m = mpii_to_h36m16_2d(mpii)
    assert list(h36m[:, 0].astype(int)) == list(MPII_TO_H36M16_2D)
    pairs = {"hip": "pelvis", "r_hip": "r_hip", "r_knee": "r_knee", "r_foot": "r_ankle", "l_wrist": "l_wrist",
             "head": "head_top", "r_shoulder": "r_shoulder", "l_elbow": "l_elbow"}
    for h36m_name, mpii_name in pairs.items():
        assert h36m[H36M16_2D.index(h36m_name), 0] == MPII.index(mpii_name)


def test_h36m17_from_32_picks_the_used_joints():
    joints = np.arange(32)[:, None] * np.ones((1, 3))
    assert list(h36m17_from_32(joints)[:, 0].astype(int)) == [0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27]
