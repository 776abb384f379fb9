"""Video: a tiny mp4 written with cv2.VideoWriter from synthetic frames through run.py (tracking, boxes per frame,
smoothing) and viz.py video_overlay_3d; the tracker's boxes and restarts; the smoothers."""
import json

import cv2
import numpy as np
import pytest

import run as run_command
import viz as viz_command
from stitched.inference import People
from stitched.video import TrackSettings, box_from_joints, track_video
from utils.smoothing import SmoothingSettings, one_euro, savgol, smooth
from utils.video import VideoReader

FPS, WIDTH, HEIGHT, FRAMES = 10.0, 64, 48, 6


@pytest.fixture
def tiny_video(tmp_path):
    path = tmp_path / "walk.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (WIDTH, HEIGHT))
    for t in range(FRAMES):  # a bright bar moving right on a dark background
        frame = np.full((HEIGHT, WIDTH, 3), 30, np.uint8)
        frame[8:40, 10 + 4 * t:18 + 4 * t] = (200, 180, 160)
        writer.write(frame)
    writer.release()
    return path


def test_stitched_video_with_tracking_smoothing_and_overlay(stitched_checkpoint, tiny_video, tmp_path, capsys):
    out = tmp_path / "out"
    assert run_command.main(["stitched_mpii", "--load", str(stitched_checkpoint), "--video", str(tiny_video),
                             "--output_dir", str(out), "--smoothing", "savgol", "--smoothing_window", "5",
                             "--overlay", "--reinit_score", "0"]) == 0
    log = capsys.readouterr().out
    assert "following one person: frame 0 whole" in log and "started again 0 times" in log and "smoothed" in log
    result = np.load(out / "stitched_predictions.npz")
    assert result["frame_index"].tolist() == list(range(FRAMES))
    assert result["preds"].shape == (FRAMES, 16, 2) and result["poses_3d"].shape == (FRAMES, 17, 3)
    assert np.all(result["poses_3d"][:, 0] == 0) and result["image_names"][2] == "walk/000002"
    people = json.loads((out / "stitched_predictions.json").read_text())["people"]
    assert [person["frame"] for person in people] == list(range(FRAMES))
    overlay = VideoReader(out / "walk_poses.mp4")
    assert (overlay.fps, overlay.width, overlay.height) == (FPS, WIDTH + HEIGHT, HEIGHT)
    assert sum(len(batch) for batch in overlay.batches(4)) == FRAMES
    assert viz_command.main(["video_overlay_3d", "--video", str(tiny_video), "--poses",
                             str(out / "stitched_predictions.npz"), "--output", str(tmp_path / "again.mp4")]) == 0
    assert VideoReader(tmp_path / "again.mp4").width == WIDTH + HEIGHT


def test_hourglass_video_with_coco_boxes_per_frame(stitched_checkpoint, tiny_video, tmp_path, capsys):
    boxes = tmp_path / "detections.json"
    boxes.write_text(json.dumps([{"image_id": t, "category_id": 1, "bbox": [10 + 4 * t, 8, 8, 32], "score": 0.9}
                                 for t in range(FRAMES) if t != 3]))
    out = tmp_path / "hg"
    assert run_command.main(["hourglass_mpii", "--load", str(stitched_checkpoint.parent / "hourglass.pt"),
                             "--video", str(tiny_video), "--boxes", str(boxes), "--output_dir", str(out),
                             "--batch_size", "4"]) == 0
    log = capsys.readouterr().out
    assert "coco boxes layout, 5 boxes on 5 frames" in log and "1 of 6 frames have no box (first: frame 3)" in log
    result = np.load(out / "preds_video.npz")
    assert result["frame_index"].tolist() == [0, 1, 2, 4, 5]
    # crop centre of frame 5's box [30, 8, 38, 40]: (34, 24); side 1.25 x 32
    assert result["center_px"][-1].tolist() == [34, 24] and result["box_px"][-1] == 40
    assert run_command.main(["hourglass_mpii", "--load", str(stitched_checkpoint.parent / "hourglass.pt"),
                             "--video", str(tiny_video), "--boxes", str(boxes), "--output_dir", str(out),
                             "--whole_image_without_box"]) == 0
    assert np.load(out / "preds_video.npz")["frame_index"].tolist() == list(range(FRAMES))


def test_video_option_conflicts(capsys):
    with pytest.raises(SystemExit):
        run_command.main(["stitched_mpii", "--load", "s.pt", "--video", "v.mp4", "--image_dir", "d"])
    assert "--image_dir is not read with --video" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run_command.main(["hourglass_mpii", "--load", "h.pt", "--smoothing", "savgol"])
    assert "--smoothing needs --video" in capsys.readouterr().err


def test_box_from_joints_adds_the_margin_and_stays_inside():
    joints = np.array([[10.0, 20.0], [30.0, 60.0]] + [[20.0, 40.0]] * 14)
    assert box_from_joints(joints, 0.25, (100, 100)).tolist() == [5, 10, 35, 70]  # 20 x 40 box, 5 and 10 px more
    assert box_from_joints(joints, 1.0, (32, 64)).tolist() == [0, 0, 31, 63]


class FakeEstimator:
    """Joints at a fixed square around (50, 50); scores from a list, one per call; records the boxes it got."""

    def __init__(self, scores):
        self.scores, self.boxes = list(scores), []

    def __call__(self, frame, boxes=None):
        self.boxes.append(None if boxes is None else boxes[0].tolist())
        joints = np.array([[40.0, 30.0], [60.0, 70.0]] + [[50.0, 50.0]] * 14)[None]
        return People(joints, np.full((1, 16), self.scores.pop(0)), None, np.zeros(1, np.int64),
                      np.zeros((1, 4)), np.zeros((1, 2)), np.zeros(1))


def test_tracking_follows_the_joints_and_starts_again_on_low_confidence(tiny_video):
    estimator = FakeEstimator([0.9, 0.05, 0.9, 0.9, 0.9, 0.9])
    poses = track_video(estimator, VideoReader(tiny_video), TrackSettings(margin=0.5, reinit_score=0.1,
                                                                          first_box=(1, 2, 3, 4)))
    joints_box = [30.0, 10.0, 63.0, 47.0]  # (40, 30)-(60, 70) + 50 %, clipped to the 64 x 48 frame
    assert estimator.boxes == [[1, 2, 3, 4], joints_box, [1, 2, 3, 4], joints_box, joints_box, joints_box]
    assert poses.reinitialised == 1 and poses.image_index.tolist() == list(range(FRAMES))


def test_smoothers():
    t = np.arange(20.0)
    quadratic = np.stack([0.5 * t ** 2 - t, 3 * t], -1)[:, None]  # (T, 1, 2)
    assert np.allclose(savgol(quadratic, 7, 2), quadratic)  # a degree-2 fit reproduces a parabola
    noisy = np.sin(t / 3)[:, None] + np.random.default_rng(0).normal(0, 0.1, (20, 1))
    assert np.abs(np.diff(savgol(noisy, 7, 2), axis=0)).mean() < np.abs(np.diff(noisy, axis=0)).mean()
    assert np.allclose(one_euro(np.full((10, 3), 7.0), 30.0), 7.0)
    # One step of 1 at rest, beta 0: alpha = 1 / (1 + fps / (2 pi min_cutoff)) = 1 / (1 + 50 / (2 pi))
    step = one_euro(np.array([0.0, 1.0]), 50.0, min_cutoff_hz=1.0, beta=0.0)
    assert step[1] == pytest.approx(1 / (1 + 50 / (2 * np.pi)))
    assert np.array_equal(smooth(noisy, SmoothingSettings("none"), 50.0), noisy)
