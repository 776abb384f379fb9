"""`python -m twod_threed.convert_h36m --source H36M_ROOT --output_dir DIR`: the original Human3.6M release -> the
files the loaders read.

Reads `S{n}/MyPoseFeatures/D3_Positions/<Action>.cdf` (and, where present, `D3_Positions_mono/` and
`D2_Positions/<Action>.<camera>.cdf`; see `twod_threed.h36m_release`) and writes into DIR both derived layouts:
- the 3D pose baseline's `S{n}/MyPoses/3D_positions/<Action>.h5`: dataset `3D_positions` (96, T) world mm;
- VideoPose3D's `data_3d_h36m.npz`: positions_3d[subject][action] (T, 32, 3) world metres (float32), and
  `data_2d_h36m_gt.npz`: positions_2d[subject][action] = 4 per-camera (T, 17, 2) px arrays in camera order (float32;
  D2_Positions where the release has it, else the projection of the 3D with the cameras, distortion included),
  metadata {num_joints: 17, keypoints_symmetry, layout_name: 'h36m'}.
Cameras: `--cameras cameras.h5`, else a cameras.h5 in --source, else the built-in Human3.6M ones. Action names are
the derived files' ('Photo', 'WalkDog'); '_ALL' files are skipped; S11 'Directions' is written but flagged (the
loaders drop it by default). Afterwards `train.py 2d3d_h36m --data_dir DIR` trains on it.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import h5py
import numpy as np

from twod_threed.data import read_cameras
from twod_threed.h36m_cameras import BUILTIN_SUBJECTS, builtin_cameras
from twod_threed.h36m_files import CORRUPT_SEQUENCES
from twod_threed.h36m_release import (ReleaseSequence, camera_disagreement_mm, read_release_sequence,
                                      release_subjects, sequence_files)
from utils.atomic import atomic_path
from utils.cameras import Camera
from utils.cli import Parser, one_line_errors
from utils.errors import InputError
from utils.run_logging import get_logger, progress
from utils.skeletons import h36m17_from_32

# H36M-17 left and right joints (VideoPose3D's metadata of its Human3.6M 2D files).
KEYPOINTS_SYMMETRY = [[4, 5, 6, 11, 12, 13], [1, 2, 3, 14, 15, 16]]
CAMERA_TOLERANCE_MM = 1.0  # the release's camera-frame poses vs the world poses moved by the cameras in use


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m twod_threed.convert_h36m", description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True,
                        help="the release's root folder, holding S1/MyPoseFeatures/D3_Positions/*.cdf, ...")
    parser.add_argument("--output_dir", type=Path, required=True, help="folder for the derived files")
    parser.add_argument("--cameras", type=Path, default=None,
                        help="a Human3.6M cameras.h5 (default: SOURCE/cameras.h5 if present, else the built-in ones)")
    parser.add_argument("--subjects", type=int, nargs="+", default=None, help="subjects to convert (default: all)")
    return parser


def write_baseline_h5(output_dir: Path, sequence: ReleaseSequence) -> Path:
    """S{n}/MyPoses/3D_positions/<Action>.h5 with `3D_positions` (96, T) world mm."""
    path = output_dir / f"S{sequence.subject}" / "MyPoses" / "3D_positions" / f"{sequence.action}.h5"
    with atomic_path(path) as temp, h5py.File(temp, "w") as handle:
        handle["3D_positions"] = sequence.world_mm.reshape(len(sequence.world_mm), 96).T
    return path


def write_videopose3d(output_dir: Path, sequences: list[ReleaseSequence]) -> tuple[Path, Path]:
    """data_3d_h36m.npz and data_2d_h36m_gt.npz (VideoPose3D's layout, float32 like its own converter)."""
    positions_3d: dict[str, dict[str, np.ndarray]] = {}
    positions_2d: dict[str, dict[str, list[np.ndarray]]] = {}
    for sequence in sequences:
        subject = f"S{sequence.subject}"
        positions_3d.setdefault(subject, {})[sequence.action] = (sequence.world_mm / 1000.0).astype(np.float32)
        positions_2d.setdefault(subject, {})[sequence.action] = [
            h36m17_from_32(image_px).astype(np.float32) for image_px in sequence.image_px.values()]  # camera order
    metadata = {"num_joints": 17, "keypoints_symmetry": KEYPOINTS_SYMMETRY, "layout_name": "h36m"}
    path_3d, path_2d = output_dir / "data_3d_h36m.npz", output_dir / "data_2d_h36m_gt.npz"
    with atomic_path(path_3d) as temp, open(temp, "wb") as stream:
        np.savez_compressed(stream, positions_3d=np.array(positions_3d, dtype=object))
    with atomic_path(path_2d) as temp, open(temp, "wb") as stream:
        np.savez_compressed(stream, positions_2d=np.array(positions_2d, dtype=object),
                            metadata=np.array(metadata, dtype=object))
    return path_3d, path_2d


def cameras_for(source: Path, cameras_file: Path | None, subjects: list[int]) -> dict[tuple[int, str], Camera]:
    """--cameras, else SOURCE/cameras.h5 (each must hold every subject), else the built-in cameras of the subjects
    they cover (the others' release files must then hold their camera-frame and 2D poses)."""
    if cameras_file is not None and not cameras_file.is_file():
        raise InputError(f"{cameras_file}: file not found (--cameras: a Human3.6M cameras.h5)")
    path = cameras_file or source / "cameras.h5"
    if path.is_file():
        return read_cameras(path, tuple(subjects))
    get_logger().info(f"no {path}: using the built-in Human3.6M cameras (twod_threed/h36m_cameras.json)")
    return builtin_cameras([s for s in subjects if s in BUILTIN_SUBJECTS])


def convert(source: Path, output_dir: Path, cameras_file: Path | None = None,
            subjects: list[int] | None = None) -> list[ReleaseSequence]:
    """Convert the release under `source` into `output_dir` (both layouts); returns the sequences written."""
    logger = get_logger()
    available = release_subjects(source)
    subjects = available if subjects is None else subjects
    absent = sorted(set(subjects) - set(available))
    if absent:
        raise InputError(f"{source}: no S<n>/MyPoseFeatures/D3_Positions/ for subjects {absent} (found {available})")
    cameras = cameras_for(source, cameras_file, subjects)
    files = [(subject, path) for subject in subjects for path in sequence_files(source, subject)]
    if not files:
        raise InputError(f"{source}: no D3_Positions/*.cdf files for subjects {subjects}")
    sequences = []
    for subject, path in progress(files, desc="converting Human3.6M", unit="file"):
        sequence = read_release_sequence(path, subject, cameras)
        disagreement_mm = camera_disagreement_mm(sequence, cameras)
        if disagreement_mm > CAMERA_TOLERANCE_MM:
            logger.warning(f"{path}: the release's camera-frame poses differ from the world poses moved by the "
                           f"cameras in use by up to {disagreement_mm:.1f} mm; are they the right cameras?")
        if (subject, sequence.action) in CORRUPT_SEQUENCES:
            logger.info(f"S{subject} '{sequence.action}': written, but known to be corrupt; the loaders drop it")
        write_baseline_h5(output_dir, sequence)
        sequences.append(sequence)
    write_videopose3d(output_dir, sequences)
    return sequences


@one_line_errors("convert_h36m")
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    sequences = convert(args.source, args.output_dir, args.cameras, args.subjects)
    frames = sum(len(s.world_mm) for s in sequences)
    computed = sum(s.sources["image"] != "read" for s in sequences)
    get_logger().info(f"convert_h36m: {len(sequences)} sequences ({frames} frames, subjects "
                      f"{sorted({s.subject for s in sequences})}) -> {args.output_dir}: S*/MyPoses/3D_positions/*.h5, "
                      f"data_3d_h36m.npz, data_2d_h36m_gt.npz ({computed} sequences with projected 2D)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
