"""Bottom-up (associative embedding) inference speed of trained hourglass_coco checkpoints, e.g. a teacher and its
distilled student: whole images through the network (flip test) and the grouping, as `run.py hourglass_coco` does
them, eager and with batch norms folded (`--fuse_bn`), images/s and ratios to the first checkpoint's eager speed.

  python bench/bottom_up.py [--checkpoints TEACHER.pt STUDENT.pt ...] [--images 20] [--repeats 5] [--threads N]

Without --checkpoints: the README's teacher (2 stacks of 64 features) and student (1 stack of 32) shapes at 256 px
with random weights; their maps hold no people, so that times the network and the peak search alone.

Images are the first `--images` of the synthetic COCO val split (or `--data_dir`'s); fp32; the settings alternate
within each repeat and medians are reported, with this machine's fp32 matmul rate measured between them. Prints
one JSON line.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bottom_up.checkpoint import OUTPUTS, load_bottom_up  # noqa: E402
from bottom_up.codec import AssociativeEmbeddingCodec  # noqa: E402
from bottom_up.coco_data import load_coco_split  # noqa: E402
from bottom_up.grouping import GroupingSettings  # noqa: E402
from bottom_up.inference import InferenceSettings, detect_people  # noqa: E402
from stacked_hourglass.images import read_image  # noqa: E402
from stacked_hourglass.model import HourglassConfig, HourglassNet, count_parameters  # noqa: E402
from synthetic import coco_root  # noqa: E402
from utils.fusion import fuse_batch_norms  # noqa: E402
from utils.machine import machine_info, matmul_gflops  # noqa: E402


def load_models(paths: list[str] | None):
    """[(name, (model, config, extras))]: the checkpoints, or the two random-weight shapes."""
    if paths:
        return [(str(path), load_bottom_up(path, "cpu")) for path in paths]
    torch.manual_seed(0)
    extras = {"codec": AssociativeEmbeddingCodec(256, 4, 2.0, 30), "mean_rgb": torch.full((3,), 0.5),
              "std_rgb": torch.full((3,), 0.25)}
    models = []
    for name, stacks, features in (("random teacher shape", 2, 64), ("random student shape", 1, 32)):
        config = HourglassConfig(stacks=stacks, features=features, early_pool=True, num_joints=OUTPUTS, input_res=256)
        models.append((name, (HourglassNet(config).to(memory_format=torch.channels_last).eval(), config, extras)))
    return models


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoints", nargs="+", default=None,
                        help="hourglass_coco checkpoints; the first is the reference of the ratios")
    parser.add_argument("--data_dir", default=None, help="COCO root (default: the synthetic COCO split)")
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    images = [read_image(item.path) for item in load_coco_split(coco_root(args.data_dir), "val", args.images)]
    networks, described = {}, []
    for index, (name, (model, config, extras)) in enumerate(load_models(args.checkpoints)):
        described.append({"checkpoint": name, "stacks": config.stacks, "features": config.features,
                          "input_res": config.input_res, "parameters": count_parameters(model)})
        for name, network in (("eager", model), ("fused", fuse_batch_norms(model))):
            networks[(index, name)] = (network, extras)
    settings = InferenceSettings(flip=True, grouping=GroupingSettings())

    @torch.inference_mode()
    def images_per_second(key) -> float:
        network, extras = networks[key]
        started = time.perf_counter()
        for image in images:
            detect_people(network, image, extras["codec"], extras["mean_rgb"], extras["std_rgb"], settings)
        return len(images) / (time.perf_counter() - started)

    for key in networks:  # warm-up
        images_per_second(key)
    samples = {key: [] for key in networks}
    reference = []
    for _ in range(args.repeats):
        reference.append(matmul_gflops())
        for key in networks:
            samples[key].append(images_per_second(key))
    median = {key: statistics.median(values) for key, values in samples.items()}
    for index, entry in enumerate(described):
        for name in ("eager", "fused"):
            entry[f"images_per_s_{name}"] = round(median[(index, name)], 2)
            entry[f"over_first_eager_{name}"] = round(median[(index, name)] / median[(0, "eager")], 2)
    print(json.dumps({"bench": "bottom_up", **machine_info(), "precision": "fp32", "flip_test": True,
                      "images": len(images), "repeats": args.repeats,
                      "matmul_fp32_gflops": round(statistics.median(reference), 1), "models": described}))


if __name__ == "__main__":
    main()
