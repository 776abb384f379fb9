"""Stitched RGB -> 3D inference throughput: images/s at batch 1 and 16, fp32 and the precision `--amp` picks here.

  python bench/stitched_inference.py [--repeats 5] [--threads N] [--quick]

The network is the published configuration (hourglass stacks=2, features=256, 256x256 input; lifter 1024 x 2
residual blocks), with random weights: speed does not depend on them. One measurement is a forward pass of uint8
crops through input normalisation, the hourglass, soft-argmax, the inverse crop, the joint mapping, the lifter's
normalisation, the lifter and back to mm. Measurements alternate between the settings and medians are reported, with
the same run's 2048 x 2048 fp32 matrix-product rate as the machine's reference. The amp setting follows
utils/precision.py: on a CPU without native bf16 it is fp32 and is not measured twice (its speed-ups are null).
Prints one JSON line.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import asdict
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stacked_hourglass.model import HourglassConfig  # noqa: E402
from stitched.network import StitchedConfig, StitchedNetwork  # noqa: E402
from twod_threed.model import LifterConfig  # noqa: E402
from twod_threed.normalization import Normaliser  # noqa: E402
from utils.machine import machine_info, matmul_gflops  # noqa: E402
from utils.precision import choose_precision  # noqa: E402


def build(hourglass: HourglassConfig) -> StitchedNetwork:
    normaliser = Normaliser("per_instance", torch.zeros(32), torch.ones(32), torch.zeros(48), torch.ones(48))
    config = StitchedConfig(asdict(hourglass), asdict(LifterConfig()))
    network = StitchedNetwork(config, normaliser, torch.full((3,), 0.5), torch.full((3,), 0.25))
    return network.to(memory_format=torch.channels_last).eval()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--quick", action="store_true", help="a small hourglass (checks the script, not a figure)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    hourglass = HourglassConfig(stacks=1, features=32, input_res=64) if args.quick else HourglassConfig()
    network = build(hourglass)
    res = hourglass.input_res
    matrices = torch.tensor([[[4.0, 0.0, 0.0], [0.0, 4.0, 0.0]]])
    inputs = {batch: (torch.randint(0, 256, (batch, 3, res, res), dtype=torch.uint8)
                      .contiguous(memory_format=torch.channels_last), matrices.expand(batch, 2, 3))
              for batch in (1, 16)}

    amp = choose_precision("cpu", True)
    precisions = {False: choose_precision("cpu", False), True: amp}

    @torch.inference_mode()
    def images_per_second(batch: int, with_amp: bool) -> float:
        images, maps = inputs[batch]
        started = time.perf_counter()
        with precisions[with_amp].autocast():
            network(images, maps)
        return batch / (time.perf_counter() - started)

    settings = [(batch, with_amp) for batch in (1, 16) for with_amp in (False, True) if not with_amp or amp.dtype]
    for batch, with_amp in settings:  # warm-up
        images_per_second(batch, with_amp)
    samples: dict[tuple[int, bool], list[float]] = {s: [] for s in settings}
    reference = []
    for _ in range(args.repeats):
        reference.append(matmul_gflops())
        for setting in settings:
            samples[setting].append(images_per_second(*setting))
    median = {s: statistics.median(v) for s, v in samples.items()}
    result = {
        "bench": "stitched_inference",
        "hourglass": {"stacks": hourglass.stacks, "features": hourglass.features, "input_res": res},
        **machine_info(),
        "amp_precision": amp.name,
        "repeats": args.repeats,
        "matmul_fp32_gflops": round(statistics.median(reference), 1),
        **{f"images_per_s_batch{b}_{'amp' if a else 'fp32'}": round(median[(b, a)], 2) for b, a in settings},
        **{f"amp_speedup_batch{b}": round(median[(b, True)] / median[(b, False)], 2) if amp.dtype else None
           for b in (1, 16)},
        "batch16_over_batch1_fp32": round(median[(16, False)] / median[(1, False)], 2),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
