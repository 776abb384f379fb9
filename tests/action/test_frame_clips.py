"""multitask_h36m's clips of Human3.6M-format frames: grouped by sequence and camera in frame order, labelled from the
action, and random training windows of consecutive frames inside each clip."""
import argparse

import numpy as np
import torch

from action.labels import ACTIONS
from action.multitask_train import FrameClips, check_options
from stitched.frames import FrameSet

NAMES = ["S9/Walking 1/54138969/000016", "S9/Walking 1/54138969/000000", "S9/Walking 1/54138969/000008",
         "S9/Walking 1/54138969/000024", "S9/Eating/54138969/000040", "S9/Eating/54138969/000048",
         "S11/Phoning/54138969/000003"]


def _frames() -> FrameSet:
    n = len(NAMES)
    poses = torch.arange(n, dtype=torch.float32)[:, None, None].expand(n, 16, 3).clone()  # row r holds r
    return FrameSet(images=torch.zeros(n, 3, 4, 4, dtype=torch.uint8), image_to_input=torch.eye(3)[:2].repeat(n, 1, 1),
                    joints_2d_px=torch.zeros(n, 16, 2), root_relative_mm=poses, names=np.array(NAMES))


def test_clips_group_frames_in_order_with_their_labels():
    clips = FrameClips(_frames())
    assert list(clips.names) == ["S11/Phoning/54138969", "S9/Eating/54138969", "S9/Walking 1/54138969"]
    assert clips.lengths.tolist() == [1, 2, 4] and clips.first_frames == [3, 40, 0]
    assert [ACTIONS[i] for i in clips.labels.tolist()] == ["Phoning", "Eating", "Walking"]
    batch = clips.batch(torch.tensor([2]), torch.device("cpu"))
    assert batch["root_relative_mm"][:, 0, 0].tolist() == [1, 2, 0, 3]  # rows of frames 0, 8, 16, 24


def test_training_windows_are_consecutive_frames_inside_each_clip():
    clips, seen = FrameClips(_frames()), set()
    generator = torch.Generator().manual_seed(0)
    for _ in range(40):
        batch = clips.batch(torch.tensor([2, 0, 1]), torch.device("cpu"), window=2, generator=generator)
        assert batch["lengths"].tolist() == [2, 1, 2]
        rows = batch["root_relative_mm"][:, 0, 0].long().tolist()
        walking = rows[:2]
        assert walking in ([1, 2], [2, 0], [0, 3])  # frames (0, 8), (8, 16), (16, 24) of the Walking clip
        assert rows[2:] == [6, 4, 5]
        assert batch["frame_index"].tolist() == [[0, 1], [2, -1], [3, 4]]
        seen.add(tuple(walking))
    assert len(seen) == 3  # every start is drawn
    again = torch.Generator().manual_seed(0)
    first = clips.batch(torch.tensor([2]), torch.device("cpu"), window=2, generator=again)["root_relative_mm"]
    replay = torch.Generator().manual_seed(0)
    assert torch.equal(first, clips.batch(torch.tensor([2]), torch.device("cpu"), window=2,
                                          generator=replay)["root_relative_mm"])


def test_rendered_clips_are_the_embedded_split_only():
    opts = argparse.Namespace(load=None, load_stitched="s.pt", load_hourglass=None, load_2d3d=None,
                              pose_loss_weight=1.0, action_loss_weight=1.0, stream_lr=1e-3, appearance_channels=4,
                              hidden_size=8, clips="rendered", data_dir="/data", train_clip_frames=0,
                              train_subjects=[1], test_subjects=[9])
    assert "--clips rendered" in check_options(opts)
    opts.data_dir = None
    opts.train_clip_frames = -1
    assert "--train_clip_frames" in check_options(opts)
