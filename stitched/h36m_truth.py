"""Human3.6M ground truth for pictures, by frame name: a Human3.6M folder (cameras.h5 and either pose layout) or its
data_3d_h36m.npz, rows found by names 'S9/Walking 1/54138969/000123' or by the images frames.json lists."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from stitched.frames import read_frame_list
from stitched.pose_files import Poses2D, Poses3D, as_root_relative, existing
from twod_threed.data import load_pose_pairs, rows_by_name
from twod_threed.h36m_files import h36m_folder
from utils.errors import InputError
from utils.skeletons import H36M16_2D


def is_h36m_dataset(path: str | Path) -> bool:
    """A Human3.6M folder, or a VideoPose3D data_3d_h36m.npz inside one."""
    path = Path(path)
    if path.is_dir():
        return True
    if path.suffix.lower() == ".npz" and path.is_file():
        with np.load(path) as data:  # the names of the fields only: nothing is unpickled
            return "positions_3d" in data.files
    return False


def read_h36m_dataset(path: str | Path, names: np.ndarray) -> tuple[Poses2D, Poses3D]:
    """Ground truth of Human3.6M frames, row for row: names 'S9/Walking 1/54138969/000123' or image paths listed
    in the folder's frames.json. Returns 2D (H36M16_2D, px; image_names from frames.json, '' when not rendered)
    and 3D (camera frame, root-relative mm), both in the order of `names`."""
    path = existing(path)
    h36m_dir = h36m_folder(path if path.is_dir() else path.parent)
    image_of, frame_of = {}, {}
    if (h36m_dir / "frames.json").is_file():
        for entry in read_frame_list(h36m_dir):
            image_of[entry["name"]], frame_of[str(entry["image"])] = str(entry["image"]), entry["name"]
    frames = np.asarray([frame_of.get(str(n), str(n)) for n in names])
    subjects = sorted({int(n.split("/")[0][1:]) for n in frames if n[:1] == "S" and n.split("/")[0][1:].isdigit()})
    if not subjects:
        raise InputError(f"{h36m_dir}: cannot find rows named like '{names[0] if len(names) else ''}'; Human3.6M "
                         f"ground truth is found by names 'S9/Walking 1/54138969/000123' or by frames.json images")
    pairs = load_pose_pairs(h36m_dir, tuple(subjects))
    available = pairs.names()
    rows = rows_by_name(frames, available, h36m_dir)
    joints_2d = pairs.joints_2d_px[rows].double().numpy()  # (N, 16, 2) H36M16_2D
    root_relative = pairs.root_relative_mm[rows].double().numpy()  # (N, 16, 3) H36M16_3D
    images = np.asarray([image_of.get(n, "") for n in frames])
    source = f"{h36m_dir} (Human3.6M, subjects {subjects})"
    return (Poses2D(joints_2d, frames, H36M16_2D, source, image_names=images),
            Poses3D(as_root_relative(root_relative, h36m_dir, "pose files"), frames, source))
