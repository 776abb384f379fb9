"""train.py / run.py action_h36m and eval.py action_accuracy end to end on the tiny fake dataset (seconds)."""
import json

import numpy as np
import pytest

import eval as eval_entry
import run as run_entry
import train as train_entry
from action.checkpoint import load_action_model
from action.predictions import read_predictions
from action.sources import load_sequences
from twod_threed.data import load_pose_pairs
from utils.checkpoints import load_checkpoint
from utils.errors import InputError
from utils.skeletons import with_root

pytestmark = pytest.mark.slow

SMALL = ["--hidden_size", "8", "--num_layers", "1", "--batch_size", "16", "--clip_frames", "20", "--clip_stride", "5",
         "--test_stride", "10", "--train_subjects", "1", "5", "--test_subjects", "9", "11"]


def _train(data, checkpoints, *extra):
    return train_entry.main(["action_h36m", "--data_dir", str(data), "--checkpoint_dir", str(checkpoints), *SMALL,
                             *extra])


@pytest.fixture(scope="module")
def trained(fake_h36m, tmp_path_factory):
    checkpoints = tmp_path_factory.mktemp("action_checkpoints")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STITCHPOSE_CACHE", str(checkpoints / "cache"))
        assert _train(fake_h36m, checkpoints, "--epochs", "1", "--exp", "e2e") == 0
    return checkpoints / "action_h36m_e2e"


def test_training_writes_self_describing_checkpoints_and_resumes(trained, fake_h36m, caplog):
    assert list((trained / "tb").glob("events.out.tfevents.*"))
    payload = load_checkpoint(trained / "last.pt", kind="action_recognizer")
    assert payload["epoch"] == 1 and payload["feature_kind"] == "3d"
    assert payload["clips"] == {"clip_frames": 20, "frame_step": 2} and len(payload["class_names"]) == 15
    model, config, extras = load_action_model(trained / "best.pt")
    assert config.input_dim == 48 and config.hidden_size == 8 and not model.training
    assert float(model.feature_std.min()) > 0  # training statistics, not the defaults
    assert _train(fake_h36m, trained.parent, "--epochs", "2", "--exp", "e2e", "--load", str(trained / "last.pt")) == 0
    assert "resuming at epoch" in caplog.text and load_checkpoint(trained / "last.pt")["epoch"] == 2


@pytest.mark.parametrize("extra", [["--temporal", "tcn", "--num_layers", "2"], ["--input", "gt_2d", "--pca_components",
                                                                               "6", "--clip_frames", "0"]],
                         ids=["tcn", "gt_2d_pca_whole_sequences"])
def test_other_configurations_train(fake_h36m, tmp_path, extra):
    assert _train(fake_h36m, tmp_path, "--epochs", "1", "--exp", "other", *extra) == 0
    payload = load_checkpoint(tmp_path / "action_h36m_other" / "best.pt")
    assert payload["model_config"]["temporal"] == ("tcn" if "tcn" in extra else "lstm")


def test_run_and_eval_write_predictions_accuracy_and_confusion(trained, fake_h36m, tmp_path):
    out = tmp_path / "out"
    assert run_entry.main(["action_h36m", "--data_dir", str(fake_h36m), "--load", str(trained / "best.pt"),
                           "--output_dir", str(out), "--stride", "10"]) == 0
    npz, from_json = read_predictions(out / "predictions_action.npz"), read_predictions(out / "predictions_action.json")
    # S9 and S11: 4 actions x 4 cameras each, minus S11 Directions (dropped as corrupt): 28 sequences of 40 frames,
    # windows of 20 frames every 10 frames: 3 clips each.
    assert len(npz) == 28 * 3 and npz.scores.shape == (84, 15)
    np.testing.assert_allclose(npz.scores.sum(1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(npz.scores, from_json.scores)
    np.testing.assert_array_equal(npz.labels, from_json.labels)
    assert "S9/Walking 1/54138969/000010+20" in npz.clip_names
    assert set(npz.labels.tolist()) == {0, 2, 8, 13}  # Directions, Eating, Sitting, Walking
    assert eval_entry.main(["action_accuracy", "--predictions", str(out / "predictions_action.npz"),
                            "--output_dir", str(tmp_path / "eval")]) == 0
    report = json.loads((tmp_path / "eval" / "action_accuracy.json").read_text())
    expected_top1 = float((npz.scores.argmax(1) == npz.labels).mean())
    assert report["top1"] == pytest.approx(expected_top1) and report["clips"] == 84
    assert report["per_action"]["Walking"]["clips"] == 24 and report["per_action"]["Directions"]["clips"] == 12
    matrix = json.loads((tmp_path / "eval" / "confusion_matrix.json").read_text())["matrix"]
    assert np.asarray(matrix).sum() == 84 and np.asarray(matrix).sum(1)[13] == 24
    assert (tmp_path / "eval" / "confusion_matrix.png").stat().st_size > 10_000


def _predictions_file(fake_h36m, path, drop_frame=None, every=1):
    """A run.py 2d3d_h36m-style file: poses_3d (N, 17, 3) and frame names, from the ground truth of S9 (every
    `every`-th frame)."""
    pairs = load_pose_pairs(fake_h36m, (9,), cache=False)
    names, poses = pairs.names(), with_root(pairs.root_relative_mm.numpy())
    keep = np.array([drop_frame is None or not n.endswith(f"/{drop_frame:06d}") for n in names])
    keep &= pairs.frames.numpy() % every == 0
    order = np.random.default_rng(0).permutation(int(keep.sum()))  # rows in any order
    np.savez(path, poses_3d=poses[keep][order], names=names[keep][order])
    return path


def test_a_predictions_file_gives_the_ground_truth_clips_and_splits_at_gaps(fake_h36m, tmp_path, trained):
    truth = load_sequences(fake_h36m, (9,), "gt_3d")
    from_file = load_sequences(fake_h36m, (9,), str(_predictions_file(fake_h36m, tmp_path / "p.npz")))
    assert list(from_file.names) == list(truth.names)
    np.testing.assert_allclose(from_file.features.numpy(), truth.features.numpy(), atol=1e-4)
    gapped = load_sequences(fake_h36m, (9,), str(_predictions_file(fake_h36m, tmp_path / "g.npz", drop_frame=25)))
    assert len(gapped) == 2 * len(truth) and sorted(set(gapped.lengths.tolist())) == [14, 25]
    assert sorted(set(gapped.first_frames.tolist())) == [0, 26]
    out = tmp_path / "out"
    assert run_entry.main(["action_h36m", "--load", str(trained / "best.pt"), "--input", str(tmp_path / "p.npz"),
                           "--subjects", "9", "--output_dir", str(out), "--stride", "10"]) == 0
    assert len(read_predictions(out / "predictions_action.npz")) == 16 * 3


def test_a_file_of_every_other_frame_gives_the_same_clips_and_scores(fake_h36m, tmp_path, trained):
    spaced = load_sequences(fake_h36m, (9,), str(_predictions_file(fake_h36m, tmp_path / "e.npz", every=2)))
    assert spaced.frame_spacing == 2 and set(spaced.lengths.tolist()) == {20} and len(spaced) == 16
    outputs = {}
    for name in ("p", "e"):  # every frame / every 2nd frame: the model (frame step 2) reads the same poses
        if name == "p":
            _predictions_file(fake_h36m, tmp_path / "p.npz")
        assert run_entry.main(["action_h36m", "--load", str(trained / "best.pt"),
                               "--input", str(tmp_path / f"{name}.npz"), "--subjects", "9",
                               "--output_dir", str(tmp_path / name), "--stride", "10"]) == 0
        outputs[name] = read_predictions(tmp_path / name / "predictions_action.npz")
    assert len(outputs["e"]) == 16 * 3 and list(outputs["e"].clip_names) == list(outputs["p"].clip_names)
    assert "S9/Walking 1/54138969/000010+20" in outputs["e"].clip_names
    np.testing.assert_allclose(outputs["e"].scores, outputs["p"].scores, atol=1e-5)
    np.testing.assert_array_equal(outputs["e"].labels, outputs["p"].labels)
    _predictions_file(fake_h36m, tmp_path / "third.npz", every=3)  # the model reads every 2nd frame: impossible
    assert run_entry.main(["action_h36m", "--load", str(trained / "best.pt"), "--input", str(tmp_path / "third.npz"),
                           "--subjects", "9", "--output_dir", str(tmp_path / "t")]) == 1
    data = dict(np.load(tmp_path / "e.npz"))  # Walking 1 every 4th frame, the others every 2nd
    keep = np.array([not n.startswith("S9/Walking 1/") or int(n[-6:]) % 4 == 0 for n in data["names"]])
    np.savez(tmp_path / "mixed.npz", poses_3d=data["poses_3d"][keep], names=data["names"][keep])
    with pytest.raises(InputError, match="mixed.npz.*different frame steps"):
        load_sequences(fake_h36m, (9,), str(tmp_path / "mixed.npz"))


def test_bad_inputs_are_one_line_errors(fake_h36m, tmp_path, trained, capsys):
    np.savez(tmp_path / "nonames.npz", poses_3d=np.zeros((4, 17, 3)))
    with pytest.raises(InputError, match="nonames.npz.*names"):
        load_sequences(fake_h36m, (9,), str(tmp_path / "nonames.npz"))
    np.savez(tmp_path / "badnames.npz", poses_3d=np.zeros((1, 17, 3)), names=np.array(["frame1"]))
    with pytest.raises(InputError, match="badnames.npz.*'frame1'"):
        load_sequences(fake_h36m, (9,), str(tmp_path / "badnames.npz"))
    assert run_entry.main(["action_h36m", "--data_dir", str(fake_h36m), "--load", str(trained / "best.pt"),
                           "--input", "gt_2d", "--output_dir", str(tmp_path)]) == 1
    assert "feature_kind" in capsys.readouterr().err
    np.savez(tmp_path / "nan.npz", clip_names=np.array(["a", "b"]), scores=np.full((2, 3), np.nan),
             class_names=np.array(["x", "y", "z"]), labels=np.array([0, 1]))
    with pytest.raises(InputError, match="nan.npz.*'scores' holds NaN"):
        read_predictions(tmp_path / "nan.npz")
    np.savez(tmp_path / "shape.npz", clip_names=np.array(["a", "b"]), scores=np.zeros((2, 4)),
             class_names=np.array(["x", "y", "z"]))
    with pytest.raises(InputError, match="shape.npz.*'scores' has shape"):
        read_predictions(tmp_path / "shape.npz")
    (tmp_path / "broken.json").write_text('{"clips": [{"clip": "a"}]}')
    with pytest.raises(InputError, match="broken.json"):
        read_predictions(tmp_path / "broken.json")
    assert eval_entry.main(["action_accuracy", "--predictions", str(tmp_path / "missing.npz"),
                            "--output_dir", str(tmp_path)]) == 1
