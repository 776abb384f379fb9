"""The rendered clips split: for every Human3.6M-format sequence, one short clip of consecutive frames (one camera,
every `frame_step`-th frame), for action recognition from RGB video.

The embedded dataset renders one frame per sequence and camera (small), which cannot be cut into clips. This split
is additive: its own cache entry `synthetic/<size>_seed<seed>_clips/`, made from the dataset of the same size and
seed (whose files it never changes) only when a command asks for it (`train.py multitask_h36m --clips rendered`,
`python -m synthetic --clips`). Its `h36m/` folder is a Human3.6M-format folder like the dataset's: the pose files and
cameras.h5 are the dataset's own (hard links, or copies), frames.json lists the clip frames, so every reader of
Human3.6M-format frames (`stitched.frames.load_frames`, `run.py action_h36m --input`) reads it unchanged.

Each clip starts at a frame drawn from its own stream (seed, 20, subject, action, take) and covers `clip_frames`
source frames (100 = 2 s at 50 fps; fewer when the sequence is shorter); each frame is drawn with the stream the
dataset itself would use for that frame, so the same size, seed and settings give byte-identical files.
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from synthetic.cache import CLIPS_VERSION, GENERATOR_VERSION
from synthetic.generate import SIZES, _executor, _results, _run_task, sequence_length
from synthetic.h36m_scene import CORRUPT_SEQUENCES, SUBJECTS, make_sequence
from synthetic.motions import ACTIONS
from synthetic.write_h36m import poses_path, write_frame_index

@dataclass(frozen=True)
class ClipSettings:
    """What the split holds: clips of `clip_frames` source frames, every `frame_step`-th drawn, seen by `camera`."""

    clip_frames: int = 100  # 2 s at 50 fps
    frame_step: int = 8  # 13 frames per 2 s clip, 6.25 fps
    camera: str = "54138969"
    subjects: tuple[int, ...] = SUBJECTS


def clip_start(frames: int, clip_frames: int, seed: int, subject: int, action_index: int, take: int) -> int:
    """First source frame of a sequence's clip (0 when the sequence is not longer than a clip)."""
    spare = max(frames - clip_frames, 0)
    return int(np.random.default_rng([seed, 20, subject, action_index, take]).integers(spare + 1))


def plan_clips(size: str, seed: int, settings: ClipSettings) -> dict[tuple[int, str], list[tuple]]:
    """Per (subject, camera): (action, frame, points (34, 3), chairs) of every clip frame, as the dataset's
    `_h36m_task` draws them."""
    config = SIZES[size]
    jobs: dict[tuple[int, str], list[tuple]] = {}
    for subject in settings.subjects:
        for action in config.actions:
            action_index = ACTIONS.index(action)
            for take in range(config.takes_per_action):
                frames = sequence_length(config, seed, subject, action_index, take)
                sequence = make_sequence(subject, action_index, take, frames, seed)
                if (subject, sequence.action) in CORRUPT_SEQUENCES:
                    continue
                start = clip_start(frames, settings.clip_frames, seed, subject, action_index, take)
                end = min(start + settings.clip_frames, frames)
                for frame in range(start, end, settings.frame_step):
                    jobs.setdefault((subject, settings.camera), []).append(
                        (sequence.action, frame, sequence.points_mm[frame], sequence.chairs_mm))
    return jobs


def _link_or_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _share_pose_files(dataset_h36m: Path, h36m_dir: Path) -> None:
    """The dataset's cameras, pose files and VideoPose3D files, under the split's h36m/ (same bytes)."""
    names = ["cameras.h5", "data_3d_h36m.npz", "data_2d_h36m_gt.npz"]
    names += [str(p.relative_to(dataset_h36m)) for p in sorted(dataset_h36m.glob("S*/MyPoses/3D_positions/*.h5"))]
    for name in names:
        if not (dataset_h36m / name).is_file():
            raise FileNotFoundError(f"{dataset_h36m / name}: the dataset this clips split is made from lacks it")
        _link_or_copy(dataset_h36m / name, h36m_dir / name)


def generate_clips(out_dir: str | Path, dataset_dir: str | Path, size: str = "small", seed: int = 0,
                   settings: ClipSettings = ClipSettings(), workers: int = 2, progress: bool = True) -> dict:
    """Write the clips split of the dataset at `dataset_dir` (of this size and seed) into `out_dir`; returns
    info.json's contents."""
    if size not in SIZES:
        raise ValueError(f"unknown size '{size}', expected one of {', '.join(SIZES)}")
    if settings.clip_frames < 1 or settings.frame_step < 1:
        raise ValueError(f"clip_frames {settings.clip_frames} and frame_step {settings.frame_step} must be >= 1")
    out_dir = Path(out_dir)
    h36m_dir = out_dir / "h36m"
    _share_pose_files(Path(dataset_dir) / "h36m", h36m_dir)
    jobs = plan_clips(size, seed, settings)
    index = []
    with _executor(workers) as executor, tqdm(total=sum(map(len, jobs.values())), desc=f"synthetic {size} clips",
                                              unit="img", disable=not progress) as bar:
        pending = {}
        for (subject, camera_id), frames in jobs.items():  # tasks of ~100 frames, so both workers stay busy
            for begin in range(0, len(frames), 104):
                task = ("h36m", (str(out_dir), seed, subject, camera_id, frames[begin:begin + 104]))
                pending[executor.submit(_run_task, task)] = task
        for _, items in _results(executor, pending):
            index.extend(items)
            bar.update(len(items))
    index.sort(key=lambda item: (int(item["subject"][1:]), item["action"], item["camera"], item["frame"]))
    write_frame_index(h36m_dir, index)
    info = {"generator": "stitchpose.synthetic", "version": GENERATOR_VERSION, "clips_version": CLIPS_VERSION,
            "size": size, "seed": seed, "split": "clips", "clips": asdict(settings),
            "counts": {"clips": len({(f["subject"], f["action"]) for f in index}), "h36m_rendered_frames": len(index)}}
    (out_dir / "info.json").write_text(json.dumps(info, indent=1) + "\n")
    return info

