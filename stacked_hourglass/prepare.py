"""Data preparation: the person-crop cache (one HDF5 file per split) and the dataset's RGB mean/std.

The cache holds, per person, a uint8 RGB crop of side `crop_res` around the person box enlarged by `margin` (so
scale and rotation augmentation still find image content), the image -> crop matrix and the person's labels. It is
built once (progress bar; images decoded once each) in the `hourglass/` cache folder (`utils.paths`), named by a fingerprint of the
annotation files and the crop settings, and reused; training then never decodes full-size JPEGs.
"""
from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from stacked_hourglass import transforms
from stacked_hourglass.annotations import PersonRecords, annotation_files, load_split, mpii_folder
from stacked_hourglass.images import jpeg_reduction, read_image, warp_image
from utils.atomic import atomic_path, remove_orphan_temps, write_text_atomic
from utils.errors import InputError
from utils.paths import cache_dir as shared_cache_dir
from utils.processes import exit_with_parent
from utils.run_logging import get_logger, progress

CACHE_NAME = "hourglass"  # crop caches and their statistics: utils.paths.cache_dir(CACHE_NAME) unless --cache_dir


@dataclass(frozen=True)
class CacheSpec:
    crop_res: int = 384  # cached crop side, px
    margin: float = 1.5  # cached crop side / person box side


def warp_crop(image_path: Path, image_to_crop: np.ndarray, box_px: float, crop_res: int) -> np.ndarray | None:
    """Read an image (at a reduced size when the box allows) and warp it once into a crop: image_to_crop (2, 3)
    maps image px to crop px, box_px is the crop's side in image px. RGB uint8 (R, R, 3), or None if unreadable."""
    reduction = jpeg_reduction(box_px, crop_res)
    image = read_image(Path(image_path), reduction)
    if image is None:
        return None
    return warp_image(image, transforms.compose(image_to_crop, transforms.scaling_matrix(1.0 / reduction)), crop_res)


def cache_path(data_dir: str | Path | None, split: str, spec: CacheSpec, cache_dir: str | Path | None = None) -> Path:
    """Where the crop cache of a split lives (in `cache_dir`, default the shared cache's hourglass/); the name
    changes when the annotations or the settings change."""
    folder = mpii_folder(data_dir)
    identity = {"folder": str(folder.resolve()), "split": split, "crop_res": spec.crop_res, "margin": spec.margin,
                "files": [(str(p.resolve()), p.stat().st_size, p.stat().st_mtime_ns) for p in annotation_files(folder)]}
    digest = hashlib.sha1(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:12]
    return Path(cache_dir or shared_cache_dir(CACHE_NAME)) / f"mpii_{split}_{spec.crop_res}px_{digest}.h5"


def _crop_people(job: tuple[Path, np.ndarray, np.ndarray, int]) -> tuple[np.ndarray | None, str]:
    """One image's people: (matrices (P, 2, 3), boxes (P,)) -> crops (P, C, C, 3) or None when unreadable."""
    image_path, matrices, boxes, crop_res = job
    reduction = jpeg_reduction(float(boxes.min()), crop_res)
    image = read_image(image_path, reduction)
    if image is None:
        reason = "missing" if not image_path.is_file() else "corrupt or not an image"
        return None, reason
    to_original = transforms.scaling_matrix(1.0 / reduction)
    crops = np.stack([warp_image(image, transforms.compose(m, to_original), crop_res) for m in matrices])
    return crops, ""


def _write_cache(temp: Path, records: PersonRecords, jobs: list, groups: list[np.ndarray], matrices: np.ndarray,
                 spec: CacheSpec, image_dir: Path, name: str, workers: int) -> list[str]:
    """Fill the cache file; returns the skipped people's image paths (with the reason)."""
    count, kept, skipped, written = len(records), [], [], 0
    with h5py.File(temp, "w") as out:
        crops = out.create_dataset("crops", (count, spec.crop_res, spec.crop_res, 3), dtype=np.uint8,
                                   chunks=(1, spec.crop_res, spec.crop_res, 3),
                                   maxshape=(None, spec.crop_res, spec.crop_res, 3))
        # Workers end with this process even when it is killed (they would wait on their queue forever).
        pool = multiprocessing.get_context("fork").Pool(workers, exit_with_parent, (os.getpid(),)) if workers else None
        try:
            results = pool.imap(_crop_people, jobs, chunksize=4) if pool else map(_crop_people, jobs)
            for group, job, (people, reason) in progress(zip(groups, jobs, results), total=len(jobs),
                                                         desc=f"caching crops -> {name}"):
                if people is None:
                    skipped += [f"{job[0]} ({reason})"] * len(group)
                    continue
                crops[written:written + len(group)] = people
                kept.append(group)
                written += len(group)
        finally:
            if pool:
                pool.terminate()
        if written == 0:
            raise InputError(f"{image_dir}: none of the {count} people's images could be read "
                             f"(first: {skipped[0] if skipped else '-'}); check --data_dir")
        crops.resize(written, axis=0)
        order = np.concatenate(kept)
        out["record_index"] = order
        out["image_to_crop"] = matrices[order]
        for field in ("joints_px", "annotated", "visible", "center_px", "box_px", "head_size_px"):
            out[field] = getattr(records, field)[order]
        out["image_names"] = records.image_names[order].astype("S")
        out.attrs.update(crop_res=spec.crop_res, margin=spec.margin, skipped=len(skipped),
                         skipped_paths=json.dumps(skipped[:100]))
    return skipped


def build_crop_cache(records: PersonRecords, image_dir: Path, path: Path, spec: CacheSpec,
                     workers: int = 0) -> Path:
    """Write the crop cache of `records` to `path` (atomically). People whose image is missing or unreadable are
    skipped and counted; the count and the first paths are logged and stored in the file's attributes."""
    logger = get_logger()
    matrices = transforms.crop_matrix(records.center_px, records.box_px * spec.margin, spec.crop_res)
    names, first, counts = np.unique(records.image_names, return_inverse=True, return_counts=True)
    groups = np.split(np.argsort(first, kind="stable"), np.cumsum(counts)[:-1])
    jobs = [(image_dir / names[i], matrices[g], records.box_px[g] * spec.margin, spec.crop_res)
            for i, g in enumerate(groups)]
    with atomic_path(path) as temp:
        skipped = _write_cache(temp, records, jobs, groups, matrices, spec, image_dir, path.name, workers)
    if skipped:
        logger.warning(f"crop cache: skipped {len(skipped)} of {len(records)} people whose image is missing or unreadable "
                       f"(first: {skipped[0]})")
    return path


def prepare_split(data_dir: str | Path | None, split: str, spec: CacheSpec, cache_dir: str | Path | None = None,
                  workers: int = 0, allow_outside_paths: bool = False) -> Path:
    """The crop cache of a split, built on first use (removing what killed builds left in the cache folder)."""
    path = cache_path(data_dir, split, spec, cache_dir)
    remove_orphan_temps(path.parent)
    if not path.is_file():
        get_logger().info(f"building the {split} crop cache {path} (once)")
        build_crop_cache(load_split(data_dir, split, allow_outside_paths), mpii_folder(data_dir) / "images", path,
                         spec, workers)
    return path


def compute_mean_std(cache_file: Path, max_samples: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel RGB mean and std in [0, 1] over the person boxes of up to `max_samples` cached crops."""
    with h5py.File(cache_file, "r") as data:
        count, res, margin = len(data["crops"]), int(data.attrs["crop_res"]), float(data.attrs["margin"])
        inner = int(round(res / margin))
        low = (res - inner) // 2
        sums, squares, pixels = np.zeros(3), np.zeros(3), 0
        for index in np.linspace(0, count - 1, min(count, max_samples)).round().astype(int):
            crop = data["crops"][index, low:low + inner, low:low + inner].reshape(-1, 3) / 255.0
            sums += crop.sum(0)
            squares += (crop * crop).sum(0)
            pixels += len(crop)
    mean = sums / pixels
    return mean, np.sqrt(np.maximum(squares / pixels - mean * mean, 1e-8))


def dataset_mean_std(cache_file: Path) -> tuple[np.ndarray, np.ndarray]:
    """Mean/std of a cache, computed once and kept next to it (`<cache>.stats.json`)."""
    stats_file = cache_file.with_suffix(".stats.json")
    if stats_file.is_file():
        stats = json.loads(stats_file.read_text())
        return np.asarray(stats["mean"]), np.asarray(stats["std"])
    mean, std = compute_mean_std(cache_file)
    write_text_atomic(json.dumps({"mean": mean.tolist(), "std": std.tolist()}), stats_file)
    return mean, std
