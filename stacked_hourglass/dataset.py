"""Training and inference samples from prepared data: the crop cache (fast) or the original JPEGs.

A sample is one warp of a source image into the network input (crop, scale, rotation and flip composed into one
matrix, applied once with cv2.warpAffine) and the joints through the same matrix, in heatmap px. Images stay uint8
(H, W, 3); colour gain and normalisation happen on the training device (`model.normalise_input`), and Gaussian
targets are drawn there too (`heatmaps.gaussian_targets`), so workers move 4x less data.

Augmentation is a function of (seed, epoch, sample index) only, so a resumed run sees the same samples.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import torch
from torch.utils.data import Dataset

from stacked_hourglass import transforms
from stacked_hourglass.annotations import PersonRecords
from stacked_hourglass.images import jpeg_reduction, read_image, warp_image
from utils.skeletons import MPII

FLIP_PERMUTATION = MPII.flip_permutation()


@dataclass(frozen=True)
class SampleSettings:
    input_res: int = 256
    stride: int = 4  # input px per heatmap px
    augment: transforms.AugmentSettings | None = None  # None: the plain person box
    mask: transforms.MaskSettings | None = None  # None: no random occlusion
    mean_rgb: tuple[float, float, float] = (0.5, 0.5, 0.5)  # [0, 1], the fill colour of mean-valued masks


@dataclass(frozen=True)
class Skipped:
    """A sample whose image is missing or unreadable; collated into batch['skipped']."""

    index: int
    path: str
    reason: str


def sample_rng(seed: int, epoch: int, index: int) -> np.random.Generator:
    """The random stream of one sample in one epoch."""
    return np.random.default_rng([seed, epoch, index])


def draw_augmentation(settings: SampleSettings, rng: np.random.Generator) -> transforms.Augmentation:
    return transforms.sample_augmentation(rng, settings.augment) if settings.augment else transforms.Augmentation()


def make_sample(source: np.ndarray, source_to_image: np.ndarray, index: int, center_px: np.ndarray, box_px: float,
                joints_px: np.ndarray, annotated: np.ndarray, visible: np.ndarray, augmentation: transforms.Augmentation,
                settings: SampleSettings, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """One network input: source (H, W, 3) uint8 with its source px -> image px matrix (2, 3); joints (J, 2) image px.

    Returns image (R, R, 3) uint8, joints_hm (J, 2), annotated/visible (J,) (left/right swapped when flipped),
    colour_gain (3,), image_to_input (2, 3) (the crop, for mapping predictions back) and index.
    """
    res = settings.input_res
    image_to_input = transforms.crop_matrix(center_px, box_px * augmentation.box_scale, res,
                                            augmentation.rotation_deg, augmentation.flip)
    image = warp_image(source, transforms.compose(image_to_input, source_to_image), res)
    joints_in = transforms.apply(image_to_input, joints_px)
    if augmentation.flip:
        joints_in, annotated, visible = (a[FLIP_PERMUTATION] for a in (joints_in, annotated, visible))
    if settings.mask is not None:
        bar = transforms.sample_mask(rng, settings.mask, joints_in, annotated, res)
        if bar is not None:
            rows, columns, mean_valued = bar
            mean = np.asarray(settings.mean_rgb) * 255.0
            shape = image[rows, columns].shape
            fill = mean if mean_valued else mean + rng.normal(0.0, settings.mask.noise_std * 255.0, shape)
            image[rows, columns] = np.clip(np.broadcast_to(fill, shape), 0, 255).astype(np.uint8)
    return {
        "image": image,
        "joints_hm": transforms.apply(transforms.heatmap_matrix(settings.stride), joints_in).astype(np.float32),
        "annotated": annotated.astype(np.float32),
        "visible": visible.astype(np.float32),
        "colour_gain": np.asarray(augmentation.colour_gain, dtype=np.float32),
        "image_to_input": image_to_input,
        "index": np.int64(index),
    }


class PoseDataset(Dataset):
    """Shared epoch/seed handling; subclasses read the source pixels of one person."""

    def __init__(self, settings: SampleSettings, seed: int = 0):
        self.settings, self.seed, self.epoch = settings, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch


class CropCacheDataset(PoseDataset):
    """People of a crop cache (prepare.build_crop_cache): one small uint8 crop read and one warp per sample."""

    def __init__(self, cache_file: str | Path, settings: SampleSettings, seed: int = 0):
        super().__init__(settings, seed)
        self.cache_file = Path(cache_file)
        with h5py.File(self.cache_file, "r") as data:
            self.labels = {name: data[name][()] for name in ("image_to_crop", "joints_px", "annotated", "visible",
                                                             "center_px", "box_px", "head_size_px", "record_index")}
            self.image_names = np.asarray([n.decode() for n in data["image_names"][()]])
            self.crop_res = int(data.attrs["crop_res"])
            self.skipped = int(data.attrs["skipped"])
        self.crop_to_image = transforms.invert(self.labels["image_to_crop"])
        self.records = PersonRecords(self.image_names, *(self.labels[name] for name in (
            "joints_px", "annotated", "visible", "center_px", "box_px", "head_size_px")))
        self._file, self._pid = None, None

    def __len__(self) -> int:
        return len(self.image_names)

    def _crops(self) -> h5py.Dataset:
        if self._file is None or self._pid != os.getpid():  # one handle per worker process
            self._file, self._pid = h5py.File(self.cache_file, "r"), os.getpid()
            self._crops_dataset = self._file["crops"]
        return self._crops_dataset

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        labels = self.labels
        rng = sample_rng(self.seed, self.epoch, index)
        crop = np.empty((self.crop_res, self.crop_res, 3), dtype=np.uint8)
        self._crops().read_direct(crop, np.s_[index])
        return make_sample(crop, self.crop_to_image[index], index, labels["center_px"][index], labels["box_px"][index],
                           labels["joints_px"][index], labels["annotated"][index], labels["visible"][index],
                           draw_augmentation(self.settings, rng), self.settings, rng)


class JpegDataset(PoseDataset):
    """People read from their original images (decoded at a reduced size when the crop allows it)."""

    def __init__(self, records: PersonRecords, image_dir: str | Path, settings: SampleSettings, seed: int = 0):
        super().__init__(settings, seed)
        self.records, self.image_dir = records, Path(image_dir)

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> dict[str, np.ndarray] | Skipped:
        records = self.records
        rng = sample_rng(self.seed, self.epoch, index)
        augmentation = draw_augmentation(self.settings, rng)
        box_px = float(records.box_px[index])
        reduction = jpeg_reduction(box_px * augmentation.box_scale, self.settings.input_res)
        path = self.image_dir / records.image_names[index]
        source = read_image(path, reduction)
        if source is None:
            return Skipped(index, str(path), "missing" if not path.is_file() else "corrupt or not an image")
        return make_sample(source, transforms.scaling_matrix(1.0 / reduction), index, records.center_px[index],
                           box_px, records.joints_px[index], records.annotated[index], records.visible[index],
                           augmentation, self.settings, rng)


def worker_init(_worker_id: int) -> None:
    """DataLoader workers: one OpenCV thread each (the workers are the parallelism)."""
    import cv2

    cv2.setNumThreads(1)


def collate(items: list) -> dict:
    """Stack samples into tensors; images become (B, 3, R, R) uint8 in channels-last memory (no copy).
    Skipped samples are left out and listed under 'skipped'."""
    kept = [item for item in items if not isinstance(item, Skipped)]
    batch: dict = {"skipped": [item for item in items if isinstance(item, Skipped)]}
    if kept:
        for key in kept[0]:
            batch[key] = torch.from_numpy(np.stack([item[key] for item in kept]))
        batch["image"] = batch["image"].permute(0, 3, 1, 2)
    return batch
