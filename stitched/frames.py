"""Human3.6M-format frames for end-to-end training: person crops with their 2D and 3D labels, in memory.

Frames are listed in `frames.json` ({subject, action, camera, frame, image} per rendered frame, image relative to the
Human3.6M folder; the embedded default writes it). Labels come from the same pose files as the lifter's
(`twod_threed.data.load_pose_pairs`), matched by subject/action/camera/frame. The person box is the square around
the projected 2D joints enlarged by 1.25, the hourglass's person-box convention. Crops are warped once and kept
as one uint8 tensor, cached in `.cache/stitched/`.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from stacked_hourglass import transforms
from stacked_hourglass.checkpoint import STRIDE
from stacked_hourglass.prepare import warp_crop
from stitched.network import heatmap_to_image_matrices
from twod_threed.data import load_pose_pairs
from twod_threed.h36m_files import CORRUPT_SEQUENCES, frame_names, h36m_folder
from utils.atomic import save_torch_atomic
from utils.errors import InputError
from utils.paths import cache_dir
from utils.run_logging import get_logger, progress
from utils.skeletons import H36M16_2D_TO_MPII

BOX_ENLARGEMENT = 1.25
CACHE_VERSION = 1


@dataclass
class FrameSet:
    """N person crops. images (N, 3, R, R) uint8; image_to_input (N, 2, 3); joints_2d_px (N, 16, 2) MPII order,
    image px; root_relative_mm (N, 16, 3) H36M16_3D camera frame; names (N,) 'S9/Walking 1/54138969/000123'."""

    images: torch.Tensor
    image_to_input: torch.Tensor
    joints_2d_px: torch.Tensor
    root_relative_mm: torch.Tensor
    names: np.ndarray

    def __len__(self) -> int:
        return len(self.names)

    @property
    def heatmap_to_image(self) -> torch.Tensor:
        """(N, 2, 3) heatmap px -> image px."""
        return heatmap_to_image_matrices(self.image_to_input.numpy())

    def joints_in_heatmap(self, index: torch.Tensor) -> torch.Tensor:
        """(B, 16, 2) MPII-order labels of rows `index` in heatmap px."""
        image_to_heatmap = transforms.compose(transforms.heatmap_matrix(STRIDE), self.image_to_input[index].numpy())
        return torch.as_tensor(transforms.apply(image_to_heatmap, self.joints_2d_px[index].numpy()),
                               dtype=torch.float32)


def read_frame_list(h36m_dir: Path, subjects: tuple[int, ...] | None = None) -> list[dict]:
    """Entries of frames.json for `subjects` (None: all; corrupt sequences dropped), each checked for its fields and
    named (`name`: 'S9/Walking 1/54138969/000123')."""
    path = h36m_dir / "frames.json"
    if not path.is_file():
        raise InputError(f"{path}: file not found (a list of {{subject, action, camera, frame, image}} for the "
                         f"Human3.6M-format frames to train on)")
    try:
        entries = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise InputError(f"{path}: not valid JSON ({error})") from error
    kept = []
    for position, entry in enumerate(entries):
        missing = [key for key in ("subject", "action", "camera", "frame", "image") if key not in entry]
        if missing:
            raise InputError(f"{path}: entry {position} lacks the field(s) {missing}")
        subject = int(str(entry["subject"]).lstrip("S"))
        if (subjects is None or subject in subjects) and (subject, entry["action"]) not in CORRUPT_SEQUENCES:
            name = frame_names([subject], [entry["action"]], [entry["camera"]], [entry["frame"]])[0]
            kept.append({**entry, "subject": subject, "name": str(name)})
    return kept


def person_boxes(joints_2d_px: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Square person boxes around 2D joints (N, J, 2): centres (N, 2) and sides (N,) = 1.25 x the longer extent."""
    low, high = joints_2d_px.min(1), joints_2d_px.max(1)
    return (low + high) / 2, BOX_ENLARGEMENT * (high - low).max(-1)


def _cache_file(h36m_dir: Path, subjects: tuple[int, ...], input_res: int, entries: list[dict]) -> Path:
    listing = h36m_dir / "frames.json"
    key = f"{CACHE_VERSION}|{h36m_dir.resolve()}|{sorted(subjects)}|{input_res}|{len(entries)}|" \
          f"{listing.stat().st_size}|{listing.stat().st_mtime_ns}"
    return cache_dir("stitched") / f"frames_{hashlib.sha1(key.encode()).hexdigest()[:16]}.pt"


def load_frames(data_dir: str | Path | None, subjects: tuple[int, ...], input_res: int) -> FrameSet:
    """Crops and labels of every listed frame of `subjects`; built once (progress bar), then read from the cache.
    Frames whose image is missing or unreadable are skipped and counted."""
    h36m_dir = h36m_folder(data_dir)
    entries = read_frame_list(h36m_dir, subjects)
    if not entries:
        raise InputError(f"{h36m_dir / 'frames.json'}: no frames of subjects {list(subjects)}")
    cache_file = _cache_file(h36m_dir, subjects, input_res, entries)
    if cache_file.is_file():
        cached = torch.load(cache_file, weights_only=True)
        return FrameSet(**{k: v for k, v in cached.items() if k != "names"}, names=np.asarray(cached["names"]))
    pairs = load_pose_pairs(data_dir, subjects)
    row_of = {name: row for row, name in enumerate(pairs.names())}
    rows, images, matrices, names, skipped = [], [], [], [], []
    for entry in progress(entries, desc="cropping Human3.6M frames"):
        name = entry["name"]
        if name not in row_of:
            raise InputError(f"{h36m_dir / 'frames.json'}: frame {name} has no pose in the pose files")
        row = row_of[name]
        joints_mpii = pairs.joints_2d_px[row].numpy()[list(H36M16_2D_TO_MPII)]
        center, side = person_boxes(joints_mpii[None])
        image_to_input = transforms.crop_matrix(center[0], side[0], input_res)
        crop = warp_crop(h36m_dir / entry["image"], image_to_input, float(side[0]), input_res)
        if crop is None:
            skipped.append(str(h36m_dir / entry["image"]))
            continue
        rows.append(row)
        images.append(crop)
        matrices.append(image_to_input)
        names.append(name)
    if skipped:
        get_logger().warning(f"skipped {len(skipped)} of {len(entries)} frames with missing or unreadable images "
                             f"(first: {skipped[0]})")
    if not rows:
        raise InputError(f"{h36m_dir}: none of the {len(entries)} listed frames could be read")
    index = torch.as_tensor(rows)
    frames = FrameSet(images=torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous(),
                      image_to_input=torch.as_tensor(np.stack(matrices), dtype=torch.float64),
                      joints_2d_px=pairs.joints_2d_px[index][:, list(H36M16_2D_TO_MPII)].float(),
                      root_relative_mm=pairs.root_relative_mm[index].float(), names=np.asarray(names))
    save_torch_atomic({"images": frames.images, "image_to_input": frames.image_to_input,
                 "joints_2d_px": frames.joints_2d_px, "root_relative_mm": frames.root_relative_mm,
                 "names": [str(name) for name in frames.names]}, cache_file)
    return frames
