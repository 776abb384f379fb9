"""Reader of the original Human3.6M release: the CDF pose files of `S{n}/MyPoseFeatures/` (read with cdflib).

- `D3_Positions/<Action>.cdf`: variable 'Pose' (1, T, 96), 32 joints x xyz, world frame, mm (required);
- `D3_Positions_mono/<Action>.<camera>.cdf`: the same in each camera's frame, mm (optional);
- `D2_Positions/<Action>.<camera>.cdf`: 'Pose' (1, T, 64), 32 joints x (x, y) image px (optional).
Actions get the names the derived files use: the release's misnamed 'TakingPhoto' and 'WalkingDog' become 'Photo'
and 'WalkDog' (as VideoPose3D's converter does); files with '_ALL' in the name are not sequences and are skipped.
Missing camera-frame or 2D files are computed from the world poses with the cameras (distortion included).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from utils.cameras import H36M_CAMERA_IDS, Camera
from utils.errors import InputError
from utils.run_logging import get_logger

POSE_FOLDER = "MyPoseFeatures"
ACTION_RENAMES: tuple[tuple[str, str], ...] = (("TakingPhoto", "Photo"), ("WalkingDog", "WalkDog"))


@dataclass
class ReleaseSequence:
    """One sequence of the release: what the converter writes, all float64, 32 joints (H36M32 order).

    world_mm (T, 32, 3); camera_mm[camera_id] (T, 32, 3) camera frame mm; image_px[camera_id] (T, 32, 2)
    distorted image px. sources[kind] says per kind ('camera', 'image') whether it was read or computed."""

    subject: int
    action: str  # as the derived files name it ('Directions 1', 'Photo')
    world_mm: np.ndarray
    camera_mm: dict[str, np.ndarray]
    image_px: dict[str, np.ndarray]
    sources: dict[str, str]


def canonical_action(file_stem: str) -> str:
    """'TakingPhoto 1' -> 'Photo 1', 'WalkingDog' -> 'WalkDog'; other names unchanged."""
    for release_name, name in ACTION_RENAMES:
        file_stem = file_stem.replace(release_name, name)
    return file_stem


def read_cdf_pose(path: Path, width: int) -> np.ndarray:
    """The variable 'Pose' of a release CDF file as (T, width) float64; InputError naming the file otherwise."""
    import cdflib

    try:
        handle = cdflib.CDF(str(path))
        variables = handle.cdf_info().zVariables + handle.cdf_info().rVariables
    except Exception as error:  # cdflib raises several types for a file that is not CDF
        raise InputError(f"{path}: cannot be read as a CDF file ({type(error).__name__}: {error})") from error
    if "Pose" not in variables:
        raise InputError(f"{path}: has no variable 'Pose' (it holds {variables}); expected a Human3.6M "
                         f"MyPoseFeatures file")
    pose = np.asarray(handle.varget("Pose"), dtype=np.float64)
    if pose.ndim not in (2, 3) or pose.shape[-1] != width or (pose.ndim == 3 and pose.shape[0] != 1):
        raise InputError(f"{path}: 'Pose' has shape {pose.shape}, expected (1, T, {width}) "
                         f"({width // (3 if width == 96 else 2)} joints x {'xyz mm' if width == 96 else 'xy px'})")
    pose = pose.reshape(-1, width)
    bad = ~np.isfinite(pose)
    if bad.any():
        raise InputError(f"{path}: 'Pose' holds {int(bad.sum())} NaN/inf values (first in frame "
                         f"{int(np.argwhere(bad)[0][0])})")
    return pose


def release_subjects(source: Path) -> list[int]:
    """Subject numbers n with `source/S{n}/MyPoseFeatures/D3_Positions/`; InputError when there are none."""
    subjects = sorted(int(p.name[1:]) for p in source.glob("S*")
                      if p.name[1:].isdigit() and (p / POSE_FOLDER / "D3_Positions").is_dir())
    if not subjects:
        raise InputError(f"{source}: no S<n>/{POSE_FOLDER}/D3_Positions/ folder (expected the original Human3.6M "
                         f"release: S1/{POSE_FOLDER}/D3_Positions/Directions 1.cdf, ...)")
    return subjects


def sequence_files(source: Path, subject: int) -> list[Path]:
    """The world-pose files of one subject (sorted), '_ALL' files left out."""
    folder = source / f"S{subject}" / POSE_FOLDER / "D3_Positions"
    return sorted(p for p in folder.glob("*.cdf") if "_ALL" not in p.name)


def _per_camera(folder: Path, stem: str, width: int, camera_ids: list[str]) -> dict[str, np.ndarray]:
    """{camera_id: (T, width)} of the files `folder/<stem>.<camera>.cdf` that exist."""
    paths = {camera_id: folder / f"{stem}.{camera_id}.cdf" for camera_id in camera_ids}
    return {camera_id: read_cdf_pose(path, width) for camera_id, path in paths.items() if path.is_file()}


def _common_length(world_file: Path, world_mm: np.ndarray, *per_camera: dict[str, np.ndarray]) -> int:
    """The frames every file of the sequence has; a warning when the files disagree (the shortest wins)."""
    lengths = {len(world_mm)} | {len(values) for found in per_camera for values in found.values()}
    if len(lengths) > 1:
        get_logger().warning(f"{world_file}: the sequence's files hold {sorted(lengths)} frames; keeping the first "
                             f"{min(lengths)}")
    return min(lengths)


def read_release_sequence(world_file: Path, subject: int,
                          cameras: dict[tuple[int, str], Camera]) -> ReleaseSequence:
    """One sequence: its world poses, and per camera (Human3.6M's four, in order; or the subject's in `cameras`)
    the camera-frame poses and image px, read where the release has them, else computed with `cameras`
    (InputError when a file is missing and `cameras` lacks that camera)."""
    world_mm = read_cdf_pose(world_file, 96).reshape(-1, 32, 3)
    stem, features = world_file.stem, world_file.parent.parent
    camera_ids = [c for c in H36M_CAMERA_IDS if (subject, c) in cameras] or list(H36M_CAMERA_IDS)
    mono = _per_camera(features / "D3_Positions_mono", stem, 96, camera_ids)
    image = _per_camera(features / "D2_Positions", stem, 64, camera_ids)
    frames = _common_length(world_file, world_mm, mono, image)
    world_mm = world_mm[:frames]
    camera_mm, image_px = {}, {}
    for camera_id in camera_ids:
        camera = cameras.get((subject, camera_id))
        if camera is None and not (camera_id in mono and camera_id in image):
            raise InputError(f"{features}: no D2_Positions / D3_Positions_mono file for '{stem}' camera {camera_id} "
                             f"and no cameras of S{subject} to compute it (give --cameras cameras.h5)")
        camera_mm[camera_id] = (mono[camera_id][:frames].reshape(-1, 32, 3) if camera_id in mono
                                else camera.world_to_camera(world_mm))
        image_px[camera_id] = (image[camera_id][:frames].reshape(-1, 32, 2) if camera_id in image
                               else camera.project(camera_mm[camera_id]))
    sources = {kind: "read" if len(found) == len(camera_ids) else ("computed" if not found else "partly read")
               for kind, found in (("camera", mono), ("image", image))}
    return ReleaseSequence(subject, canonical_action(stem), world_mm, camera_mm, image_px, sources)


def camera_disagreement_mm(sequence: ReleaseSequence, cameras: dict[tuple[int, str], Camera]) -> float:
    """Largest distance (mm) between the release's camera-frame poses and the world poses moved by `cameras`:
    about 1e-3 mm when the cameras are the ones the release was made with."""
    worst = 0.0
    for camera_id, camera_mm in sequence.camera_mm.items():
        camera = cameras.get((sequence.subject, camera_id))
        if camera is not None:
            worst = max(worst, float(np.abs(camera.world_to_camera(sequence.world_mm) - camera_mm).max()))
    return worst
