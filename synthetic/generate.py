"""Generate a whole synthetic dataset (MPII-style photos and Human3.6M-style recordings) into one folder.

Every image draws from its own seeded random stream, keyed by what it is (image number, or subject / sequence /
camera / frame), so the bytes written do not depend on how the work is split between processes.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import sys
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from synthetic.cache import GENERATOR_VERSION
from synthetic.h36m_scene import (CORRUPT_SEQUENCES, SUBJECTS, make_sequence, render_frame,
                                  rendered_frames, studio, subject_identity)
from synthetic.motions import ACTIONS
from synthetic.mpii_scene import render_mpii_image
from synthetic.scene_cameras import h36m_rig
from synthetic.write_h36m import (frame_path, poses_path, write_cameras, write_frame_index, write_poses,
                                  write_videopose_files)
from synthetic.write_mpii import MpiiImageRecord, write_mpii_annotations
from utils.processes import exit_with_parent

JPEG_QUALITY = 90


@dataclass(frozen=True)
class SizeConfig:
    """How much to generate. Frames per sequence are drawn in [min, max] at 50 fps."""

    name: str
    mpii_train_people: int
    mpii_val_people: int
    frames_per_sequence: tuple[int, int]
    takes_per_action: int  # sequences per action ('Walking', 'Walking 1', ...)
    rendered_per_sequence: int  # frames drawn per sequence and camera
    actions: tuple[str, ...] = ACTIONS
    render_subjects: tuple[int, ...] = SUBJECTS
    render_takes: int = 2  # only the first takes of each action get frames


SIZES: dict[str, SizeConfig] = {
    "tiny": SizeConfig("tiny", 24, 12, (40, 60), 2, 1,
                       actions=("Directions", "Greeting", "Purchases", "Sitting", "SittingDown", "Walking"),
                       render_subjects=(1, 9, 11), render_takes=1),
    "small": SizeConfig("small", 2400, 200, (250, 400), 2, 1, render_takes=1),
    "medium": SizeConfig("medium", 4000, 1000, (600, 1000), 2, 4),
    "large": SizeConfig("large", 16000, 3000, (1500, 2500), 2, 10),
}


def plan_mpii(config: SizeConfig, seed: int) -> list[tuple[int, int, bool]]:
    """(image number, people in it, is validation) until both splits hold their number of people."""
    rng = np.random.default_rng([seed, 1])
    plan, counts = [], {False: 0, True: 0}
    quota = {False: config.mpii_train_people, True: config.mpii_val_people}
    val_share = quota[True] / max(quota[True] + quota[False], 1)
    while counts[False] < quota[False] or counts[True] < quota[True]:
        if counts[False] < quota[False] and counts[True] < quota[True]:
            is_val = bool(rng.random() < val_share)
        else:
            is_val = counts[False] >= quota[False]  # only one split still needs people
        people = int(rng.choice([1, 2, 3], p=[0.4, 0.35, 0.25]))
        plan.append((len(plan), people, is_val))
        counts[is_val] += people
    return plan


def _write_jpeg(path: Path, image_rgb: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    bgr = cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR)
    ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    assert ok, path
    path.write_bytes(data.tobytes())


def mpii_file_name(image_number: int) -> str:
    return f"{image_number + 1:09d}.jpg"


def _mpii_task(out_dir: str, seed: int, items: list[tuple[int, int, bool]]) -> tuple[str, list]:
    records = []
    for image_number, people, is_val in items:
        result = render_mpii_image(np.random.default_rng([seed, 2, image_number]), num_people=people)
        name = mpii_file_name(image_number)
        _write_jpeg(Path(out_dir) / "mpii" / "images" / name, result.image)
        height, width = result.image.shape[:2]
        records.append(MpiiImageRecord(name, width, height, is_val, result.people))
    return "mpii", records


def _h36m_task(out_dir: str, seed: int, subject: int, camera_id: str, frames: list[tuple]) -> tuple[str, list]:
    """Draw the frames of one subject seen by one camera; frames: (action, frame, points (34, 3), chairs)."""
    camera = h36m_rig(subject, seed)[camera_id]
    shape, appearance = subject_identity(subject, seed)
    view = studio(subject, camera, seed)
    index = []
    for action, frame, points, chairs in frames:
        rng = np.random.default_rng([seed, 3, subject, int(camera_id), frame, *action.encode()])
        image = frame_path(subject, action, camera_id, frame)
        _write_jpeg(Path(out_dir) / "h36m" / image, render_frame(view, points, shape, appearance, chairs, rng).image)
        index.append({"subject": f"S{subject}", "action": action, "camera": camera_id, "frame": frame,
                      "image": image})
    return "h36m", index


def _run_task(task: tuple) -> tuple[str, list]:
    kind, args = task
    cv2.setNumThreads(1)
    return _mpii_task(*args) if kind == "mpii" else _h36m_task(*args)


def sequence_length(config: SizeConfig, seed: int, subject: int, action_index: int, take: int) -> int:
    """Frames of one sequence, drawn from its own stream (seed, subject, action, take)."""
    return int(np.random.default_rng([seed, 10, subject, action_index, take]).integers(
        config.frames_per_sequence[0], config.frames_per_sequence[1] + 1))


def _sequences(config: SizeConfig, seed: int):
    """All pose sequences, and per (subject, camera) the frames to draw."""
    sequences, render_jobs = [], {}
    for subject in SUBJECTS:
        for action in config.actions:
            for take in range(config.takes_per_action):
                action_index = ACTIONS.index(action)
                frames = sequence_length(config, seed, subject, action_index, take)
                sequence = make_sequence(subject, action_index, take, frames, seed)
                sequences.append(sequence)
                if (subject not in config.render_subjects or take >= config.render_takes
                        or (subject, sequence.action) in CORRUPT_SEQUENCES):
                    continue
                for camera_id in h36m_rig(subject, seed):
                    pick = np.random.default_rng([seed, 4, subject, action_index, take, int(camera_id)])
                    for frame in rendered_frames(frames, config.rendered_per_sequence, pick):
                        render_jobs.setdefault((subject, camera_id), []).append(
                            (sequence.action, frame, sequence.points_mm[frame], sequence.chairs_mm))
    return sequences, render_jobs


def generate_dataset(out_dir: str | Path, size: str | SizeConfig = "small", seed: int = 0, workers: int = 2,
                     progress: bool = True) -> dict:
    """Write a complete dataset into `out_dir` (created; should be empty). Returns the contents of info.json.

    size: a name from `SIZES` or a `SizeConfig`. workers: processes drawing images (1: all in this process).

    The photos start rendering in the worker processes first; meanwhile this process computes the pose sequences,
    writes the Human3.6M pose files and then queues the Human3.6M frames.
    """
    if isinstance(size, str) and size not in SIZES:
        raise ValueError(f"unknown size '{size}', expected one of {', '.join(SIZES)}")
    config, out_dir = SIZES[size] if isinstance(size, str) else size, Path(out_dir)
    (out_dir / "mpii" / "images").mkdir(parents=True, exist_ok=True)
    (out_dir / "h36m").mkdir(parents=True, exist_ok=True)
    plan = plan_mpii(config, seed)
    mpii_images, h36m_frames = [], []
    with _executor(workers) as executor, tqdm(total=len(plan), desc=f"synthetic {config.name}", unit="img",
                                              disable=not progress) as bar:
        tasks = [("mpii", (str(out_dir), seed, plan[start:start + 8])) for start in range(0, len(plan), 8)]
        pending = {executor.submit(_run_task, task): task for task in tasks}
        sequences, render_jobs = _sequences(config, seed)
        bar.total += sum(len(frames) for frames in render_jobs.values())
        tasks = [("h36m", (str(out_dir), seed, subject, camera_id, frames))
                 for (subject, camera_id), frames in render_jobs.items()]
        pending.update({executor.submit(_run_task, task): task for task in tasks})
        counts = _write_h36m_poses(out_dir / "h36m", sequences, seed)
        for kind, items in _results(executor, pending):
            (mpii_images if kind == "mpii" else h36m_frames).extend(items)
            bar.update(len(items))
    mpii_images.sort(key=lambda record: record.file_name)
    h36m_frames.sort(key=lambda item: (int(item["subject"][1:]), item["action"], item["camera"], item["frame"]))
    write_frame_index(out_dir / "h36m", h36m_frames)
    counts.update(write_mpii_annotations(out_dir / "mpii", mpii_images), h36m_rendered_frames=len(h36m_frames))
    info = {"generator": "stitchpose.synthetic", "version": GENERATOR_VERSION, "size": config.name, "seed": seed,
            "counts": counts, "config": asdict(config),
            "corrupt_sequences": [[f"S{subject}", action] for subject, action in CORRUPT_SEQUENCES]}
    (out_dir / "info.json").write_text(json.dumps(info, indent=1) + "\n")
    return info


STALL_SECONDS = 180  # a task (8 photos or one camera's frames) takes seconds; this long without one finishing
#                     means the worker processes are stuck, and the remaining tasks are run here instead


def _results(executor, pending: dict, run_task=None):
    """Yield task results as they complete; if the workers break or stall, finish the remaining tasks here
    (with `run_task`, default `_run_task`)."""
    run_task = run_task or _run_task
    remaining = set(pending)
    while remaining:
        done, remaining = wait(remaining, timeout=STALL_SECONDS, return_when=FIRST_COMPLETED)
        failed = {future for future in done if future.exception() is not None}
        for future in failed:
            if not isinstance(future.exception(), BrokenProcessPool):
                raise future.exception()
        yield from (future.result() for future in done - failed)
        if not done or failed:
            print(f"[synthetic] the worker processes stalled or died; drawing the {len(remaining | failed)} "
                  "remaining tasks in this process", file=sys.stderr, flush=True)
            for process in list((getattr(executor, "_processes", None) or {}).values()):
                process.terminate()
            executor.shutdown(wait=False, cancel_futures=True)
            yield from (run_task(pending[future]) for future in remaining | failed)
            return


class _InlineExecutor:
    """`submit` runs the call at once (workers <= 1): same results, same order of writes."""

    def __enter__(self) -> "_InlineExecutor":
        return self

    def __exit__(self, *exc) -> None:
        return None

    def submit(self, function, *args) -> Future:
        future: Future = Future()
        future.set_result(function(*args))
        return future

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        return None


def _executor(workers: int):
    if workers <= 1:
        return _InlineExecutor()
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if context.get_start_method() == "forkserver":
        context.set_forkserver_preload(["synthetic.generate"])  # imported once, inherited by every worker
    # Idle workers of a killed generator would wait on their task queue forever: they watch this process.
    return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=exit_with_parent,
                               initargs=(os.getpid(),))


def _write_h36m_poses(h36m_dir: Path, sequences: list, seed: int) -> dict[str, int]:
    """cameras.h5, every sequence's 3D_positions file and the two VideoPose3D npz files."""
    cameras = {subject: h36m_rig(subject, seed) for subject in SUBJECTS}
    write_cameras(h36m_dir / "cameras.h5", cameras)
    poses_mm: dict[str, dict[str, np.ndarray]] = {}
    for sequence in sequences:
        joints = sequence.points_mm[:, :32]
        write_poses(poses_path(h36m_dir, sequence.subject, sequence.action), joints)
        poses_mm.setdefault(f"S{sequence.subject}", {})[sequence.action] = joints
    write_videopose_files(h36m_dir, poses_mm, cameras)
    return {"h36m_subjects": len(SUBJECTS), "h36m_sequences": len(sequences),
            "h36m_poses": int(sum(len(sequence.points_mm) for sequence in sequences))}


def default_workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))
