"""Hourglass inference: run a trained network over plain (un-augmented) person crops and decode its heatmaps into
image-pixel joints. Used by `run.py hourglass_mpii`, the validation of `train.py hourglass_mpii` and the pictures."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from stacked_hourglass.annotations import PersonRecords
from stacked_hourglass.checkpoint import STRIDE
from stacked_hourglass.dataset import JpegDataset, SampleSettings, collate, worker_init
from stacked_hourglass.heatmaps import decode, flip_test, heatmap_to_image
from stacked_hourglass.model import normalise_input
from stacked_hourglass.mpii_fields import NUM_JOINTS
from utils.precision import Precision
from utils.run_logging import progress


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
            center_px: np.ndarray | None = None, decoder: str = "quarter", sigma: float = 1.0) -> Predictions:
    """Run the model over a loader of un-augmented samples (dataset order); decode the last stack's heatmaps
    (`decoder`: 'quarter' or 'dark' with the targets' `sigma`, heatmap px; see heatmaps.decode) and map them back to
    image px. People whose image is missing get `center_px` (their box centre) and score 0."""
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
        coords, peaks = decode(heatmaps, decoder, sigma)
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
