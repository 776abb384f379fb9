"""The temporal lifter: receptive-field arithmetic, causality, edge-padded windows, sequence inference, and
train.py / run.py / eval.py with --temporal on the tiny fake dataset."""
import json

import numpy as np
import pytest
import torch

import eval as eval_entry
import run as run_entry
import train as train_entry
from twod_threed.normalization import Normaliser
from twod_threed.temporal import (TemporalLifter, TemporalLifterConfig, filter_widths_for, gather_windows,
                                  pad_sequence, receptive_field, window_rows)
from twod_threed.temporal_lifting import lift_sequences, load_temporal_lifter
from utils.checkpoints import load_checkpoint


def _model(widths=(3, 3), causal=False, seed=0, channels=8) -> TemporalLifter:
    torch.manual_seed(seed)
    model = TemporalLifter(TemporalLifterConfig(filter_widths=widths, channels=channels, dropout=0.0, causal=causal))
    for module in model.modules():  # non-trivial batch-norm statistics
        if isinstance(module, torch.nn.BatchNorm1d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
    return model.eval()


def test_receptive_field_arithmetic():
    assert receptive_field((3, 3, 3)) == 27 and receptive_field((3,) * 4) == 81 and receptive_field((3,) * 5) == 243
    assert receptive_field((3, 5)) == 1 + 2 * 1 + 4 * 3  # dilations 1, 3
    assert receptive_field((5, 3, 3)) == 1 + 4 + 2 * 5 + 2 * 15
    assert filter_widths_for(81) == (3, 3, 3, 3) and filter_widths_for(27) == (3, 3, 3)
    with pytest.raises(ValueError, match="not a power of 3"):
        filter_widths_for(10)


@pytest.mark.parametrize("widths", [(3, 3), (3, 3, 3), (5, 3)])
def test_each_output_sees_exactly_its_window(widths):
    """Changing input frame k changes exactly the outputs whose window holds k: t in [k - R + 1, k]."""
    model, frames = _model(widths, channels=64), 60
    rf = receptive_field(widths)
    x = torch.randn(1, frames, 32)
    with torch.no_grad():
        base = model(x)[0]  # (frames - R + 1, 48)
        assert base.shape == (frames - rf + 1, 48)
        k = 30
        changed_input = x.clone()
        changed_input[0, k] += 5.0
        changed = (model(changed_input)[0] - base).abs().amax(-1) > 1e-6  # (T_out,)
    expected = torch.zeros(frames - rf + 1, dtype=torch.bool)
    expected[max(0, k - rf + 1):k + 1] = True
    assert torch.equal(changed, expected)


def test_causal_lifter_never_sees_the_future():
    """With --causal the output of frame t (window t-R+1..t) is unchanged when any later frame changes; the same
    change moves the non-causal lifter's poses of frames before it."""
    frames, cut = 30, 18
    x = torch.randn(1, frames, 32)
    future = x.clone()
    future[0, cut:] = torch.randn(frames - cut, 32) * 3
    for causal in (True, False):
        model = _model((3, 3), causal=causal)
        normaliser = Normaliser("dataset", torch.zeros(32), torch.ones(32), torch.zeros(48), torch.ones(48))
        sequence_index, frame = torch.zeros(frames, dtype=torch.long), torch.arange(frames)
        poses = [lift_sequences(model, normaliser, v[0].reshape(frames, 16, 2), sequence_index, frame)
                 for v in (x, future)]
        before = (poses[0][:cut] - poses[1][:cut]).abs().amax()
        if causal:
            assert before == 0
        else:
            assert before > 1e-4
        assert (poses[0][cut:] - poses[1][cut:]).abs().amax() > 1e-4


def test_windows_repeat_the_end_frames_of_each_sequence():
    sequence_index, frames = torch.tensor([0, 0, 0, 1, 1]), torch.tensor([0, 1, 2, 0, 1])
    values = torch.arange(5)
    first, lengths, offsets = window_rows(sequence_index, frames, 3, causal=False)
    assert first.tolist() == [0, 3] and lengths.tolist() == [3, 2] and offsets.tolist() == [-1, 0, 1]
    windows = gather_windows(values, torch.arange(5), sequence_index, frames, first, lengths, offsets)
    assert windows.tolist() == [[0, 0, 1], [0, 1, 2], [1, 2, 2], [3, 3, 4], [3, 4, 4]]
    first, lengths, offsets = window_rows(sequence_index, frames, 3, causal=True)
    windows = gather_windows(values, torch.arange(5), sequence_index, frames, first, lengths, offsets)
    assert windows.tolist() == [[0, 0, 0], [0, 0, 1], [0, 1, 2], [3, 3, 3], [3, 3, 4]]
    assert pad_sequence(torch.tensor([[1.0], [2.0]]), 5, causal=False).flatten().tolist() == [1, 1, 1, 2, 2, 2]
    with pytest.raises(ValueError, match="one whole sequence after another"):
        window_rows(torch.tensor([0, 1, 0]), torch.tensor([0, 0, 1]), 3, False)


@pytest.mark.parametrize("causal", [False, True])
def test_whole_sequence_inference_matches_training_windows(causal):
    """lift_sequences (one padded pass per sequence) gives each frame the pose of its training window."""
    model = _model((3, 3), causal=causal)
    normaliser = Normaliser("per_instance", torch.randn(32) * 0.1, torch.rand(32) + 0.5, torch.randn(48),
                            torch.rand(48) + 0.5)
    sequence_index = torch.tensor([0] * 12 + [1] * 5)
    frames = torch.cat([torch.arange(12), torch.arange(5)])
    joints_2d_px = torch.randn(17, 16, 2) * 50 + 300
    poses = lift_sequences(model, normaliser, joints_2d_px, sequence_index, frames)
    first, lengths, offsets = window_rows(sequence_index, frames, 9, causal)
    inputs = normaliser.normalise_2d(joints_2d_px)
    windows = gather_windows(inputs, torch.arange(17), sequence_index, frames, first, lengths, offsets)
    with torch.no_grad():
        expected = normaliser.denormalise_3d(model(windows)[:, 0])
    torch.testing.assert_close(poses, expected, rtol=1e-4, atol=1e-3)


def test_backward_on_tiny_tensors():
    model = TemporalLifter(TemporalLifterConfig(filter_widths=(3, 3, 3), channels=16, causal=True)).train()
    out = model(torch.randn(4, 27, 32))
    assert out.shape == (4, 1, 48)
    out.square().mean().backward()
    assert all(p.grad is not None for p in model.parameters())


SMALL = ["--channels", "16", "--batch_size", "32", "--train_subjects", "1", "5", "--test_subjects", "9", "11",
         "--temporal", "--receptive_field", "9"]


@pytest.mark.slow
def test_train_run_eval_temporal(fake_h36m, tmp_path, capsys):
    args = ["2d3d_h36m", "--data_dir", str(fake_h36m), "--checkpoint_dir", str(tmp_path), *SMALL, "--exp", "t"]
    assert train_entry.main([*args, "--epochs", "1", "--causal"]) == 0
    run_dir = tmp_path / "2d3d_h36m_t"
    payload = load_checkpoint(run_dir / "last.pt", kind="temporal_lifter")
    assert payload["model_config"]["filter_widths"] == (3, 3) and payload["model_config"]["causal"] is True
    assert payload["model_config"]["dropout"] == 0.25 and payload["epoch"] == 1
    assert "MPJVE" in capsys.readouterr().out
    assert train_entry.main([*args, "--epochs", "2", "--load", str(run_dir / "last.pt")]) == 0
    assert load_checkpoint(run_dir / "last.pt", kind="temporal_lifter")["epoch"] == 2
    model, config, extras = load_temporal_lifter(run_dir / "best.pt")
    assert config.receptive_field == 9 and config.causal and not model.training
    assert run_entry.main(["2d3d_h36m", "--load", str(run_dir / "best.pt"), "--input",
                           str(fake_h36m / "data_2d_h36m_gt.npz"), "--subjects", "9", "11",
                           "--output_dir", str(tmp_path / "pred")]) == 0
    with np.load(tmp_path / "pred" / "predictions_3d.npz") as data:
        assert data["poses_3d"].shape == (7 * 4 * 40, 17, 3) and np.all(data["poses_3d"][:, 0] == 0)
        assert len(data["sequence_names"]) == 7 * 4 and (np.diff(data["frames"][:40]) == 1).all()
    assert eval_entry.main(["h36m_MPJPE", "--predictions", str(tmp_path / "pred" / "predictions_3d.npz"),
                            "--data_dir", str(fake_h36m), "--output_dir", str(tmp_path / "eval")]) == 0
    report = json.loads((tmp_path / "eval" / "h36m_MPJPE.json").read_text())
    assert np.isfinite(report["average_over_frames"]["mpjve_mm"])


@pytest.mark.parametrize("argv, message", [
    (["--receptive_field", "27"], "need --temporal"),
    (["--temporal", "--orthogonal_data_augmentation"], "frame-wise lifter only"),
    (["--temporal", "--receptive_field", "10"], "invalid choice"),
])
def test_temporal_options_are_checked(argv, message, capsys):
    with pytest.raises(SystemExit):
        train_entry.main(["2d3d_h36m", *argv])
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("widths, causal", [((5, 3), False), ((3, 3, 3), True)])
def test_single_window_form_equals_the_dilated_network(widths, causal):
    """On exactly R frames the strided (single-output) form gives the dilated network's output for that window."""
    model = _model(widths, causal=causal)
    rf = receptive_field(widths)
    x = torch.randn(2, rf + 6, 32)
    with torch.no_grad():
        full = model(x)  # (2, 7, 48)
        for t in (0, 3, 6):
            torch.testing.assert_close(model(x[:, t:t + rf])[:, 0], full[:, t], rtol=1e-5, atol=1e-5)
