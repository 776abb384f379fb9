"""Stacked hourglass training-step throughput: fp32, the precision `--amp` picks here, and `--compile`.

  python bench/hourglass_step.py [--config paper|demo] [--batch_size N] [--repeats 5] [--threads N] [--compile]
                                 [--amp_dtype auto|bf16|fp16]

paper: stacks=2, blocks=1, features=256, 256x256 input (Newell et al.); demo: the configuration `make demo` trains
(stacks=1, features=64, early_pool, 128x128). One step = forward, the training loss (Gaussian targets,
weighted MSE on every stack), backward, Adam update, on channels-last tensors. FLOPs are counted by torch's FLOP
counter over one forward+backward. The machine's reference rate is a 2048 x 2048 fp32 matrix product measured in
the same run; measurements alternate (matmul, fp32 step, amp step, compiled step) and medians are reported, so a busy
machine slows them alike. The amp step uses utils/precision.py's policy: on a CPU without native bf16 it is fp32,
and is then not measured again (amp_speedup is null). Prints one JSON line.
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
from utils.compiling import compile_model  # noqa: E402
from utils.machine import machine_info, matmul_gflops  # noqa: E402
from utils.precision import AMP_DTYPES, choose_precision  # noqa: E402

CONFIGS = {"paper": HourglassConfig(),
           "demo": HourglassConfig(stacks=1, features=64, early_pool=True, input_res=128)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", choices=CONFIGS, default="paper")
    parser.add_argument("--batch_size", type=int, default=None, help="default: 6 (paper), 16 (demo)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--compile", action="store_true", help="also time the torch.compile'd step")
    parser.add_argument("--amp_dtype", choices=AMP_DTYPES, default="auto", help="as train.py --amp --amp_dtype")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    config = CONFIGS[args.config]
    batch = args.batch_size or (6 if args.config == "paper" else 16)
    model = HourglassNet(config).to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=2.5e-4)
    images = torch.randn(batch, 3, config.input_res, config.input_res).to(memory_format=torch.channels_last)
    joints = torch.rand(batch, 16, 2) * (config.heatmap_res - 1)
    annotated = torch.ones(batch, 16)
    settings = LossSettings(config.heatmap_res)
    amp = choose_precision("cpu", True, args.amp_dtype)
    fp32 = choose_precision("cpu", False)

    def step(network, precision) -> float:
        started = time.perf_counter()
        with precision.autocast():
            loss, _, _ = hourglass_loss(network(images), joints, annotated, annotated, settings)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return time.perf_counter() - started

    with FlopCounterMode(display=False) as counter:
        loss, _, _ = hourglass_loss(model(images), joints, annotated, annotated, settings)
        loss.backward()
    flop_per_sample = counter.get_total_flops() / batch
    settings_to_time = {"fp32": (model, fp32)}
    if amp.name != "fp32":
        settings_to_time["amp"] = (model, amp)
    compile_seconds = None
    if args.compile:
        compiled = compile_model(model, torch.device("cpu"))
        started = time.perf_counter()
        step(compiled, fp32)
        compile_seconds = time.perf_counter() - started
        settings_to_time["compiled_fp32"] = (compiled, fp32)
    for network, precision in settings_to_time.values():  # warm-up: kernel selection, allocations
        step(network, precision)
    times: dict[str, list[float]] = {name: [] for name in settings_to_time}
    matmul = []
    for _ in range(args.repeats):
        matmul.append(matmul_gflops())
        for name, (network, precision) in settings_to_time.items():
            times[name].append(step(network, precision))
    rate = {name: batch / statistics.median(values) for name, values in times.items()}
    matmul_rate = statistics.median(matmul)
    fp32_gflops = rate["fp32"] * flop_per_sample / 1e9
    print(json.dumps({
        "bench": "hourglass_step",
        "config": args.config,
        "model": {"stacks": config.stacks, "features": config.features, "early_pool": config.early_pool,
                  "input_res": config.input_res, "parameters": count_parameters(model)},
        **machine_info(),
        "batch_size": batch,
        "amp_precision": amp.name,
        "amp_reason": amp.reason,
        "gflop_per_sample_fwd_bwd": round(flop_per_sample / 1e9, 3),
        "matmul_fp32_gflops": round(matmul_rate, 1),
        "fp32_samples_per_s": round(rate["fp32"], 2),
        "fp32_gflops": round(fp32_gflops, 1),
        "fp32_fraction_of_matmul": round(fp32_gflops / matmul_rate, 3),
        "amp_samples_per_s": round(rate["amp"], 2) if "amp" in rate else None,
        "amp_speedup": round(rate["amp"] / rate["fp32"], 2) if "amp" in rate else None,
        "compiled_fp32_samples_per_s": round(rate["compiled_fp32"], 2) if args.compile else None,
        "compile_speedup": round(rate["compiled_fp32"] / rate["fp32"], 2) if args.compile else None,
        "compile_seconds": round(compile_seconds, 1) if args.compile else None,
        "step_s": {name: [round(t, 3) for t in values] for name, values in times.items()},
        "matmul_fp32_runs": [round(r, 1) for r in matmul],
    }))


if __name__ == "__main__":
    main()
