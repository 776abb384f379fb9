"""In-memory Human3.6M 2D/3D pairs in the camera frame: one row per (subject, action, camera, frame).

`load_pose_pairs(data_dir, subjects)` reads either file layout (see `h36m_files`), turns every sequence into each
camera's frame, makes the 3D root-relative (H36M16_3D, mm) and the 2D either the distorted projection of the same
pose (H36M16_2D, px) or detections, and returns whole-dataset tensors. The result is cached (`utils.paths.cache_dir`),
keyed by the source files' paths, sizes and modification times.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import torch

from twod_threed.augmentation import pack_intrinsics
from twod_threed.h36m_cameras import builtin_cameras
from twod_threed.h36m_files import (TEST_SUBJECTS, TRAIN_SUBJECTS, frame_names, h36m_folder,
                                    read_baseline_detections, read_h36m_poses, read_videopose3d_2d)
from twod_threed.inputs import to_h36m16_2d
from utils.atomic import save_torch_atomic
from utils.cameras import H36M_CAMERA_IDS, Camera, load_h36m_cameras
from utils.errors import InputError
from utils.paths import cache_dir
from utils.run_logging import get_logger
from utils.skeletons import H36M16_2D_FROM_17, MPII_TO_H36M16_2D, h36m17_from_32

CACHE_VERSION = 3  # 3: VideoPose3D 2D files in COCO order are mapped by their metadata
CACHE_NAME = "twod_threed"  # the cache folder (utils.paths.cache_dir) of pairs and statistics
INPUT_2D_SOURCES = ("gt", "detections")  # or the path of a VideoPose3D data_2d_h36m_<source>.npz


@dataclass
class PosePairs:
    """Camera-frame pose pairs of many sequences, as whole-dataset tensors (N rows).

    Per row: root_relative_mm (N, 16, 3) H36M16_3D, the hip subtracted; joints_2d_px (N, 16, 2) H36M16_2D;
    root_camera_mm (N, 3) the hip in the camera frame; sequence_index (N,) into `sequences`; frames (N,).
    Per sequence s: sequences[s] = (subject, action, camera_id), intrinsics[s] (9,) packed as
    `augmentation.pack_intrinsics`, up_camera[s] (3,) the world's up axis in that camera's frame.
    """

    root_relative_mm: torch.Tensor
    joints_2d_px: torch.Tensor
    root_camera_mm: torch.Tensor
    sequence_index: torch.Tensor
    frames: torch.Tensor
    sequences: list[tuple[int, str, str]]
    intrinsics: torch.Tensor
    up_camera: torch.Tensor

    def __len__(self) -> int:
        return self.root_relative_mm.shape[0]

    @property
    def subjects(self) -> np.ndarray:
        """(N,) subject numbers."""
        return np.array([s for s, _, _ in self.sequences], dtype=np.int64)[self.sequence_index.numpy()]

    @property
    def actions(self) -> np.ndarray:
        """(N,) action names as in the files ('Walking 1')."""
        return np.array([a for _, a, _ in self.sequences])[self.sequence_index.numpy()]

    @property
    def cameras(self) -> np.ndarray:
        """(N,) camera ids ('54138969')."""
        return np.array([c for _, _, c in self.sequences])[self.sequence_index.numpy()]

    def names(self) -> np.ndarray:
        """(N,) 'S9/Walking 1/54138969/000123' source names."""
        return frame_names(self.subjects, self.actions, self.cameras, self.frames.tolist())

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def rows_by_name(wanted: np.ndarray, available: np.ndarray, source: Path | str) -> np.ndarray:
    """Row of `available` for each of `wanted` (names, e.g. 'S9/Walking 1/54138969/000123'); InputError naming
    `source` and the first name it lacks."""
    order = np.argsort(available)
    position = np.clip(np.searchsorted(available, wanted, sorter=order), 0, len(available) - 1)
    rows = order[position]
    missing = available[rows] != wanted
    if missing.any():
        raise InputError(f"{source}: no ground truth for {int(missing.sum())} of {len(wanted)} rows "
                         f"(first: '{wanted[missing][0]}')")
    return rows


def read_cameras(path: Path, subjects: tuple[int, ...]) -> dict[tuple[int, str], Camera]:
    """The cameras of `subjects`: from `path` (a cameras.h5) when it exists, else the built-in Human3.6M ones."""
    if not path.is_file():
        get_logger().info(f"{path} not found: using the built-in Human3.6M cameras (twod_threed/h36m_cameras.json)")
        return builtin_cameras(subjects)
    try:
        cameras = load_h36m_cameras(path, list(subjects))
    except (KeyError, ValueError, OSError) as error:
        raise InputError(str(error).strip("'\"")) from error
    for subject in subjects:
        if not any(s == subject for s, _ in cameras):
            raise InputError(f"{path}: no group 'subject{subject}' (cameras of S{subject} are needed)")
    return cameras


def _source_files(h36m_dir: Path, subjects: tuple[int, ...], input_2d: str) -> list[Path]:
    files = [h36m_dir / "cameras.h5", h36m_dir / "data_3d_h36m.npz"]
    for subject in subjects:
        files += sorted((h36m_dir / f"S{subject}" / "MyPoses" / "3D_positions").glob("*.h5"))
        if input_2d == "detections":
            files += sorted((h36m_dir / f"S{subject}" / "StackedHourglass").glob("*.h5"))
    if input_2d not in INPUT_2D_SOURCES:
        files.append(Path(input_2d))
    return [f for f in files if f.is_file()]


def _cache_key(h36m_dir: Path, subjects: tuple[int, ...], input_2d: str, drop_corrupt: bool) -> str:
    parts = [str(CACHE_VERSION), str(h36m_dir.resolve()), repr(sorted(subjects)), input_2d, str(drop_corrupt)]
    for path in _source_files(h36m_dir, subjects, input_2d):
        stat = path.stat()
        parts.append(f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha1("\n".join(parts).encode()).hexdigest()[:16]


def cache_key(data_dir: str | Path | None, subjects: tuple[int, ...], input_2d: str = "gt",
              drop_corrupt: bool = True) -> str:
    """16 hex digits naming what `load_pose_pairs` would read: folder, subjects, 2D source, file sizes and times."""
    return _cache_key(h36m_folder(data_dir), tuple(int(s) for s in subjects), input_2d, drop_corrupt)


def _camera_order(cameras: dict[tuple[int, str], Camera], subject: int) -> list[str]:
    """The subject's camera ids: the four Human3.6M ids in their usual order, then any other names sorted."""
    names = {c for s, c in cameras if s == subject}
    return [c for c in H36M_CAMERA_IDS if c in names] + sorted(names - set(H36M_CAMERA_IDS))


def _videopose3d_2d(path: Path, subjects: tuple[int, ...]) -> dict[tuple[int, str, str], np.ndarray]:
    """{(subject, action, camera_id): (T, 16, 2) px H36M16_2D} from a VideoPose3D 2D file: Human3.6M's 17 or 32
    joints, or COCO keypoints where its metadata says so (its detectron_pt_coco files; `to_h36m16_2d`)."""
    result = {}
    sequences, layout = read_videopose3d_2d(path, subjects)
    if layout == "coco":
        get_logger().info(f"{path}: COCO keypoints (from its metadata), mapped to the lifter's joints")
    for (subject, action), per_camera in sequences.items():
        for camera_id, keypoints in zip(H36M_CAMERA_IDS, per_camera):
            field = f"positions_2d['S{subject}']['{action}']"
            result[(subject, action, camera_id)] = to_h36m16_2d(keypoints, layout, path, field)
    return result


def _sequence_2d(h36m_dir: Path, input_2d: str, key: tuple[int, str, str], projected: np.ndarray,
                 external: dict | None) -> np.ndarray:
    if input_2d == "gt":
        return projected
    subject, action, camera_id = key
    if input_2d == "detections":
        detections = read_baseline_detections(h36m_dir, subject, action, camera_id)
        if detections is None:
            raise InputError(f"{h36m_dir / f'S{subject}' / 'StackedHourglass'}: no detections file for "
                             f"'{action}' camera {camera_id} (expected <Action_N>.{camera_id}.h5)")
        return detections[:, list(MPII_TO_H36M16_2D)]
    if key not in external:
        raise InputError(f"{input_2d}: positions_2d has no sequence S{subject} '{action}' (camera {camera_id})")
    return external[key]


def build_pose_pairs(h36m_dir: Path, subjects: tuple[int, ...], input_2d: str = "gt",
                     drop_corrupt: bool = True) -> PosePairs:
    """Read and convert without the cache (see `load_pose_pairs`)."""
    cameras = read_cameras(h36m_dir / "cameras.h5", subjects)
    poses = read_h36m_poses(h36m_dir, subjects, drop_corrupt)
    external = _videopose3d_2d(Path(input_2d), subjects) if input_2d not in INPUT_2D_SOURCES else None
    columns: dict[str, list] = {"rel": [], "px": [], "root": [], "seq": [], "frame": []}
    sequences, intrinsics, up = [], [], []
    for (subject, action), joints_world_mm in sorted(poses.items()):
        joints17_world = h36m17_from_32(joints_world_mm)  # (T, 17, 3)
        for camera_id in _camera_order(cameras, subject):
            camera = cameras[(subject, camera_id)]
            joints17_camera = camera.world_to_camera(joints17_world)  # (T, 17, 3)
            projected = camera.project(joints17_camera)[:, list(H36M16_2D_FROM_17)]  # (T, 16, 2)
            key = (subject, action, camera_id)
            joints_2d = _sequence_2d(h36m_dir, input_2d, key, projected, external)
            count = min(len(joints_2d), len(joints17_camera))
            if len(joints_2d) != len(joints17_camera):
                get_logger().warning(f"S{subject} '{action}' camera {camera_id}: {len(joints_2d)} 2D frames for "
                                     f"{len(joints17_camera)} 3D frames; using the first {count}")
            columns["rel"].append(joints17_camera[:count, 1:] - joints17_camera[:count, :1])
            columns["px"].append(joints_2d[:count])
            columns["root"].append(joints17_camera[:count, 0])
            columns["seq"].append(np.full(count, len(sequences)))
            columns["frame"].append(np.arange(count))
            sequences.append(key)
            intrinsics.append(pack_intrinsics(camera))
            up.append(torch.as_tensor(camera.R[:, 2], dtype=torch.float64))
    if not sequences:
        raise InputError(f"{h36m_dir}: no pose sequences for subjects {list(subjects)}")
    tensor = lambda name, dtype=torch.float32: torch.as_tensor(np.concatenate(columns[name]), dtype=dtype)
    return PosePairs(tensor("rel"), tensor("px"), tensor("root"), tensor("seq", torch.long),
                     tensor("frame", torch.long), sequences, torch.stack(intrinsics).float(), torch.stack(up).float())


def load_pose_pairs(data_dir: str | Path | None = None, subjects: tuple[int, ...] = TRAIN_SUBJECTS,
                    input_2d: str = "gt", drop_corrupt: bool = True, cache: bool = True) -> PosePairs:
    """Camera-frame pairs of `subjects` (default: the training subjects; TEST_SUBJECTS for S9, S11).

    data_dir: a folder with either layout (and cameras.h5, else the built-in Human3.6M cameras), a dataset root
    with h36m/, or None for the embedded synthetic dataset. input_2d: 'gt' (distorted projection of the 3D),
    'detections' (S*/StackedHourglass h5, MPII order) or a VideoPose3D data_2d_h36m_<source>.npz path.
    cache=False reads the files every time.
    """
    h36m_dir = h36m_folder(data_dir)
    subjects = tuple(int(s) for s in subjects)
    if not cache:
        return build_pose_pairs(h36m_dir, subjects, input_2d, drop_corrupt)
    path = cache_dir(CACHE_NAME) / f"pairs_{cache_key(data_dir, subjects, input_2d, drop_corrupt)}.pt"
    if path.is_file():
        try:
            return PosePairs(**torch.load(path, weights_only=True))
        except Exception:  # a stale or broken cache file is rebuilt
            path.unlink(missing_ok=True)
    pairs = build_pose_pairs(h36m_dir, subjects, input_2d, drop_corrupt)
    save_torch_atomic(pairs.to_dict(), path)
    return pairs


__all__ = ["PosePairs", "load_pose_pairs", "build_pose_pairs", "TRAIN_SUBJECTS", "TEST_SUBJECTS"]
