"""Hourglass training-data throughput in one process: samples/s from full-size JPEGs and from the crop cache.

  python bench/data_pipeline.py [--data_dir D] [--input_res 256] [--samples 600] [--repeats 3]

Training mode: scale/rotation/flip/colour augmentation, one affine warp per sample, DataLoader with
num_workers=0 and batch 6 (collation included), then what the training step does with a batch before the network:
Gaussian targets and input normalisation (here on the CPU). One thread for OpenCV and torch: the figure is what
one data-loading worker delivers. Without --data_dir, a set of 1280x720 JPEG images (stick figures on textured
backgrounds, ~145 KB each like the synthetic dataset's renders, 2 people each, person heights 40-90% of the
image) is generated in a temporary folder. The JPEG and
cache runs alternate and medians are reported. Prints one JSON line.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import DataLoader

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stacked_hourglass import transforms  # noqa: E402
from stacked_hourglass.annotations import load_split, mpii_folder  # noqa: E402
from stacked_hourglass.dataset import CropCacheDataset, JpegDataset, SampleSettings, collate  # noqa: E402
from stacked_hourglass.heatmaps import gaussian_targets  # noqa: E402
from stacked_hourglass.model import normalise_input  # noqa: E402
from stacked_hourglass.prepare import CacheSpec, dataset_mean_std, prepare_split  # noqa: E402
from stacked_hourglass.toy_data import write_toy_mpii  # noqa: E402
from utils.machine import machine_info  # noqa: E402
from utils.sampling import EpochSampler  # noqa: E402


def samples_per_second(dataset, samples: int, batch_size: int, mean: torch.Tensor, std: torch.Tensor,
                       epoch: int) -> float:
    """Time `samples` training samples (after one warm-up batch) through loader + targets + normalisation."""
    sampler = EpochSampler(len(dataset), batch_size, seed=epoch)
    sampler.set_epoch(epoch)
    dataset.set_epoch(epoch)
    loader = DataLoader(dataset, batch_size=batch_size, sampler=sampler, collate_fn=collate)
    heatmap_res = dataset.settings.input_res // dataset.settings.stride
    done, started = 0, None
    while done < samples:
        for batch in loader:
            gaussian_targets(batch["joints_hm"], batch["annotated"], heatmap_res)
            normalise_input(batch["image"], mean, std, batch["colour_gain"])
            if started is None:
                started = time.perf_counter()
                continue
            done += len(batch["index"])
            if done >= samples:
                break
    return done / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data_dir", default=None, help="an MPII-format folder (default: generated 1280x720 images)")
    parser.add_argument("--input_res", type=int, default=256)
    parser.add_argument("--batch_size", type=int, default=6)
    parser.add_argument("--samples", type=int, default=600, help="timed samples per run")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory(prefix="bench_data_") as scratch:
        if args.data_dir:
            data_dir = Path(args.data_dir)
        else:
            data_dir = write_toy_mpii(Path(scratch) / "mpii", images=120, people_per_image=2, validation_images=0,
                                      size=(1280, 720), height_range=(0.4, 0.9), seed=0)
        records = load_split(data_dir, "train")
        started = time.perf_counter()
        cache = prepare_split(data_dir, "train", CacheSpec(int(1.5 * args.input_res), 1.5), Path(scratch) / "cache")
        build_seconds = time.perf_counter() - started
        mean_rgb, std_rgb = dataset_mean_std(cache)
        settings = SampleSettings(args.input_res, 4, transforms.AugmentSettings(), None, tuple(mean_rgb))
        from_jpeg = JpegDataset(records, mpii_folder(data_dir) / "images", settings)
        from_cache = CropCacheDataset(cache, settings)
        mean, std = torch.tensor(mean_rgb, dtype=torch.float32), torch.tensor(std_rgb, dtype=torch.float32)
        jpeg_rates, cache_rates = [], []
        for repeat in range(args.repeats):
            jpeg_rates.append(samples_per_second(from_jpeg, args.samples, args.batch_size, mean, std, repeat))
            cache_rates.append(samples_per_second(from_cache, args.samples, args.batch_size, mean, std, repeat))
        sizes = {}
        for name in np.unique(records.image_names)[:50]:
            height, width = cv2.imread(str(mpii_folder(data_dir) / "images" / name), cv2.IMREAD_REDUCED_GRAYSCALE_8).shape
            sizes[f"~{width * 8}x{height * 8}"] = sizes.get(f"~{width * 8}x{height * 8}", 0) + 1
        print(json.dumps({
            "bench": "data_pipeline",
            "input_res": args.input_res,
            "batch_size": args.batch_size,
            "people": len(records),
            "image_sizes_sampled": sizes,
            "median_person_box_px": round(float(np.median(records.box_px)), 1),
            **machine_info(),
            "precision": "uint8 images, fp32 targets",
            "jpeg_samples_per_s": round(statistics.median(jpeg_rates), 1),
            "cache_samples_per_s": round(statistics.median(cache_rates), 1),
            "jpeg_runs": [round(r, 1) for r in jpeg_rates],
            "cache_runs": [round(r, 1) for r in cache_rates],
            "cache_build_s": round(build_seconds, 1),
            "cache_crop_px": int(1.5 * args.input_res),
        }))


if __name__ == "__main__":
    main()
