"""Write a HumanEva-I-like dataset in VideoPose3D's layout (see `humaneva_scene`) into `ROOT/humaneva/`.

    humaneva/data_3d_humaneva15.npz   positions_3d[subject][action] (T, 15, 3) float32 metres, world frame;
                                      subjects 'Train/S1' ... 'Validate/S3'
    humaneva/data_2d_humaneva15_gt.npz  positions_2d[subject][action] = 3 x (T, 15, 2) float32 px (C1, C2, C3),
                                      metadata {num_joints: 15, keypoints_symmetry: [left, right],
                                      layout_name: 'humaneva15'}
    humaneva/humaneva_cameras.json    per subject ('S1'): per camera {id, orientation (w, x, y, z) camera -> world,
                                      translation (mm, camera centre), focal_length, center (px), res_w, res_h}
                                      - VideoPose3D's extrinsics convention, plus the intrinsics used here
    humaneva/Images/<Train|Validate>/S<n>/<action>.<camera>/<frame:06d>.jpg   consecutive rendered frames
    humaneva/frames.json              [{subject, action, camera, frame, image}] for every rendered frame
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from tqdm import tqdm

from synthetic.humaneva_scene import (ACTIONS, CAMERA_IDS, FPS, HUMANEVA_SIZES, SPLITS, SUBJECTS, clip_start,
                                      humaneva15, humaneva_rig, make_humaneva_sequence, render_humaneva_frame,
                                      sequence_length, studio_view)
from synthetic.write_h36m import _as_object, save_npz_reproducible
from utils.cameras import Camera, matrix_to_quaternion
from utils.skeletons import HUMANEVA15

HUMANEVA_VERSION = "1.0"


def camera_record(camera: Camera) -> dict:
    """One camera in humaneva_cameras.json (VideoPose3D's extrinsics convention)."""
    return {"id": camera.name, "orientation": [round(float(v), 9) for v in matrix_to_quaternion(camera.R.T)],
            "translation": [round(float(v), 4) for v in camera.T], "focal_length": [float(v) for v in camera.f],
            "center": [float(v) for v in camera.c], "res_w": camera.width, "res_h": camera.height}


def frame_image(subject: str, action: str, camera_id: str, frame: int) -> str:
    """Image path relative to humaneva/ ('Train/S1/Images/...' keeps each take's split)."""
    return f"Images/{subject}/{action}.{camera_id}/{frame:06d}.jpg"


def generate_humaneva(root: str | Path, size: str = "small", seed: int = 0, progress: bool = True) -> dict:
    """Write `root/humaneva/` and `root/info.json`; returns the info."""
    from synthetic.generate import _write_jpeg  # the same JPEG settings as the other parts

    config = HUMANEVA_SIZES[size]
    out = Path(root) / "humaneva"
    out.mkdir(parents=True, exist_ok=True)
    rigs = {subject: humaneva_rig(subject, seed) for subject in SUBJECTS}
    positions_3d, positions_2d, frames_index = {}, {}, []
    takes = [(split, subject, action) for split in SPLITS for subject in SUBJECTS for action in ACTIONS]
    bar = tqdm(total=len(takes) * len(CAMERA_IDS) * config.clip_frames, desc=f"synthetic HumanEva {size}",
               unit="frame", disable=not progress)
    views = {(s, c): studio_view(s, camera, seed) for s, rig in rigs.items() for c, camera in rig.items()}
    for split, subject, action in takes:
        name = f"{split}/{subject}"
        frames = sequence_length(subject, split, action, config, seed)
        points = make_humaneva_sequence(subject, split, action, frames, seed)  # (T, 34, 3) mm
        joints = humaneva15(points)  # (T, 15, 3)
        positions_3d.setdefault(name, {})[action] = (joints / 1000.0).astype(np.float32)
        positions_2d.setdefault(name, {})[action] = [rigs[subject][c].project_world(joints).astype(np.float32)
                                                     for c in CAMERA_IDS]
        start = clip_start(subject, split, action, frames, config.clip_frames, seed)
        for camera_id in CAMERA_IDS:
            for frame in range(start, min(start + config.clip_frames, frames)):
                image = frame_image(name, action, camera_id, frame)
                key = (SPLITS.index(split), int(subject[1:]), ACTIONS.index(action), CAMERA_IDS.index(camera_id),
                       frame)
                _write_jpeg(out / image, render_humaneva_frame(views[(subject, camera_id)], points[frame], subject,
                                                               seed, key))
                frames_index.append({"subject": name, "action": action, "camera": camera_id, "frame": frame,
                                     "image": image})
                bar.update(1)
    bar.close()
    left, right = zip(*HUMANEVA15.flip_pairs)
    metadata = {"num_joints": 15, "keypoints_symmetry": [list(left), list(right)], "layout_name": "humaneva15"}
    save_npz_reproducible(out / "data_3d_humaneva15.npz", positions_3d=_as_object(positions_3d))
    save_npz_reproducible(out / "data_2d_humaneva15_gt.npz", positions_2d=_as_object(positions_2d),
                          metadata=_as_object(metadata))
    cameras = {subject: [camera_record(rig[c]) for c in CAMERA_IDS] for subject, rig in rigs.items()}
    (out / "humaneva_cameras.json").write_text(json.dumps(cameras, indent=1) + "\n")
    (out / "frames.json").write_text(json.dumps(frames_index, indent=0) + "\n")
    info = {"generator": "stitchpose.synthetic.humaneva", "version": HUMANEVA_VERSION, "size": size, "seed": seed,
            "fps": FPS, "counts": {"sequences": len(takes), "poses": int(sum(len(a) for acts in positions_3d.values()
                                                                          for a in acts.values())),
                                   "rendered_frames": len(frames_index)}}
    (Path(root) / "info.json").write_text(json.dumps(info, indent=1) + "\n")
    return info
