"""train.py multitask_h36m on the tiny synthetic dataset with tiny untrained stages; FiLM starts as the identity."""
import json

import numpy as np
import pytest
import torch

import eval as eval_entry
import run as run_entry
import train as train_entry
from action.checkpoint import load_action_model
from action.model import ActionConfig
from action.multitask import MultitaskConfig, MultitaskNetwork, load_multitask
from action.predictions import read_predictions
from stacked_hourglass.checkpoint import load_hourglass
from stitched.checkpoint import stitch
from twod_threed.checkpoint import load_lifter
from utils.checkpoints import load_checkpoint

pytestmark = pytest.mark.slow

SMALL = ["--hidden_size", "8", "--appearance_channels", "4", "--batch_size", "4", "--train_subjects", "1",
         "--test_subjects", "9", "11"]


def _train(dataset, stages, checkpoints, exp, *extra):
    hourglass, lifter = stages
    return train_entry.main(["multitask_h36m", "--data_dir", str(dataset), "--load_hourglass", str(hourglass),
                             "--load_2d3d", str(lifter), "--checkpoint_dir", str(checkpoints), "--exp", exp, *SMALL,
                             *extra])


@pytest.mark.parametrize("extra", [[], ["--freeze_stages", "--film"]], ids=["end_to_end", "frozen_film"])
def test_multitask_trains_writes_parts_and_predictions(tiny_dataset, stage_checkpoints, tmp_path, extra):
    assert _train(tiny_dataset, stage_checkpoints, tmp_path, "m", "--epochs", "1", *extra) == 0
    run_dir = tmp_path / "multitask_h36m_m"
    payload = load_checkpoint(run_dir / "best.pt", kind="multitask")
    assert payload["extra"]["frozen_stages"] == ("--freeze_stages" in extra)
    assert {"top1", "mpjpe_mm"} <= set(payload["extra"]["before_training"])
    model, config, _ = load_multitask(run_dir / "best.pt")
    assert config.film == ("--film" in extra) and len(model.films) == (3 if config.film else 0)  # 1-stage lifter
    assert load_hourglass(run_dir / "best.pt").config.features == 16  # parts readable by each stage's loader
    assert load_action_model(run_dir / "best.pt").config.hidden_size == 8
    if not config.film:
        assert load_lifter(run_dir / "best.pt").config.linear_size == 32
    if "--freeze_stages" in extra:  # the stages did not move
        hourglass = load_hourglass(stage_checkpoints[0]).model
        torch.testing.assert_close(model.stitched.hourglass.state_dict(), hourglass.state_dict())
    predictions = read_predictions(run_dir / "predictions_action.npz")
    assert len(predictions) > 0 and predictions.scores.shape[1] == 15
    assert all(name.startswith(("S9/", "S11/")) for name in predictions.clip_names)
    assert eval_entry.main(["action_accuracy", "--predictions", str(run_dir / "predictions_action.json"),
                            "--output_dir", str(tmp_path / "eval")]) == 0
    report = json.loads((tmp_path / "eval" / "action_accuracy.json").read_text())
    assert report["clips"] == len(predictions)
    assert report["top1"] == pytest.approx(float((predictions.scores.argmax(1) == predictions.labels).mean()))


def test_resume_keeps_the_frozen_stages(tiny_dataset, stage_checkpoints, tmp_path, capsys):
    assert _train(tiny_dataset, stage_checkpoints, tmp_path, "r", "--epochs", "1") == 0
    last = tmp_path / "multitask_h36m_r" / "last.pt"
    assert train_entry.main(["multitask_h36m", "--data_dir", str(tiny_dataset), "--load", str(last),
                             "--checkpoint_dir", str(tmp_path), "--exp", "r", "--epochs", "2",
                             "--freeze_stages"]) == 1
    assert "frozen_stages" in capsys.readouterr().err
    assert train_entry.main(["multitask_h36m", "--data_dir", str(tiny_dataset), "--load", str(last),
                             "--checkpoint_dir", str(tmp_path), "--exp", "r", "--epochs", "2"]) == 0
    assert load_checkpoint(last)["epoch"] == 2


def test_film_starts_as_the_unconditioned_network(stage_checkpoints):
    torch.manual_seed(0)
    outputs = []
    for film in (False, True):
        stitched = stitch(*stage_checkpoints)
        stitched.lifter.stem[1].running_mean.uniform_(-1, 1)  # statistics that FiLM's own norm must copy
        config = MultitaskConfig(stitched={}, pose_stream=vars(ActionConfig(hidden_size=4, num_layers=1)),
                                 appearance_stream=vars(ActionConfig(input_dim=16 * 4, hidden_size=4, num_layers=1)),
                                 appearance_channels=4, film=film)
        network = MultitaskNetwork(config, stitched).eval()
        torch.manual_seed(1)
        images = torch.randint(0, 255, (3, 3, 64, 64), dtype=torch.uint8)
        matrices = torch.tensor([[[4.0, 0, 0], [0, 4.0, 0]]]).expand(3, 2, 3)
        with torch.no_grad():
            outputs.append(network(images, matrices, torch.tensor([[0, 1], [2, -1]]), torch.tensor([2, 1])))
    torch.testing.assert_close(outputs[1]["root_relative_mm"], outputs[0]["root_relative_mm"])
    assert outputs[0]["action_logits"].shape == (2, 15)
    np.testing.assert_array_equal(outputs[0]["joints_2d_px"].numpy(), outputs[1]["joints_2d_px"].numpy())


def test_rendered_clips_train_and_their_rgb_poses_feed_the_recogniser(tiny_dataset, stage_checkpoints, tmp_path):
    """A clips split (3 frames every 8th per sequence) trains the network on consecutive frames; its test frames'
    RGB -> 3D poses (predictions_3d.npz, Human3.6M frame names) are scored by run.py action_h36m as 2 s clips."""
    from synthetic.clip_split import ClipSettings, generate_clips

    clips = tmp_path / "clips"
    generate_clips(clips, tiny_dataset, size="tiny", seed=0, workers=1, progress=False,
                   settings=ClipSettings(clip_frames=24, frame_step=8, subjects=(1, 9, 11)))
    assert _train(clips, stage_checkpoints, tmp_path, "c", "--epochs", "1", "--train_clip_frames", "2",
                  "--freeze_stages") == 0
    run_dir = tmp_path / "multitask_h36m_c"
    poses = np.load(run_dir / "predictions_3d.npz")
    listed = [e for e in json.loads((clips / "h36m" / "frames.json").read_text()) if e["subject"] in ("S9", "S11")
              and (e["subject"], e["action"]) != ("S11", "Directions")]
    assert sorted(poses["names"].tolist()) == sorted(f"{e['subject']}/{e['action']}/{e['camera']}/{e['frame']:06d}"
                                                     for e in listed)
    assert poses["poses_3d"].shape == (len(listed), 17, 3) and not poses["poses_3d"][:, 0].any()
    predictions = read_predictions(run_dir / "predictions_action.npz")  # one clip per test sequence, 3 frames
    assert len(predictions) == len(listed) // 3 and all(n.endswith("+3") for n in predictions.clip_names)
    assert train_entry.main(["action_h36m", "--data_dir", str(clips), "--checkpoint_dir", str(tmp_path), "--exp", "a",
                             "--temporal", "tcn", "--num_layers", "1", "--hidden_size", "8", "--epochs", "1",
                             "--clip_frames", "24", "--frame_step", "8", "--train_subjects", "1",
                             "--test_subjects", "9", "11"]) == 0
    assert run_entry.main(["action_h36m", "--load", str(tmp_path / "action_h36m_a" / "last.pt"), "--input",
                           str(run_dir / "predictions_3d.npz"), "--output_dir", str(tmp_path / "rgb")]) == 0
    scored = read_predictions(tmp_path / "rgb" / "predictions_action.npz")
    first = {f"{e['subject']}/{e['action']}/{e['camera']}": e["frame"] for e in reversed(listed)}
    assert sorted(scored.clip_names) == sorted(f"{k}/{f:06d}+24" for k, f in first.items())
    labels = dict(zip(predictions.clip_names, predictions.labels))
    assert all(labels[n.rsplit("+", 1)[0] + "+3"] == y for n, y in zip(scored.clip_names, scored.labels))
