"""`run.py hourglass_mpii`: 2D joints for a split of an MPII-format dataset or for a folder of images.

Writes OUTPUT_DIR/preds_<name>.mat (key `preds`, (N, 16, 2) image px, in ground-truth order for a split, ready for
`eval.py mpii_PCKh`) and preds_<name>.npz (preds, scores (N, 16) heatmap peaks, image_names, center_px, box_px,
missing (N,) people whose image could not be read: their joints are the box centre and their scores 0).
"""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.io
import torch
from torch.utils.data import DataLoader

from stacked_hourglass.annotations import NUM_JOINTS, PersonRecords, load_split, mpii_folder
from stacked_hourglass.checkpoint import STRIDE, load_hourglass
from stacked_hourglass.dataset import JpegDataset, SampleSettings, collate, worker_init
from stacked_hourglass.heatmaps import decode, flip_test, heatmap_to_image
from stacked_hourglass.model import normalise_input
from utils.errors import InputError
from utils.compiling import compile_model
from utils.precision import Precision, choose_precision
from utils.run_logging import get_logger, progress

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


@dataclass
class Predictions:
    joints_px: np.ndarray  # (N, 16, 2) image px
    scores: np.ndarray  # (N, 16) heatmap peak values
    missing: np.ndarray  # (N,) bool: the image could not be read
    skipped_paths: list[str]
    example: dict | None = None  # first batch: uint8 images (B, 3, R, R), heatmaps (B, J, h, w), joints_in (B, J, 2)


@torch.no_grad()
def predict(model: torch.nn.Module, loader: DataLoader, count: int, mean_rgb: torch.Tensor, std_rgb: torch.Tensor,
            device: torch.device, precision: Precision, use_flip_test: bool = False, show_progress: bool = True,
            center_px: np.ndarray | None = None) -> Predictions:
    """Run the model over a loader of un-augmented samples (dataset order); decode the last stack's heatmaps and map
    them back to image px. People whose image is missing get `center_px` (their box centre) and score 0."""
    model.eval()
    joints = np.zeros((count, NUM_JOINTS, 2)) if center_px is None else np.repeat(center_px[:, None], NUM_JOINTS, 1)
    scores, missing, skipped, example = np.zeros((count, NUM_JOINTS)), np.zeros(count, bool), [], None

    def heatmaps_of(images: torch.Tensor) -> torch.Tensor:
        with precision.autocast():
            return model(images)["heatmaps"][-1].float()

    for batch in progress(loader, enabled=show_progress, desc="predicting"):
        for item in batch["skipped"]:
            missing[item.index] = True
            skipped.append(f"{item.path} ({item.reason})")
        if "image" not in batch:
            continue
        images = normalise_input(batch["image"].to(device), mean_rgb, std_rgb)
        heatmaps = flip_test(heatmaps_of, images) if use_flip_test else heatmaps_of(images)
        coords, peaks = decode(heatmaps)
        index = batch["index"].numpy()
        joints[index] = heatmap_to_image(coords.cpu().numpy(), batch["image_to_input"].numpy(), STRIDE)
        scores[index] = peaks.cpu().numpy()
        if example is None:
            example = {"images": batch["image"][:4], "heatmaps": heatmaps[:4].cpu(), "joints_hm": coords[:4].cpu()}
    return Predictions(joints, scores, missing, skipped, example)


def plain_loader(records: PersonRecords, image_dir: Path, input_res: int, batch_size: int, workers: int) -> DataLoader:
    dataset = JpegDataset(records, image_dir, SampleSettings(input_res=input_res, stride=STRIDE))
    return DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=workers, collate_fn=collate,
                      worker_init_fn=worker_init)


def folder_records(image_dir: Path, boxes_file: str | None) -> PersonRecords:
    """One person per given box (boxes JSON: {image name: [[x1, y1, x2, y2], ...]}; crop side 1.25 x the longer
    box side, as the MPII person boxes), or per whole image (crop side = the longer image side)."""
    if boxes_file:
        try:
            boxes = json.loads(Path(boxes_file).read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise InputError(f"{boxes_file}: cannot be read as JSON {{image: [[x1, y1, x2, y2], ...]}} ({error})")
        names, corners = [], []
        for name, image_boxes in boxes.items():
            for box in image_boxes:
                if len(box) != 4:
                    raise InputError(f"{boxes_file}: box {box} of '{name}' is not [x1, y1, x2, y2]")
                names.append(name)
                corners.append(box)
        corners = np.asarray(corners, dtype=np.float64).reshape(-1, 4)
        center = (corners[:, :2] + corners[:, 2:]) / 2
        side = 1.25 * np.abs(corners[:, 2:] - corners[:, :2]).max(-1)
    else:
        names = sorted(p.name for p in image_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        sizes = [image_size(image_dir / name) for name in names]
        sizes = np.asarray(sizes, dtype=np.float64).reshape(-1, 2)
        center, side = (sizes - 1) / 2, np.maximum(sizes.max(-1), 1)
    if not names:
        raise InputError(f"{image_dir}: no images ({', '.join(IMAGE_SUFFIXES)}) or boxes to run on")
    count = len(names)
    zeros = np.zeros((count, NUM_JOINTS))
    return PersonRecords(np.asarray(names), np.zeros((count, NUM_JOINTS, 2)), zeros, zeros, center, side,
                         np.full(count, np.nan))


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) from the file header; (0, 0) when unreadable (the person is then reported missing)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return image.size
    except (OSError, UnidentifiedImageError):
        return 0, 0


def write_predictions(output_dir: Path, name: str, records: PersonRecords, predictions: Predictions) -> Path:
    output_dir.mkdir(parents=True, exist_ok=True)
    mat_path = output_dir / f"preds_{name}.mat"
    scipy.io.savemat(mat_path, {"preds": predictions.joints_px})
    np.savez(output_dir / f"preds_{name}.npz", preds=predictions.joints_px, scores=predictions.scores,
             image_names=records.image_names, center_px=records.center_px, box_px=records.box_px,
             missing=predictions.missing)
    return mat_path


def add_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("hourglass_mpii")
    add_people_options(group, "--image_dir")
    group.add_argument("--flip_test", action="store_true", help="average with the prediction on the mirrored input")
    parser.set_defaults(batch_size=16, output_dir="outputs/hourglass_mpii")


def check_options(opts: argparse.Namespace) -> str | None:
    if not opts.load:
        return "--load CHECKPOINT is required (a last.pt/best.pt written by train.py hourglass_mpii)"
    if opts.boxes and not opts.image_dir:
        return "--boxes needs --image_dir"
    return None


def add_people_options(group: argparse._ArgumentGroup, folder_option: str) -> None:
    """The options `people_to_run` reads: `--split` of a dataset, or the folder option (`--image_dir` for run.py
    hourglass_mpii, `--img_dir` elsewhere) with optional `--boxes`."""
    group.add_argument("--split", choices=("valid", "train", "all"), default="valid",
                       help=f"without {folder_option}: people of this split of --data_dir (or of the embedded "
                            "default; valid: annot/valid.h5 order when present)")
    group.add_argument(folder_option, default=None, help="run on a folder of images instead of a dataset split")
    group.add_argument("--boxes", default=None,
                       help=f"with {folder_option}: JSON {{image name: [[x1, y1, x2, y2], ...]}} person boxes "
                            "(default: one person per whole image)")


def people_to_run(image_dir: str | None, boxes: str | None, data_dir: str | None,
                  split: str) -> tuple[Path, PersonRecords]:
    """The people to predict: per box (or whole image) of a folder of images, else a split of an MPII-format
    dataset (`data_dir`, or the embedded default). Returns the image folder and the person records."""
    if image_dir:
        folder = Path(image_dir)
        if not folder.is_dir():
            raise InputError(f"image folder {folder} is not a folder")
        return folder, folder_records(folder, boxes)
    folder = mpii_folder(data_dir)
    return folder / "images", load_split(folder, split)


def run(opts: argparse.Namespace) -> Path:
    logger = get_logger()
    device = torch.device(opts.device)
    precision = choose_precision(device, opts.amp, opts.amp_dtype)
    logger.info(precision.describe())
    model, config, extras = load_hourglass(opts.load, device)
    if opts.compile:
        model = compile_model(model, device)
    image_dir, records = people_to_run(opts.image_dir, opts.boxes, opts.data_dir, opts.split)
    name = "images" if opts.image_dir else opts.split
    loader = plain_loader(records, image_dir, config.input_res, opts.batch_size, opts.workers)
    predictions = predict(model, loader, len(records), extras["mean_rgb"], extras["std_rgb"], device, precision,
                          opts.flip_test, center_px=records.center_px)
    if predictions.skipped_paths:
        logger.warning(f"{len(predictions.skipped_paths)} of {len(records)} people have no readable image (first: "
                       f"{predictions.skipped_paths[0]}); their joints are the box centre, 'missing' in the .npz")
    path = write_predictions(Path(opts.output_dir), name, records, predictions)
    logger.info(f"wrote {len(records)} predictions to {path} (and {path.with_suffix('.npz').name})")
    return path
