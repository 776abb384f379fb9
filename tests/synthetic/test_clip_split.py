"""The additive clips split: consecutive frames at the frame step, the right labels and poses, deterministic bytes,
the dataset it is made from untouched, and the cache entry made only when asked for."""
import hashlib
import json

import numpy as np
import pytest

from stitched.frames import read_frame_list
from synthetic import cache
from synthetic.clip_split import ClipSettings, clip_start, generate_clips, plan_clips
from synthetic.generate import SIZES, sequence_length
from synthetic.motions import ACTIONS
from twod_threed.data import load_pose_pairs

SETTINGS = ClipSettings(clip_frames=24, frame_step=8, subjects=(1, 9))  # 3 frames per clip


def _digests(root):
    return {str(p.relative_to(root)): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def clips(tiny_dataset, tmp_path_factory):
    before = _digests(tiny_dataset)
    out = tmp_path_factory.mktemp("clips") / "tiny_clips"
    info = generate_clips(out, tiny_dataset, size="tiny", seed=0, settings=SETTINGS, workers=1, progress=False)
    assert _digests(tiny_dataset) == before  # additive: the dataset's files are unchanged
    return out, info


def test_each_sequence_has_one_clip_of_consecutive_frames_at_the_step(clips):
    out, info = clips
    entries = json.loads((out / "h36m" / "frames.json").read_text())
    config = SIZES["tiny"]
    sequences = {(e["subject"], e["action"]) for e in entries}
    assert len(sequences) == 2 * len(config.actions) * config.takes_per_action == info["counts"]["clips"]
    assert {e["camera"] for e in entries} == {"54138969"}
    for subject, action in sequences:
        frames = [e["frame"] for e in entries if (e["subject"], e["action"]) == (subject, action)]
        name, take = (action.rsplit(" ", 1)[0], int(action.rsplit(" ", 1)[1])) if action[-1].isdigit() else (action, 0)
        length = sequence_length(config, 0, int(subject[1:]), ACTIONS.index(name), take)
        start = clip_start(length, 24, 0, int(subject[1:]), ACTIONS.index(name), take)
        assert frames == [start, start + 8, start + 16]  # consecutive at the step, inside the sequence
        assert start + 16 < length
        assert all((out / "h36m" / e["image"]).is_file() for e in entries)


def test_pose_files_are_the_datasets_and_labels_match_them(clips, tiny_dataset):
    out, _ = clips
    for name in ("cameras.h5", "S9/MyPoses/3D_positions/Walking 1.h5"):
        assert (out / "h36m" / name).read_bytes() == (tiny_dataset / "h36m" / name).read_bytes()
    mine, theirs = load_pose_pairs(out, (9,)), load_pose_pairs(tiny_dataset, (9,))
    np.testing.assert_array_equal(mine.root_relative_mm.numpy(), theirs.root_relative_mm.numpy())
    listed = read_frame_list(out / "h36m", (9,))  # the frames readers read it: names resolve to pose rows
    rows = set(mine.names())
    assert listed and all(entry["name"] in rows for entry in listed)
    assert listed[0]["name"].startswith("S9/") and listed[0]["name"].count("/") == 3


def test_clip_frames_are_drawn_as_the_dataset_draws_them_and_bytes_repeat(clips, tiny_dataset, tmp_path):
    out, _ = clips
    again = tmp_path / "again"
    generate_clips(again, tiny_dataset, size="tiny", seed=0, settings=SETTINGS, workers=2, progress=False)
    assert _digests(again) == _digests(out)
    shared = json.loads((tiny_dataset / "h36m" / "frames.json").read_text())  # frames both render: same bytes
    mine = {e["image"] for e in json.loads((out / "h36m" / "frames.json").read_text())}
    common = [e["image"] for e in shared if e["image"] in mine]
    for image in common:
        assert (out / "h36m" / image).read_bytes() == (tiny_dataset / "h36m" / image).read_bytes()


def test_plan_follows_the_settings_and_skips_the_corrupt_sequence():
    jobs = plan_clips("tiny", 0, ClipSettings(clip_frames=100, frame_step=10, subjects=(11,)))
    frames = jobs[(11, "54138969")]
    assert "Directions" not in {action for action, *_ in frames}  # S11 Directions has no video
    assert "Directions 1" in {action for action, *_ in frames}
    walking = [frame for action, frame, *_ in frames if action == "Walking"]
    assert walking == list(range(0, 60, 10))[:len(walking)] and len(walking) >= 4  # tiny: 40-60 frames from 0


def test_the_clips_cache_entry_is_made_only_when_asked(tiny_dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("STITCHPOSE_CACHE", str(tmp_path))
    made = []
    monkeypatch.setattr(cache, "default_data_dir", lambda size, seed: tiny_dataset)
    monkeypatch.setattr("synthetic.clip_split.generate_clips",
                        lambda out, of, size, seed, workers: made.append(of) or _fake_split(out, size, seed))
    root = cache.clips_data_dir("tiny", 0)
    assert root == tmp_path / "synthetic" / "tiny_seed0_clips" and made == [tiny_dataset]
    assert cache.clips_data_dir("tiny", 0) == root and len(made) == 1  # complete: reused
    assert not (tmp_path / "synthetic" / "tiny_seed0").exists()


def _fake_split(out, size, seed):
    out.mkdir(parents=True)
    (out / "info.json").write_text(json.dumps({"split": "clips", "clips_version": cache.CLIPS_VERSION,
                                               "version": cache.GENERATOR_VERSION, "size": size, "seed": seed}))


def test_the_command_line_writes_a_clips_split_of_the_cached_dataset(tiny_dataset, tmp_path, monkeypatch, capsys):
    from synthetic.__main__ import main

    asked = []
    monkeypatch.setattr(cache, "default_data_dir", lambda size, seed: asked.append((size, seed)) or tiny_dataset)
    monkeypatch.setattr("synthetic.clip_split.generate_clips",
                        lambda out, of, size, seed, workers: asked.append(of) or {"counts": {"clips": 7}})
    assert main(["--clips", "--size", "tiny", "--seed", "3", "--out", str(tmp_path / "c")]) == 0
    assert asked == [("tiny", 3), tiny_dataset]
    assert "clips split (seed 3)" in capsys.readouterr().out
