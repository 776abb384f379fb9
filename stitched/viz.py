"""`viz.py 2d_overlay | 2d_overlay_3d_pred | 2d_overlay_3d_gt_3d_pred | 2d_gt_3d_gt_3d_pred`: one PNG per person.

- 2d_overlay: the estimated 2D pose over its image (`--image_dir --2d_pose_estimations`);
- 2d_overlay_3d_pred: and the predicted 3D pose beside it (`--3d_pose_estimation`);
- 2d_overlay_3d_gt_3d_pred: and the ground-truth 3D pose as a third panel (`--3d_pose_ground_truths`, or the
  predictions file's own `ground_truth_3d`);
- 2d_gt_3d_gt_3d_pred: the 2D ground truth (over its image when `--image_dir` finds it, else on a blank canvas),
  the 3D ground truth and the 3D prediction; rows are those of `--3d_pose_estimation`.
Files: anything `run.py hourglass_mpii | 2d3d_h36m | stitched_mpii` writes and the ground-truth formats of
`stitched/pose_files.py` (MPII json/h5/mat/npz, Human3.6M folders by frame name, MMPose npz). Rows of different files
are paired by image/frame name (people of one image by box centre), or by order when a file has no names.
PNG names come from the image names: 000000123.png, 000000123_person2.png, S9_Images_Walking_1.54138969_000050.png.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from stacked_hourglass.images import read_image as read_rgb_image
from stitched.pairing import align
from stitched.h36m_truth import is_h36m_dataset, read_h36m_dataset
from stitched.pose_files import Poses2D, Poses3D, read_poses_2d, read_poses_3d
from utils.errors import InputError
from utils.metrics import mpjpe
from utils.plotting import (blank_image_axes, camera_to_plot, draw_skeleton_2d, draw_skeleton_3d, equal_limits,
                            new_figure, save_figure, show_image, side_legend, unique_stems, zoom_to)
from utils.run_logging import get_logger
from utils.skeletons import H36M17

PANEL_INCHES = 4.0
# script -> (where the 2D panel and the rows come from, the 3D panels in order)
LAYOUTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "2d_overlay": ("estimate", ()),
    "2d_overlay_3d_pred": ("estimate", ("prediction",)),
    "2d_overlay_3d_gt_3d_pred": ("estimate", ("ground truth", "prediction")),
    "2d_gt_3d_gt_3d_pred": ("ground truth", ("ground truth", "prediction")),
}
HELP = {
    "2d_overlay": "2D pose estimates drawn over their images (PNG per person)",
    "2d_overlay_3d_pred": "2D estimate over the image beside the predicted 3D pose",
    "2d_overlay_3d_gt_3d_pred": "2D estimate over the image, ground-truth 3D pose and predicted 3D pose",
    "2d_gt_3d_gt_3d_pred": "2D ground truth, ground-truth 3D pose and predicted 3D pose",
}


def options_for(script: str):
    """The add_options function of one of the four scripts."""
    source_2d, panels_3d = LAYOUTS[script]

    def add_options(parser: argparse.ArgumentParser) -> None:
        parser.set_defaults(output_dir=f"outputs/viz/{script}")
        group = parser.add_argument_group(script)
        group.add_argument("--image_dir", "--img_dir", dest="image_dir", required=source_2d == "estimate",
                           help="folder the image names of the pose files are relative to"
                                + ("" if source_2d == "estimate" else " (optional: without it, a blank canvas)"))
        if source_2d == "estimate":
            group.add_argument("--2d_pose_estimations", dest="pose_2d_estimations", required=True,
                               help="2D poses with image names: preds_*.npz (run.py hourglass_mpii), "
                                    "stitched_predictions.npz/.json (run.py stitched_mpii), or .mat beside its .npz")
        else:
            group.add_argument("--2d_pose_ground_truths", dest="pose_2d_ground_truths", required=True,
                               help="2D ground truth: mpii_annotations.json, valid.h5, detections .mat, an npz, "
                                    "or a Human3.6M folder (by frame name)")
        if panels_3d:
            group.add_argument("--3d_pose_estimation", dest="pose_3d_estimation", required=True,
                               help="3D poses: predictions_3d.npz (run.py 2d3d_h36m) or stitched_predictions.npz")
        if "ground truth" in panels_3d:
            group.add_argument("--3d_pose_ground_truths", dest="pose_3d_ground_truths", default=None,
                               help="3D ground truth: npz with poses_3d (N, 17|16, 3) mm, MMPose npz, or a Human3.6M "
                                    "folder / data_3d_h36m.npz (by frame name); default: the predictions file's "
                                    "ground_truth_3d")
        group.add_argument("--max_images", type=int, default=20, help="draw at most this many people")
        group.add_argument("--full_image", action="store_true",
                           help="show the whole image (default: zoom to the person)")
        group.add_argument("--dpi", type=int, default=100, help="pixels per inch of the PNGs (panels are 4 inches)")

    return add_options


def check_options(opts: argparse.Namespace) -> str | None:
    if opts.max_images <= 0:
        return f"--max_images must be positive, got {opts.max_images}"
    if opts.dpi < 20:
        return f"--dpi must be at least 20, got {opts.dpi}"
    if opts.image_dir and not Path(opts.image_dir).is_dir():
        return f"--image_dir {opts.image_dir} is not a folder"
    return None


# ------------------------------------------------------------------------------------------------------- reading
def ground_truth_2d(path: str, names: np.ndarray | None, count: int) -> Poses2D:
    if is_h36m_dataset(path):
        return read_h36m_dataset(path, _need_names(names, path))[0]
    return align(read_poses_2d(path, ground_truth=True), names, count)


def ground_truth_3d(path: str | None, predictions_path: str, names: np.ndarray | None, count: int,
                    centres: np.ndarray | None) -> Poses3D:
    if path is None:
        poses = read_poses_3d(predictions_path, ground_truth=True)
        if not poses.source.endswith(":ground_truth_3d"):
            raise InputError(f"{predictions_path}: no field 'ground_truth_3d'; pass --3d_pose_ground_truths")
        return align(poses, names, count)
    if is_h36m_dataset(path):
        return read_h36m_dataset(path, _need_names(names, path))[1]
    return align(read_poses_3d(path, ground_truth=True), names, count, centres)


def _need_names(names: np.ndarray | None, path: str) -> np.ndarray:
    if names is None:
        raise InputError(f"{path}: Human3.6M ground truth is found by frame name, but the rows have no names")
    return names


def image_path(image_dir: str | None, *candidates: str) -> Path | None:
    """The first candidate name that is a file under image_dir."""
    if not image_dir:
        return None
    for name in candidates:
        if name and (Path(image_dir) / name).is_file():
            return Path(image_dir) / name
    return None


def read_image(path: Path | None) -> np.ndarray | None:
    """RGB uint8 (H, W, 3), or None (`stacked_hourglass.images.read_image`: no FIFOs, no oversized images)."""
    return None if path is None else read_rgb_image(path)


# ------------------------------------------------------------------------------------------------------- drawing
def pose_figure(image_rgb: np.ndarray | None, joints_px: np.ndarray, skeleton, visible: np.ndarray | None,
                title_2d: str, poses_3d: list[tuple[str, np.ndarray]], title: str, full_image: bool = False,
                dpi: int = 100, box: tuple[np.ndarray, float] | None = None):
    """One row of panels: the 2D pose (over the image, or on a blank y-down canvas) then 3D poses (17, 3) mm on
    shared equal axes; box: the person box (centre px, side px) to zoom to. Returns the figure."""
    columns = 1 + len(poses_3d)
    figure = new_figure(PANEL_INCHES * columns, PANEL_INCHES + 0.7, dpi)
    ax = figure.add_subplot(1, columns, 1)
    if image_rgb is not None:
        show_image(ax, image_rgb)
        if not full_image:
            zoom_to(ax, joints_px if visible is None else joints_px[np.asarray(visible) > 0], image_rgb.shape, box)
        ax.set_xticks([])
        ax.set_yticks([])
    else:
        blank_image_axes(ax, joints_px)
    draw_skeleton_2d(ax, joints_px, skeleton, visible)
    ax.set_title(title_2d, fontsize=9)
    limits = equal_limits([camera_to_plot(pose) for _, pose in poses_3d]) if poses_3d else None
    for column, (panel_title, pose) in enumerate(poses_3d, start=2):
        draw_skeleton_3d(figure.add_subplot(1, columns, column, projection="3d"), pose, H36M17, limits, panel_title)
    figure.suptitle(title, fontsize=10)
    side_legend(figure)
    figure.subplots_adjust(left=0.02, right=0.98, top=0.88, bottom=0.1, wspace=0.12)
    return figure


def read_rows(opts: argparse.Namespace) -> tuple[Poses2D, Poses3D | None, Poses3D | None, np.ndarray | None]:
    """The 2D poses, 3D predictions and 3D ground truth of one script, row for row, and the rows' names. Rows are
    those of the 2D estimations (overlays) or of the 3D predictions (2d_gt_3d_gt_3d_pred)."""
    source_2d, panels_3d = LAYOUTS[opts.script]
    predictions = read_poses_3d(opts.pose_3d_estimation) if panels_3d else None
    if source_2d == "estimate":
        poses_2d = read_poses_2d(opts.pose_2d_estimations)
        if poses_2d.names is None:
            raise InputError(f"{opts.pose_2d_estimations}: no image names (a .mat holds none); pass the .npz "
                             f"written beside it")
        names, count, centres = poses_2d.names, len(poses_2d), poses_2d.centre_px
    else:
        names, count, centres = predictions.names, len(predictions), None
        poses_2d = ground_truth_2d(opts.pose_2d_ground_truths, names, count)
    if predictions is not None:
        predictions = align(predictions, names, count, centres)
    truth = ground_truth_3d(opts.pose_3d_ground_truths, opts.pose_3d_estimation, names, count, centres) \
        if "ground truth" in panels_3d else None
    return poses_2d, predictions, truth, names


def choose_rows(poses_2d: Poses2D, names: np.ndarray | None, image_dir: str | None,
                max_images: int) -> tuple[np.ndarray, list[Path | None]]:
    """Up to max_images rows to draw (not `missing`; with image_dir, only rows whose image is there) and each row's
    image path (None: draw on a blank canvas)."""
    count = len(poses_2d)
    keep = np.ones(count, bool) if poses_2d.missing is None else ~poses_2d.missing.astype(bool)
    images: list[Path | None] = [None] * count
    if not image_dir:
        return np.flatnonzero(keep)[:max_images], images
    image_names = poses_2d.image_names if poses_2d.image_names is not None else np.full(count, "")
    row_names = names if names is not None else np.full(count, "")
    rows = []
    for row in np.flatnonzero(keep):  # stop looking once enough images are found
        images[row] = image_path(image_dir, str(row_names[row]), str(image_names[row]))
        if images[row] is not None:
            rows.append(row)
            if len(rows) == max_images:
                break
    if not rows:
        raise InputError(f"--image_dir {image_dir}: none of the images named in {poses_2d.source} is there "
                         f"(first name: '{row_names[0] or image_names[0]}')")
    return np.asarray(rows), images


def run(opts: argparse.Namespace) -> list[Path]:
    source_2d, panels_3d = LAYOUTS[opts.script]
    poses_2d, predictions, truth, names = read_rows(opts)
    count = len(poses_2d)
    rows, images = choose_rows(poses_2d, names, opts.image_dir, opts.max_images)
    labels = names if names is not None else np.asarray([f"{i:06d}" for i in range(count)])
    stems = unique_stems([str(label) for label in labels])
    written = []
    for row in rows:
        panels = []
        for kind in panels_3d:
            pose = (truth if kind == "ground truth" else predictions).poses_mm[row]
            title = f"3D {kind}"
            if kind == "prediction" and truth is not None:
                title += f" (MPJPE {float(mpjpe(pose, truth.poses_mm[row])):.0f} mm)"
            panels.append((title, pose))
        visible = None if poses_2d.visible is None else poses_2d.visible[row]
        box = None if poses_2d.box_px is None or poses_2d.centre_px is None else \
            (poses_2d.centre_px[row], float(poses_2d.box_px[row]))
        figure = pose_figure(read_image(images[row]), poses_2d.joints_px[row], poses_2d.skeleton, visible,
                             f"2D {source_2d}", panels, str(labels[row]), opts.full_image, opts.dpi, box)
        written.append(save_figure(figure, Path(opts.output_dir) / f"{stems[row]}.png"))
    get_logger().info(f"viz.py {opts.script}: wrote {len(written)} pictures to {opts.output_dir}"
                      + (f" (of {count} rows; --max_images {opts.max_images})" if count > len(written) else ""))
    return written
