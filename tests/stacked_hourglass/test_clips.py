"""The hourglass on HumanEva-I clips: clip windows, metrics against hand-computed values, the fusion's start and
its reach, and train.py / run.py hourglass_eva end to end (their 2D file read by the HumanEva lifter)."""
from dataclasses import asdict

import numpy as np
import pytest
import torch

import run as run_entry
import train as train_entry
from stacked_hourglass.checkpoint import STRIDE
from stacked_hourglass.clips import centred_clips, clip_starts, jitter_px, mean_pixel_error, pck
from stacked_hourglass.heatmaps import decode, heatmap_to_image
from stacked_hourglass.model import HourglassConfig, normalise_input
from stacked_hourglass.temporal import (ClipHourglass, ClipHourglassConfig, inference_stride, load_clip_hourglass,
                                        predict_frames)
from twod_threed.humaneva_files import load_humaneva_pairs, read_frame_starts
from utils.checkpoints import load_checkpoint


def test_clip_starts_stay_inside_runs():
    run = np.array([0] * 5 + [1] * 3 + [2] * 2)
    assert clip_starts(run, 3, 1).tolist() == [0, 1, 2, 5]  # run 2 is shorter than a clip
    assert clip_starts(run, 3, 3).tolist() == [0, 2, 5]  # the last clip of run 0 ends at its last frame
    assert clip_starts(run, 2, 2).tolist() == [0, 2, 3, 5, 6, 8]


def test_centred_clips_keep_every_frame_once_from_its_most_central_clip():
    run = np.array([0] * 7 + [1] * 4 + [2] * 2)
    starts, clip, position = centred_clips(run, 4, 2)
    assert starts.tolist() == [0, 2, 3, 7]  # run 0: every 2 rows, the last clip ending at row 6
    # row 2: place 2 of clip 0 (one frame after it) rather than place 0 of clip 1; row 4: a tie, the earlier clip
    assert clip.tolist() == [0, 0, 0, 1, 1, 2, 2, 3, 3, 3, 3, -1, -1]
    assert position.tolist() == [0, 1, 2, 1, 2, 2, 3, 0, 1, 2, 3, -1, -1]
    kept = clip >= 0
    assert (starts[clip[kept]] + position[kept]).tolist() == np.flatnonzero(kept).tolist()  # each row is itself, once
    ends = np.isin(np.arange(11), [0, 6, 7, 10])  # first and last rows of runs 0 and 1
    assert (np.minimum(position, 3 - position)[kept][~ends] >= 1).all()  # every other row has a frame either side


def _frame_inputs(rows: int, input_res: int = 64):
    generator = np.random.default_rng(0)
    crops = generator.integers(0, 256, (rows, input_res, input_res, 3), dtype=np.uint8)
    image_to_input = np.tile(np.array([[2.0, 0.0, 3.0], [0.0, 2.0, -1.0]]), (rows, 1, 1))
    return crops, image_to_input, torch.full((3,), 0.5), torch.full((3,), 0.25)


def _per_frame_reference(model: ClipHourglass, crops, image_to_input, run, mean, std) -> np.ndarray:
    """Every frame through the hourglass alone, then (temporal) the fusion over its whole run at once: each frame
    with its neighbours on both sides, zero beyond the run's ends."""
    joints = []
    with torch.no_grad():
        for index in np.unique(run):
            rows = np.flatnonzero(run == index)
            images = torch.from_numpy(crops[rows]).movedim(-1, -3)
            heatmaps = model.hourglass(normalise_input(images, mean, std))["heatmaps"][-1]  # (L, J, h, w)
            if model.fusion is not None:
                heatmaps = model.fusion(heatmaps[None])[0]
            joints.append(heatmap_to_image(decode(heatmaps)[0].numpy(), image_to_input[rows], STRIDE))
    return np.concatenate(joints)


@pytest.mark.parametrize("temporal", [False, True])
def test_overlapping_clip_inference_equals_the_per_frame_reference(temporal):
    model = _model(temporal)
    model.config.clip_frames = 4
    assert inference_stride(model.config) == (2 if temporal else 4)
    if temporal:
        with torch.no_grad():
            torch.nn.init.normal_(model.fusion.conv.weight, std=0.5)
    run = np.array([0] * 7 + [1] * 5)  # 7 and 5 rows: neither a multiple of the clip, so the last clips overlap
    crops, image_to_input, mean, std = _frame_inputs(len(run))
    found = predict_frames(model, crops, image_to_input, run, mean, std, torch.device("cpu"), batch_clips=2)
    reference = _per_frame_reference(model, crops, image_to_input, run, mean, std)
    np.testing.assert_allclose(found, reference, atol=1e-4)
    if temporal:  # the fusion moves joints, so the comparison above is about the temporal context
        plain = _per_frame_reference(_model(False), crops, image_to_input, run, mean, std)
        assert np.abs(found - plain).max() > 1.0


def test_metrics_against_hand_computed_values():
    truth = np.zeros((2, 3, 2))
    truth[:, 1] = [0.0, 100.0]  # person 100 px tall
    truth[:, 2] = [10.0, 50.0]
    pred = truth.copy()
    pred[0, 0] += [3.0, 4.0]  # 5 px off
    pred[1, 2] += [0.0, 20.0]  # 20 px off (> 0.1 x 100)
    assert mean_pixel_error(pred, truth) == pytest.approx(25.0 / 6)
    assert pck(pred, truth, 0.1) == pytest.approx(100.0 * 5 / 6)
    # velocity errors between frames 0 and 1: joint 0 -(3, 4) -> 5 px, joint 2 (0, 20) -> 20 px, joint 1: 0
    assert jitter_px(pred, truth, np.array([0, 0])) == pytest.approx(25.0 / 3)
    assert np.isnan(jitter_px(pred, truth, np.array([0, 1])))  # no consecutive frames of one run


def _model(temporal: bool) -> ClipHourglass:
    torch.manual_seed(0)
    hourglass = HourglassConfig(stacks=1, features=8, input_res=64, num_joints=15, depth=2)
    return ClipHourglass(ClipHourglassConfig(hourglass=asdict(hourglass), clip_frames=3, temporal=temporal)).eval()


def test_fusion_starts_as_the_framewise_network_and_reaches_one_frame_each_way():
    plain, fused = _model(False), _model(True)
    fused.hourglass.load_state_dict(plain.hourglass.state_dict())
    images = torch.randn(2, 3, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(fused(images)["heatmaps"][-1], plain(images)["heatmaps"][-1])
        torch.nn.init.normal_(fused.fusion.conv.weight)
        base = fused(images)["heatmaps"][-1].reshape(2, 3, 15, 16, 16)
        changed = images.clone()
        changed[:, 2] += 1.0  # the last frame
        after = fused(changed)["heatmaps"][-1].reshape(2, 3, 15, 16, 16)
        plain_base = plain(images)["heatmaps"][-1].reshape(2, 3, 15, 16, 16)
        plain_after = plain(changed)["heatmaps"][-1].reshape(2, 3, 15, 16, 16)
    assert torch.equal(plain_base[:, :2], plain_after[:, :2])  # frame-wise: frames are independent
    assert torch.equal(base[:, 0], after[:, 0])  # the fusion spans 3 frames: frame 0 does not see frame 2
    assert (base[:, 1] - after[:, 1]).abs().max() > 0


@pytest.mark.slow
def test_train_run_and_lift_from_the_clips(tiny_humaneva, tmp_path):
    common = ["--data_dir", str(tiny_humaneva), "--checkpoint_dir", str(tmp_path), "--epochs", "1",
              "--input_res", "64", "--features", "16", "--stacks", "1", "--clip_frames", "2", "--batch_size", "8"]
    assert train_entry.main(["hourglass_eva", *common, "--temporal", "--exp", "t"]) == 0
    payload = load_checkpoint(tmp_path / "hourglass_eva_t" / "best.pt", kind="hourglass_clip")
    assert payload["model_config"]["temporal"] and payload["model_config"]["hourglass"]["num_joints"] == 15
    model, config, extras = load_clip_hourglass(tmp_path / "hourglass_eva_t" / "best.pt")
    assert config.clip_frames == 2 and extras["input_res"] == 64 and not model.training
    assert run_entry.main(["hourglass_eva", "--data_dir", str(tiny_humaneva), "--load",
                           str(tmp_path / "hourglass_eva_t" / "best.pt"), "--output_dir", str(tmp_path / "o")]) == 0
    output = tmp_path / "o" / "data_2d_humaneva15_hourglass.npz"
    starts = read_frame_starts(output)
    assert set(starts) == {f"{s}/S{n}" for s in ("Train", "Validate") for n in (1, 2, 3)}
    pairs = load_humaneva_pairs(tiny_humaneva, ("Validate/S2",), input_2d=str(output))
    assert len(pairs) == 3 * 3 * 4 and np.isfinite(pairs.joints_2d_px.numpy()).all()  # 3 actions x 3 cameras x 4
    gt = load_humaneva_pairs(tiny_humaneva, ("Validate/S2",))
    first = starts["Validate/S2"]["Walking 1"]
    key = ("Validate/S2", "Walking 1", "C1")
    clip_rows = pairs.sequence_index == pairs.sequences.index(key)
    take_rows = gt.sequence_index == gt.sequences.index(key)
    torch.testing.assert_close(pairs.root_relative_mm[clip_rows], gt.root_relative_mm[take_rows][first:first + 4])
