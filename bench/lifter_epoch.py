"""Lifter training throughput: the Trainer's epoch loop against the raw model step, and inference at batch 1024.

  python bench/lifter_epoch.py [--steps 100] [--repeats 5] [--threads 1]

`loop`: `Trainer._train_epoch` over in-memory tensors (sampler, index slicing, per-step reseeding, loss, NaN check,
Adam, max-norm, per-step lr decay, logging, progress bar). `raw`: forward, MSE, backward, Adam, max-norm and lr
decay on one fixed, pre-sliced batch. Both use the published model (4.29 M parameters) at batch 64 on data of the
real tensor shapes (random values: speed does not depend on them); runs alternate and the medians are compared.
`augmented_loop` adds orthogonal augmentation (rotation, flip, re-projection) to the loop. `inference`: 2D px ->
3D mm (normalisation included) in eval mode at batch 1024. Prints one JSON line.
"""
from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import train as train_entry  # noqa: E402
from options import parse_script_options  # noqa: E402
from twod_threed.checkpoint import KIND, lift  # noqa: E402
from twod_threed.data import PosePairs  # noqa: E402
from twod_threed.model import Lifter, LifterConfig, count_parameters  # noqa: E402
from twod_threed.normalization import Normaliser  # noqa: E402
from twod_threed.batches import Augmentation, LifterBatches, mse_loss  # noqa: E402
from utils.machine import machine_info  # noqa: E402
from utils.run_logging import get_logger  # noqa: E402
from utils.sampling import EpochSampler  # noqa: E402
from utils.runs import RunSettings, start_run  # noqa: E402
from utils.training import LoopSettings, Trainer, build_optimizer  # noqa: E402


def random_pairs(count: int, generator: torch.Generator) -> PosePairs:
    """Camera-frame pairs with the real shapes: poses ~ 4.5 m in front of 4 cameras, 2D around the image centre."""
    relative = 300.0 * torch.randn(count, 16, 3, generator=generator)
    root = torch.tensor([0.0, 0.0, 4500.0]) + 200.0 * torch.randn(count, 3, generator=generator)
    intrinsics = torch.tensor([[1145.0, 1144.0, 512.0, 515.0, -0.2, 0.2, -0.002, -0.0009, -0.0015]]).repeat(4, 1)
    up = torch.tensor([[0.0, -1.0, 0.0]]).repeat(4, 1)
    return PosePairs(relative, 500.0 + 100.0 * torch.randn(count, 16, 2, generator=generator), root,
                     torch.arange(count) % 4, torch.arange(count), [(1, "Bench", str(c)) for c in range(4)],
                     intrinsics, up)


def make_trainer(folder: Path, pairs: PosePairs, normaliser: Normaliser, augmentation: Augmentation | None,
                 batch_size: int) -> Trainer:
    script = train_entry.SCRIPTS["2d3d_h36m"]
    opts = parse_script_options("train", "2d3d_h36m", script, ["--checkpoint_dir", str(folder), "--exp", "bench"])
    run = start_run(RunSettings.from_options(opts), KIND)
    model = Lifter(LifterConfig())
    optimizer = build_optimizer(model.parameters(), "adam", 1e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=100_000, gamma=0.96)
    sampler = EpochSampler(len(pairs), batch_size, seed=0)
    settings = LoopSettings(epochs=1, metric_name="mpjpe_mm", higher_is_better=False, scheduler_per_step=True)
    return Trainer(run, model, optimizer, mse_loss, sampler, LifterBatches(pairs, normaliser, run.device, augmentation),
                   lambda m: {}, settings, scheduler=scheduler, after_step=Lifter.apply_max_norm)


def time_loop(trainer: Trainer) -> float:
    trainer.epoch, trainer.step_in_epoch = 0, 0
    start = time.perf_counter()
    trainer._train_epoch()
    return time.perf_counter() - start


def time_raw(model: Lifter, batch: tuple[torch.Tensor, torch.Tensor], steps: int) -> float:
    optimizer = build_optimizer(model.parameters(), "adam", 1e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=100_000, gamma=0.96)
    model.train()
    start = time.perf_counter()
    for _ in range(steps):
        loss, _ = mse_loss(model, batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        model.apply_max_norm()
        scheduler.step()
    return time.perf_counter() - start


def time_inference(model: Lifter, normaliser: Normaliser, joints_2d_px: torch.Tensor) -> float:
    start = time.perf_counter()
    lift(model, normaliser, joints_2d_px, batch_size=1024)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100, help="steps per timed epoch")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--batch_size", type=int, default=64)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    get_logger().setLevel(logging.WARNING)  # stdout carries the JSON line only
    generator = torch.Generator().manual_seed(0)
    pairs = random_pairs(args.steps * args.batch_size, generator)
    normaliser = Normaliser.from_training_data(pairs.joints_2d_px, pairs.root_relative_mm, "per_instance")
    with tempfile.TemporaryDirectory() as folder:
        plain = make_trainer(Path(folder) / "plain", pairs, normaliser, None, args.batch_size)
        augmented = make_trainer(Path(folder) / "augmented", pairs, normaliser, Augmentation(0.5, False),
                                 args.batch_size)
        raw_model = Lifter(LifterConfig())
        batches = LifterBatches(pairs, normaliser, torch.device("cpu"))
        raw_batch = (batches.inputs[: args.batch_size].clone(), batches.targets[: args.batch_size].clone())
        inference_inputs = pairs.joints_2d_px.repeat(-(-32 * 1024 // len(pairs)), 1, 1)[: 32 * 1024]
        time_raw(raw_model, raw_batch, 5)  # warm-up
        times: dict[str, list[float]] = {"raw": [], "loop": [], "augmented_loop": [], "inference": []}
        for _ in range(args.repeats):
            times["raw"].append(time_raw(raw_model, raw_batch, args.steps))
            times["loop"].append(time_loop(plain))
            times["augmented_loop"].append(time_loop(augmented))
            times["inference"].append(time_inference(raw_model, normaliser, inference_inputs))
        for trainer in (plain, augmented):
            trainer.run.logger.close()
    median = {name: statistics.median(values) for name, values in times.items()}
    samples = args.steps * args.batch_size
    print(json.dumps({
        "bench": "lifter_epoch", "parameters": count_parameters(raw_model), "batch_size": args.batch_size,
        "steps": args.steps, "repeats": args.repeats, **machine_info(), "precision": "fp32",
        "raw_step_ms": round(1000 * median["raw"] / args.steps, 2),
        "raw_step_samples_per_s": round(samples / median["raw"], 1),
        "loop_samples_per_s": round(samples / median["loop"], 1),
        "loop_overhead": round(median["loop"] / median["raw"] - 1, 4),
        "loop_overhead_per_repeat": [round(loop / raw - 1, 3) for loop, raw in zip(times["loop"], times["raw"])],
        "augmented_loop_samples_per_s": round(samples / median["augmented_loop"], 1),
        "augmented_loop_overhead": round(median["augmented_loop"] / median["raw"] - 1, 4),
        "inference_samples_per_s_batch_1024": round(len(inference_inputs) / median["inference"], 1),
    }))


if __name__ == "__main__":
    main()
