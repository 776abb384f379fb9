"""Clip augmentation: a turn about the world's up axis keeps lengths and heights; the mirror swaps sides."""
import torch

from action.augmentation import augment_clips
from utils.skeletons import H36M16_2D, H36M16_3D


def test_turn_about_up_keeps_norms_and_heights_and_padding():
    torch.manual_seed(0)
    features = torch.randn(3, 5, 48) * 300
    features[1, 3:] = 0  # padding of a 3-step clip
    up = torch.nn.functional.normalize(torch.randn(3, 3), dim=1)
    turned = augment_clips(features, up, flip_prob=0.0, rotate=True)
    before, after = features.reshape(3, 5, 16, 3), turned.reshape(3, 5, 16, 3)
    torch.testing.assert_close(after.norm(dim=-1), before.norm(dim=-1), rtol=1e-4, atol=1e-3)
    torch.testing.assert_close((after * up[:, None, None]).sum(-1), (before * up[:, None, None]).sum(-1),
                               rtol=1e-4, atol=1e-2)
    assert (turned[1, 3:] == 0).all() and not torch.allclose(turned, features)
    # one turn per clip: the displacement between two frames turns with them
    assert torch.allclose((after[0, 1] - after[0, 0]).norm(dim=-1), (before[0, 1] - before[0, 0]).norm(dim=-1),
                          atol=1e-2)


def test_mirror_negates_x_and_swaps_left_and_right():
    features = torch.arange(2 * 48, dtype=torch.float32).reshape(1, 2, 48)
    mirrored = augment_clips(features, None, flip_prob=1.0, rotate=True).reshape(1, 2, 16, 3)
    joints = features.reshape(1, 2, 16, 3)
    left, right = H36M16_3D.flip_pairs[0]
    torch.testing.assert_close(mirrored[0, :, left], joints[0, :, right] * torch.tensor([-1.0, 1.0, 1.0]))
    torch.testing.assert_close(augment_clips(mirrored.reshape(1, 2, 48), None, 1.0, False), features)
    flat_2d = torch.arange(30, dtype=torch.float32).reshape(1, 1, 30)
    mirrored_2d = augment_clips(flat_2d, None, 1.0, False).reshape(15, 2)
    left, right = H36M16_2D.flip_pairs[0]  # hip-relative features leave the hip (joint 0) out
    torch.testing.assert_close(mirrored_2d[left - 1], flat_2d.reshape(15, 2)[right - 1] * torch.tensor([-1.0, 1.0]))
