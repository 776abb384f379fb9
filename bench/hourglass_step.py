"""Stacked hourglass training-step throughput (stacks=2, blocks=1, features=256, 256x256 input), fp32 and bf16.

  python bench/hourglass_step.py [--batch_size 6] [--repeats 5] [--threads N]

One step = forward, the training loss (Gaussian targets, weighted MSE on both stacks), backward, RMSprop update, on
channels-last tensors; `--amp` is bf16 autocast as in `train.py --amp`. FLOPs are counted by torch's FLOP counter
over one forward+backward (convolutions and matrix products). The machine's reference rate is a large fp32 matrix
product (4096 x 4096) in the same run. Measurements alternate (matmul, fp32 step, bf16 step) and medians are
reported, so a busy machine slows all three alike. Prints one JSON line.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stacked_hourglass.loss import LossSettings, hourglass_loss  # noqa: E402
from stacked_hourglass.model import HourglassConfig, HourglassNet, count_parameters  # noqa: E402


def matmul_gflops(size: int, dtype: torch.dtype) -> float:
    a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
    a @ b
    started = time.perf_counter()
    a @ b
    return 2 * size**3 / (time.perf_counter() - started) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch_size", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    config = HourglassConfig()
    model = HourglassNet(config).to(memory_format=torch.channels_last)
    optimizer = torch.optim.RMSprop(model.parameters(), lr=2.5e-4)
    batch = args.batch_size
    images = torch.randn(batch, 3, config.input_res, config.input_res).to(memory_format=torch.channels_last)
    joints = torch.rand(batch, 16, 2) * (config.heatmap_res - 1)
    annotated = torch.ones(batch, 16)
    settings = LossSettings(config.heatmap_res)

    def step(amp: bool) -> float:
        started = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=amp):
            loss, _, _ = hourglass_loss(model(images), joints, annotated, annotated, settings)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return time.perf_counter() - started

    with FlopCounterMode(display=False) as counter:
        loss, _, _ = hourglass_loss(model(images), joints, annotated, annotated, settings)
        loss.backward()
    flop_per_sample = counter.get_total_flops() / batch
    step(False), step(True)  # warm-up: kernel selection, allocations
    matmul, fp32, bf16, matmul_bf16 = [], [], [], []
    for _ in range(args.repeats):
        matmul.append(matmul_gflops(4096, torch.float32))
        fp32.append(step(False))
        bf16.append(step(True))
        matmul_bf16.append(matmul_gflops(4096, torch.bfloat16))
    fp32_rate, bf16_rate = batch / statistics.median(fp32), batch / statistics.median(bf16)
    matmul_rate = statistics.median(matmul)
    fp32_gflops, bf16_gflops = fp32_rate * flop_per_sample / 1e9, bf16_rate * flop_per_sample / 1e9
    print(json.dumps({
        "bench": "hourglass_step",
        "config": "stacks=2 blocks=1 features=256 input 256x256, channels-last, RMSprop",
        "parameters": count_parameters(model),
        "batch_size": batch,
        "threads": torch.get_num_threads(),
        "gflop_per_sample_fwd_bwd": round(flop_per_sample / 1e9, 2),
        "fp32_samples_per_s": round(fp32_rate, 3),
        "bf16_samples_per_s": round(bf16_rate, 3),
        "bf16_speedup": round(bf16_rate / fp32_rate, 2),
        "fp32_gflops": round(fp32_gflops, 1),
        "bf16_gflops": round(bf16_gflops, 1),
        "matmul_fp32_gflops": round(matmul_rate, 1),
        "matmul_bf16_gflops": round(statistics.median(matmul_bf16), 1),
        "fp32_fraction_of_matmul": round(fp32_gflops / matmul_rate, 3),
        "fp32_step_s": [round(t, 3) for t in fp32],
        "bf16_step_s": [round(t, 3) for t in bf16],
        "matmul_fp32_runs": [round(r, 1) for r in matmul],
    }))


if __name__ == "__main__":
    main()
