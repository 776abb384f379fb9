"""A tiny `train.py`-like script for the loop, resume and distributed tests, and a wrapper of the real scripts.

    python tests/distributed_worker.py --out OUT --checkpoint_dir DIR [training options] [test options]
    python tests/distributed_worker.py --train_script NAME --dump_dir DIR [train.py NAME options]

It goes through exactly what every `train.py` script uses (`start_run`, `build_optimizer`, `EpochSampler`,
`Trainer`), on a small MLP regression held in memory, so it runs alone, under `torchrun` or under `horovodrun`.
At the end each process writes OUT/rank<R>.pt: its final parameters, the sample indices of every step it ran, the
returned metrics and the gradient norms seen after clipping. Test options make it misbehave on purpose:
`--kill_at_step` (SIGKILL itself), `--nan_at_step` (a NaN loss, on `--nan_rank` only), `--stop_at_step`
(`Trainer.request_stop`, on `--stop_rank` only).
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from options import Script, dispatch  # noqa: E402
from utils.sampling import EpochSampler  # noqa: E402
from utils.runs import RunSettings, start_run  # noqa: E402
from utils.training import LoopSettings, Trainer, build_optimizer  # noqa: E402

INPUTS, OUTPUTS = 6, 2


class TinyRegressor(nn.Module):
    def __init__(self, hidden: int, dropout: float):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(INPUTS, hidden), nn.ReLU(), nn.Dropout(dropout),
                                    nn.Linear(hidden, OUTPUTS))

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.layers(inputs)  # (B, 2)


def make_data(samples: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The same (samples, 6) inputs and (samples, 2) targets in every process."""
    generator = torch.Generator().manual_seed(1234)
    inputs = torch.randn(samples, INPUTS, generator=generator)
    weights = torch.randn(INPUTS, OUTPUTS, generator=generator)
    return inputs, inputs @ weights + 0.1 * torch.randn(samples, OUTPUTS, generator=generator)


def add_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("test worker")
    group.add_argument("--out", required=True, help="folder for rank<R>.pt")
    group.add_argument("--samples", type=int, default=64)
    group.add_argument("--hidden", type=int, default=16)
    group.add_argument("--dropout", type=float, default=0.0)
    group.add_argument("--noise", type=float, default=0.0, help="random input noise (a stand-in for augmentation)")
    group.add_argument("--optimizer", default="adam")
    group.add_argument("--kill_at_step", type=int, default=0, help="SIGKILL this process after this global step")
    group.add_argument("--nan_at_step", type=int, default=0, help="make the loss NaN at this global step")
    group.add_argument("--nan_rank", type=int, default=-1, help="... on this rank only (-1: every rank)")
    group.add_argument("--stop_at_step", type=int, default=0, help="request a stop while fetching this global step")
    group.add_argument("--stop_rank", type=int, default=0, help="... on this rank only")


def train(opts: argparse.Namespace) -> int:
    run = start_run(RunSettings.from_options(opts), kind="toy")
    inputs, targets = make_data(opts.samples)
    model = TinyRegressor(opts.hidden, opts.dropout)
    optimizer = build_optimizer(model.parameters(), opts.optimizer, run.learning_rate(1e-2), amsgrad=opts.use_amsprop)
    sampler = EpochSampler(opts.samples, opts.batch_size or 8, seed=opts.seed, rank=run.dist.rank,
                           world_size=run.dist.world_size)
    seen: list[list[int]] = []
    grad_norms: list[float] = []
    output_dtypes: set[str] = set()
    trainer: Trainer | None = None

    def make_batches(epoch_sampler: EpochSampler):
        for indices in epoch_sampler.batches():
            if trainer.global_step + 1 == opts.stop_at_step and run.dist.rank == opts.stop_rank:
                trainer.request_stop()
            batch_inputs = inputs[indices]
            if opts.noise:
                batch_inputs = batch_inputs + opts.noise * torch.randn_like(batch_inputs)
            yield batch_inputs, targets[indices], indices

    def loss_fn(network: nn.Module, batch):
        batch_inputs, batch_targets, indices = batch
        predictions = network(batch_inputs)
        output_dtypes.add(str(predictions.dtype))
        loss = F.mse_loss(predictions.float(), batch_targets)
        seen.append(indices.tolist())
        step = trainer.global_step + 1
        if step == opts.nan_at_step and opts.nan_rank in (-1, run.dist.rank):
            loss = loss * float("nan")
        return loss, {"mae": (predictions.float() - batch_targets).abs().mean().detach()}

    def after_step(network: nn.Module) -> None:
        grads = [p.grad.detach().flatten() for p in network.parameters() if p.grad is not None]
        grad_norms.append(float(torch.cat(grads).norm()))
        if opts.kill_at_step and trainer.global_step + 1 == opts.kill_at_step:
            os.kill(os.getpid(), signal.SIGKILL)

    def validate(network: nn.Module) -> dict[str, float]:
        with torch.no_grad():
            return {"mse": float(F.mse_loss(network(inputs), targets))}

    settings = LoopSettings(epochs=opts.epochs or 2, metric_name="mse", higher_is_better=False,
                            grad_clip=opts.grad_clip, checkpoint_every=opts.checkpoint_every, log_every=1,
                            checkpoint_fields={"kind": "toy", "model_config": {"hidden": opts.hidden}})
    try:
        trainer = Trainer(run, model, optimizer, loss_fn, sampler, make_batches, validate, settings,
                          after_step=after_step)
        metrics = trainer.fit()
    except BaseException:
        run.logger.close()
        raise
    out = Path(opts.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.save({"params": {k: v.detach().clone() for k, v in trainer.model.state_dict().items()},
                "seen": seen, "grad_norms": grad_norms, "metrics": metrics, "lr": optimizer.param_groups[0]["lr"],
                "optimizer": type(optimizer).__name__, "amsgrad": optimizer.param_groups[0].get("amsgrad"),
                "output_dtypes": sorted(output_dtypes), "world_size": run.dist.world_size,
                "engine": run.dist.engine}, out / f"rank{run.dist.rank}.pt")
    run.close()
    return 0


SCRIPT = Script(help="tiny regression for the training-loop tests", run=train, add_options=add_options, training=True)


def run_train_script(name: str, dump_dir: Path, argv: list[str]) -> int:
    """`train.py NAME ARGV...`, and each process writes DUMP_DIR/rank<R>.pt: the model's parameters before and
    after `Trainer.fit` (buffers such as batch-norm statistics left out), its metrics and where it ran."""
    fit = Trainer.fit

    def fit_and_dump(trainer: Trainer) -> dict[str, float]:
        def parameters() -> dict[str, torch.Tensor]:
            return {k: v.detach().float().cpu().clone() for k, v in trainer.model.named_parameters()}

        initial = parameters()
        metrics = fit(trainer)
        dump_dir.mkdir(parents=True, exist_ok=True)
        torch.save({"initial": initial, "params": parameters(), "metrics": metrics, "engine": trainer.run.dist.engine,
                    "world_size": trainer.run.dist.world_size, "global_step": trainer.global_step},
                   dump_dir / f"rank{trainer.run.dist.rank}.pt")
        return metrics

    import train

    Trainer.fit = fit_and_dump
    try:
        return train.main([name, *argv])
    finally:
        Trainer.fit = fit


def main(argv: list[str] | None = None) -> int:
    """`[toy options]`, or `--train_script NAME --dump_dir DIR [train.py NAME options]`."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--train_script"]:
        assert argv[2] == "--dump_dir", "usage: --train_script NAME --dump_dir DIR [options]"
        return run_train_script(argv[1], Path(argv[3]), argv[4:])
    return dispatch("train", {"toy": SCRIPT}, ["toy", *argv])


if __name__ == "__main__":
    sys.exit(main())
