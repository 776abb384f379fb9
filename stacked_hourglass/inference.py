"""Hourglass inference: run a trained network over plain (un-augmented) person crops and decode its heatmaps into
image-pixel joints. `HourglassPredictor` is the one crop-level path (`run.py hourglass_mpii`, the validation of
`train.py hourglass_mpii`, and `stitched.inference.Estimator` for a hourglass checkpoint); `predict` runs it over a
loader of a dataset's people."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from stacked_hourglass.annotations import PersonRecords
from stacked_hourglass.checkpoint import STRIDE, load_hourglass
from stacked_hourglass.dataset import JpegDataset, SampleSettings, collate, worker_init
from stacked_hourglass.heatmaps import decode, flip_test, heatmap_to_image
from stacked_hourglass.model import normalise_input
from stacked_hourglass.mpii_fields import NUM_JOINTS
from utils.atomic import save_mat_atomic, save_npz_atomic
from utils.precision import Precision, choose_precision
from utils.run_logging import progress


@dataclass
class CropPrediction:
    joints_px: np.ndarray  # (B, J, 2) image px
    scores: np.ndarray  # (B, J) heatmap peak values
    coords_hm: torch.Tensor  # (B, J, 2) heatmap px
    heatmaps: torch.Tensor  # (B, J, h, w) the last stack's (flip-tested when set)


@dataclass
class HourglassPredictor:
    """A hourglass with what decoding needs: input statistics, precision, flip test, sub-pixel decoder."""

    model: torch.nn.Module
    mean_rgb: torch.Tensor  # (3,) in [0, 1]
    std_rgb: torch.Tensor  # (3,)
    precision: Precision
    use_flip_test: bool = False
    decoder: str = "quarter"
    sigma: float = 1.0  # the training targets' Gaussian, heatmap px (the 'dark' decoder blurs with it)

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str | torch.device = "cpu", precision: Precision | None = None,
                        **settings) -> "HourglassPredictor":
        """From a hourglass checkpoint (or the hourglass part of a stitched one) alone."""
        model, _, extras = load_hourglass(path, device)
        sigma = float(extras["options"].get("sigma") or 1.0)
        return cls(model, extras["mean_rgb"], extras["std_rgb"], precision or choose_precision(device, False),
                   sigma=sigma, **settings)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def input_res(self) -> int:
        return self.model.config.input_res

    @torch.no_grad()
    def heatmaps(self, crops: torch.Tensor) -> torch.Tensor:
        """crops: (B, 3, R, R) uint8 RGB -> the last stack's heatmaps (B, J, R/4, R/4) float32 (flip-tested if set)."""
        images = normalise_input(crops.to(self.device), self.mean_rgb, self.std_rgb)

        def heatmaps_of(inputs: torch.Tensor) -> torch.Tensor:
            with self.precision.autocast():
                return self.model(inputs)["heatmaps"][-1].float()

        return flip_test(heatmaps_of, images) if self.use_flip_test else heatmaps_of(images)

    def __call__(self, crops: torch.Tensor, image_to_input: np.ndarray) -> CropPrediction:
        """crops (B, 3, R, R) uint8 with their image px -> input px matrices (B, 2, 3)."""
        self.model.eval()
        heatmaps = self.heatmaps(crops)
        coords, peaks = decode(heatmaps, self.decoder, self.sigma)
        joints = heatmap_to_image(coords.cpu().numpy(), np.asarray(image_to_input), STRIDE)
        return CropPrediction(joints, peaks.cpu().numpy(), coords.cpu(), heatmaps.cpu())


@dataclass
class Predictions:
    joints_px: np.ndarray  # (N, 16, 2) image px
    scores: np.ndarray  # (N, 16) heatmap peak values
    missing: np.ndarray  # (N,) bool: the image could not be read
    skipped_paths: list[str]
    example: dict | None = None  # first batch: uint8 images (B, 3, R, R), heatmaps (B, J, h, w), joints_in (B, J, 2)


def predict(predictor: HourglassPredictor, loader: DataLoader, count: int, show_progress: bool = True,
            center_px: np.ndarray | None = None) -> Predictions:
    """Run the predictor over a loader of un-augmented samples (dataset order). People whose image is missing get
    `center_px` (their box centre) and score 0."""
    joints = np.zeros((count, NUM_JOINTS, 2)) if center_px is None else np.repeat(center_px[:, None], NUM_JOINTS, 1)
    scores, missing, skipped, example = np.zeros((count, NUM_JOINTS)), np.zeros(count, bool), [], None
    for batch in progress(loader, enabled=show_progress, desc="predicting"):
        for item in batch["skipped"]:
            missing[item.index] = True
            skipped.append(f"{item.path} ({item.reason})")
        if "image" not in batch:
            continue
        index = batch["index"].numpy()
        found = predictor(batch["image"], batch["image_to_input"].numpy())
        joints[index], scores[index] = found.joints_px, found.scores
        if example is None:
            example = {"images": batch["image"][:4], "heatmaps": found.heatmaps[:4], "joints_hm": found.coords_hm[:4]}
    return Predictions(joints, scores, missing, skipped, example)


def plain_loader(records: PersonRecords, image_dir: Path, input_res: int, batch_size: int, workers: int) -> DataLoader:
    dataset = JpegDataset(records, image_dir, SampleSettings(input_res=input_res, stride=STRIDE))
    return DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=workers, collate_fn=collate,
                      worker_init_fn=worker_init)


def write_predictions(output_dir: Path, name: str, records: PersonRecords, predictions: Predictions,
                      extra: dict[str, np.ndarray] | None = None) -> Path:
    """OUTPUT_DIR/preds_<name>.mat (`preds`) and .npz (preds, scores, image_names, center_px, box_px, missing, and
    `extra` arrays such as a video's frame_index)."""
    output_dir.mkdir(parents=True, exist_ok=True)
    mat_path = output_dir / f"preds_{name}.mat"
    save_mat_atomic(mat_path, {"preds": predictions.joints_px})
    save_npz_atomic(output_dir / f"preds_{name}.npz", preds=predictions.joints_px, scores=predictions.scores,
                    image_names=records.image_names, center_px=records.center_px, box_px=records.box_px,
                    missing=predictions.missing, **(extra or {}))
    return mat_path
