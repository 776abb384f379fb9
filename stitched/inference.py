"""Poses from the user's own pictures in a few lines: an `Estimator` built from a checkpoint file alone.

    from stitched.inference import Estimator
    estimator = Estimator.from_checkpoint("model_checkpoints/stitched_h36m_a/best.pt")
    people = estimator(image)                     # RGB uint8 (H, W, 3), or a batch / list of them
    people.joints_2d_px, people.scores            # (N, 16, 2) MPII order, image px; (N, 16) heatmap peaks
    people.poses_3d_mm                            # (N, 17, 3) H36M-17, root-relative camera-frame mm (root = 0)

The checkpoint is a stitched network (2D and 3D), a hourglass (2D only: `poses_3d_mm` is None), or a hourglass with
a lifter checkpoint beside it (`lifter=`, stitched on the fly). Without boxes each image is one person, the whole
image; with boxes ((K, 4) x1, y1, x2, y2 px per image) one person per box, cropped as the MPII person boxes.
Device and precision follow the project's policy (`utils.precision.choose_precision`). Every command that runs a
network over images (`run.py stitched_mpii`, `run.py hourglass_mpii`, video) goes through `predict_crops`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from stacked_hourglass import transforms
from stacked_hourglass.boxes import square_crops, whole_image_crops
from stacked_hourglass.checkpoint import KIND as HOURGLASS_KIND
from stacked_hourglass.images import warp_image
from stacked_hourglass.inference import HourglassPredictor
from stitched.checkpoint import KIND as STITCHED_KIND
from stitched.checkpoint import build_network, load_stitched, stitch
from stitched.network import StitchedNetwork, heatmap_to_image_matrices
from utils.checkpoints import load_checkpoint
from utils.compiling import compile_model
from utils.errors import InputError
from utils.fusion import fuse_batch_norms
from utils.precision import Precision, choose_precision
from utils.skeletons import with_root


@dataclass
class People:
    """N people found in a batch of images."""

    joints_2d_px: np.ndarray  # (N, 16, 2) MPII order, image px
    scores: np.ndarray  # (N, 16) per-joint confidence: the heatmap peak
    poses_3d_mm: np.ndarray | None  # (N, 17, 3) H36M-17, camera frame, root-relative mm, root (hip) = 0; None: 2D only
    image_index: np.ndarray  # (N,) which image of the batch
    boxes_px: np.ndarray  # (N, 4) the person box x1, y1, x2, y2 (the whole image when none was given)
    center_px: np.ndarray  # (N, 2) the square crop's centre
    crop_side_px: np.ndarray  # (N,) and side (1.25 x the box's longer side; the longer image side when whole)

    def __len__(self) -> int:
        return len(self.image_index)


def checkpoint_kind(path: str | Path) -> str:
    return str(load_checkpoint(path).get("kind"))


class Estimator:
    """2D (and 3D) poses of people in RGB images, from one network: a `StitchedNetwork`, or a hourglass alone."""

    def __init__(self, precision: Precision, network: StitchedNetwork | None = None,
                 hourglass: HourglassPredictor | None = None, batch_size: int = 16):
        assert (network is None) != (hourglass is None), "give a stitched network or a hourglass"
        self.network, self.hourglass, self.precision, self.batch_size = network, hourglass, precision, batch_size

    @classmethod
    def from_checkpoint(cls, path: str | Path, lifter: str | Path | None = None, device: str | torch.device = "cpu",
                        amp: bool = False, amp_dtype: str = "auto", fuse_bn: bool = False, compile: bool = False,
                        batch_size: int = 16, **hourglass_settings) -> "Estimator":
        """From a stitched or a hourglass checkpoint (with `lifter`: a lifter checkpoint, stitched to it).
        hourglass_settings (hourglass alone): use_flip_test, decoder (see HourglassPredictor)."""
        device = torch.device(device)
        precision = choose_precision(device, amp, amp_dtype)
        kind = checkpoint_kind(path)
        if kind == STITCHED_KIND and lifter is None:
            return cls.from_network(load_stitched(path).model, precision, device, fuse_bn, compile, batch_size)
        if kind == HOURGLASS_KIND and lifter is not None:
            return cls.from_network(stitch(path, lifter), precision, device, fuse_bn, compile, batch_size)
        if kind == HOURGLASS_KIND:
            predictor = HourglassPredictor.from_checkpoint(path, device, precision, **hourglass_settings)
            predictor.model = _prepared(predictor.model, device, fuse_bn, compile)
            return cls(precision, hourglass=predictor, batch_size=batch_size)
        raise InputError(f"{path}: a '{kind}' checkpoint; the estimator needs a stitched or a hourglass checkpoint "
                         f"(a lifter goes with a hourglass: lifter=..., --load_2d3d)")

    @classmethod
    def from_network(cls, network: StitchedNetwork, precision: Precision, device: torch.device, fuse_bn: bool = False,
                     compile: bool = False, batch_size: int = 16) -> "Estimator":
        network = _prepared(network.to(device=device, memory_format=torch.channels_last).eval(), device, fuse_bn,
                            compile)
        return cls(precision, network=network, batch_size=batch_size)

    @property
    def input_res(self) -> int:
        return self.hourglass.input_res if self.hourglass else self.network.input_res

    @property
    def lifts(self) -> bool:
        return self.network is not None

    @property
    def device(self) -> torch.device:
        return self.hourglass.device if self.hourglass else self.network.mean_rgb.device

    @torch.no_grad()
    def predict_crops(self, crops: torch.Tensor, image_to_input: np.ndarray) -> dict[str, np.ndarray]:
        """crops (B, 3, R, R) uint8 RGB with their image px -> input px matrices (B, 2, 3).
        Returns joints_2d_px (B, 16, 2), scores (B, 16) and, when it lifts, poses_3d_mm (B, 17, 3)."""
        if self.hourglass is not None:
            found = self.hourglass(crops, image_to_input)
            return {"joints_2d_px": found.joints_px, "scores": found.scores}
        self.network.eval()
        matrices = heatmap_to_image_matrices(np.asarray(image_to_input)).to(self.device)
        with self.precision.autocast():
            output = self.network(crops.to(self.device), matrices)
        return {"joints_2d_px": output["joints_2d_px"].float().cpu().numpy().astype(np.float64),
                "scores": output["heatmaps"][-1].float().amax((2, 3)).cpu().numpy(),
                "poses_3d_mm": with_root(output["root_relative_mm"].float()).cpu().numpy()}

    def __call__(self, images: np.ndarray | Sequence[np.ndarray],
                 boxes: np.ndarray | Sequence[np.ndarray | None] | None = None) -> People:
        """images: one RGB uint8 (H, W, 3), a batch (B, H, W, 3) or a list of them (sizes may differ).
        boxes: for one image (K, 4) x1, y1, x2, y2 px; for a batch a list of those (None: the whole image)."""
        if not isinstance(images, (list, tuple)):
            images = np.asarray(images)  # an array, or one PIL image
        single = isinstance(images, np.ndarray) and images.ndim == 3
        images = [images] if single else list(images)
        if boxes is None:
            boxes = [None] * len(images)
        elif single:
            boxes = [boxes]
        if len(boxes) != len(images):
            raise InputError(f"boxes: {len(boxes)} entries for {len(images)} images")
        corners, image_index = [], []
        for position, (image, image_boxes) in enumerate(zip(images, boxes)):
            image = np.asarray(image)
            if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
                raise InputError(f"image {position}: expected RGB uint8 (H, W, 3), got {image.dtype} {image.shape}")
            if image_boxes is None:
                height, width = image.shape[:2]
                image_boxes = [[0, 0, width - 1, height - 1]]
            image_boxes = np.asarray(image_boxes, dtype=np.float64).reshape(-1, 4)
            corners.append(image_boxes)
            image_index += [position] * len(image_boxes)
        corners = np.concatenate(corners) if corners else np.zeros((0, 4))
        image_index = np.asarray(image_index, dtype=np.int64)
        given = np.asarray([boxes[i] is not None for i in image_index], dtype=bool)
        center, side = square_crops(corners)
        whole_center, whole_side = whole_image_crops(corners[:, 2:] + 1)
        center, side = np.where(given[:, None], center, whole_center), np.where(given, side, whole_side)
        return self._run_people([images[i] for i in image_index], center, side, corners, image_index)

    def _run_people(self, sources: list[np.ndarray], center: np.ndarray, side: np.ndarray, corners: np.ndarray,
                    image_index: np.ndarray) -> People:
        res = self.input_res
        image_to_input = transforms.crop_matrix(center, side, res)  # (N, 2, 3)
        found: dict[str, list[np.ndarray]] = {}
        for start in range(0, len(sources), self.batch_size):
            chunk = slice(start, start + self.batch_size)
            crops = np.stack([warp_image(source, matrix, res) for source, matrix in
                              zip(sources[chunk], image_to_input[chunk])])
            crops = torch.from_numpy(crops).permute(0, 3, 1, 2)  # (B, 3, R, R) channels-last memory
            for key, value in self.predict_crops(crops, image_to_input[chunk]).items():
                found.setdefault(key, []).append(value)
        joined = {"joints_2d_px": np.zeros((0, 16, 2)), "scores": np.zeros((0, 16)), "poses_3d_mm": np.zeros((0, 17, 3)),
                  **{key: np.concatenate(values) for key, values in found.items()}}
        return People(joined["joints_2d_px"], joined["scores"], joined["poses_3d_mm"] if self.lifts else None,
                      image_index, corners, center, side)


def stitched_estimator(load: str | None, load_hourglass: str | None, load_2d3d: str | None, softargmax_beta: float,
                       device: torch.device, precision: Precision, fuse_bn: bool = False, compile: bool = False,
                       batch_size: int = 16) -> Estimator:
    """The stitched network of a stitched checkpoint (`load`), else of a hourglass and a lifter checkpoint stitched
    with this soft-argmax temperature, as an Estimator (the options of `stitched.network_options`)."""
    network = build_network(load, load_hourglass, load_2d3d, softargmax_beta)
    return Estimator.from_network(network, precision, device, fuse_bn, compile, batch_size)


def _prepared(model: torch.nn.Module, device: torch.device, fuse_bn: bool, compile: bool) -> torch.nn.Module:
    if fuse_bn:
        model = fuse_batch_norms(model)
    return compile_model(model, device) if compile else model
