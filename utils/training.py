"""The training loop every `train.py` script shares.

A script builds its model, optimizer, data and a `loss_fn(model, batch) -> (loss, logs)`, then calls `Trainer.fit`.
The loop owns what must behave the same everywhere: mixed precision, gradient clipping, distributed wrapping,
NaN/inf stops, TensorBoard, progress bars, `last`/`best` checkpoints and exact resume.
"""
from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import torch
from torch import nn

from utils.checkpoints import CheckpointKeeper, load_checkpoint, plain_options, rng_state, set_rng_state
from utils.compiling import compile_model
from utils.distributed import DistContext, init_distributed
from utils.errors import InputError
from utils.precision import Precision, choose_precision
from utils.run_logging import RunLogger, progress
from utils.sampling import EpochSampler
from utils.seeding import seed_everything, seed_step

LossFn = Callable[[nn.Module, Any], "tuple[torch.Tensor, dict[str, torch.Tensor]]"]


class TrainingDiverged(InputError, RuntimeError):
    """The loss (or the weights) became NaN or infinite; the last good checkpoint is kept.

    An `InputError` too, so that `train.py` shows its message and exits with status 1 instead of a traceback."""


def build_optimizer(parameters, name: str, lr: float, amsgrad: bool = False, weight_decay: float = 0.0):
    """'rmsprop' | 'adam'; `amsgrad` (--use_amsprop) selects Adam with AMSGrad whatever `name` says."""
    if amsgrad or name == "adam":
        return torch.optim.Adam(parameters, lr=lr, amsgrad=amsgrad, weight_decay=weight_decay)
    if name == "rmsprop":
        return torch.optim.RMSprop(parameters, lr=lr, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer '{name}' (expected rmsprop or adam)")


@dataclass
class Run:
    """One training run's folder, process context and loggers."""

    name: str
    run_dir: Path
    dist: DistContext
    device: torch.device
    logger: RunLogger
    options: dict[str, Any]
    resume_from: dict[str, Any] | None = None
    # --scale_lr: the learning rate is multiplied by this (the number of processes), else 1.
    lr_scale: float = 1.0
    # What --amp / --amp_dtype mean on this device (utils/precision.py); options['precision'] names it.
    precision: Precision = field(default_factory=lambda: choose_precision("cpu", False))
    compile: bool = False  # --compile: the loop trains a torch.compile'd network

    @property
    def is_main(self) -> bool:
        return self.dist.is_main

    def learning_rate(self, default: float) -> float:
        """The learning rate to build the optimizer with: --lr when given, else the script's `default`, both
        multiplied by the number of processes under --scale_lr (`options['lr']` is already scaled)."""
        given = self.options.get("lr")
        return float(given) if given is not None else default * self.lr_scale

    def close(self) -> None:
        """Flush the logs and leave the process group (call once, when the script is done)."""
        self.logger.close()
        self.dist.shutdown()


def start_run(opts: argparse.Namespace, kind: str) -> Run:
    """Set up distributed, seeding, the run folder DIR/<script>_<exp>/ and logging; read `--load` if given."""
    dist = init_distributed(opts.device)
    seed_everything(opts.seed + dist.rank, deterministic=getattr(opts, "deterministic", False))
    lr_scale = float(dist.world_size) if getattr(opts, "scale_lr", False) else 1.0
    if getattr(opts, "lr", None) is not None:
        opts.lr *= lr_scale
    device = dist.device(opts.device)
    precision = choose_precision(device, getattr(opts, "amp", False), getattr(opts, "amp_dtype", "auto"))
    name = f"{opts.script}_{opts.exp}"
    run_dir = Path(opts.checkpoint_dir) / name
    tb_dir = Path(opts.tb_dir) / name if opts.tb_dir else run_dir / "tb"
    if dist.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
    logger = RunLogger(tb_dir, run_dir / "log.txt", enabled=dist.is_main)
    resume_from = load_checkpoint(opts.load, kind=kind) if opts.load else None
    logger.info(f"[{name}] run folder {run_dir} ({dist.engine}, {dist.world_size} process(es)"
                f"{f', learning rate x{lr_scale:g}' if lr_scale != 1 else ''}); {precision.describe()}")
    options = {**plain_options(opts), "precision": precision.name}
    return Run(name, run_dir, dist, device, logger, options, resume_from, lr_scale, precision,
               bool(getattr(opts, "compile", False)))


@dataclass
class LoopSettings:
    epochs: int
    metric_name: str
    higher_is_better: bool
    grad_clip: float | None = None
    checkpoint_every: int = 0
    scheduler_per_step: bool = False
    log_every: int = 10
    # Extra, self-describing content of every checkpoint: kind, model_config, normalisation, ...
    checkpoint_fields: dict[str, Any] = field(default_factory=dict)


class Trainer:
    """Runs epochs of `loss_fn` over `make_batches(sampler)`, validates, checkpoints and logs.

    Every process of a distributed run builds the same Trainer and calls `fit` (and `save`, if at all): the loop
    reduces across processes, only the main process writes. Before each batch is fetched, Python, numpy and torch
    are re-seeded from (seed, rank, epoch, step), so a run resumed at step k draws the same augmentation and
    dropout as an uninterrupted one (exactly so for data prepared in the main process, `--workers 0`).
    """

    def __init__(self, run: Run, model: nn.Module, optimizer: torch.optim.Optimizer, loss_fn: LossFn,
                 sampler: EpochSampler, make_batches: Callable[[EpochSampler], Iterable],
                 validate: Callable[[nn.Module], dict[str, float]], settings: LoopSettings,
                 scheduler: Any = None, after_step: Callable[[nn.Module], None] | None = None):
        self.run, self.settings, self.loss_fn = run, settings, loss_fn
        self.model = model.to(run.device)
        self.sampler, self.make_batches, self.validate = sampler, make_batches, validate
        self.scheduler, self.after_step = scheduler, after_step
        self.keeper = CheckpointKeeper(run.run_dir, settings.higher_is_better, enabled=run.is_main)
        self.epoch, self.step_in_epoch, self.global_step = 0, 0, 0
        self._stop_requested, self._stopping = False, False
        self.seed = int(run.options.get("seed") or 0)
        self.scaler = run.precision.grad_scaler()
        if run.resume_from is not None:
            self._resume(run.resume_from, optimizer)
        self.wrapped = run.dist.wrap_model(self.model, run.device)
        if run.compile:
            self.wrapped = compile_model(self.wrapped, run.device)
        self.optimizer = run.dist.wrap_optimizer(optimizer, self.model)

    # -- checkpoints -------------------------------------------------------------------------------------------
    def _payload(self) -> dict[str, Any]:
        return {
            **self.settings.checkpoint_fields,
            "model_state": self.model.state_dict(),
            "optimizer_state": self.optimizer.state_dict(),
            "scheduler_state": self.scheduler.state_dict() if self.scheduler is not None else None,
            "scaler_state": self.scaler.state_dict() if self.scaler.is_enabled() else None,
            "epoch": self.epoch,
            "step_in_epoch": self.step_in_epoch,
            "global_step": self.global_step,
            "world_size": self.run.dist.world_size,
            "options": self.run.options,
            "rng": rng_state(),
        }

    def _resume(self, payload: dict[str, Any], optimizer: torch.optim.Optimizer) -> None:
        self.model.load_state_dict(payload["model_state"])
        if payload.get("optimizer_state") is not None:
            optimizer.load_state_dict(payload["optimizer_state"])
        if self.scheduler is not None and payload.get("scheduler_state") is not None:
            self.scheduler.load_state_dict(payload["scheduler_state"])
        if self.scaler.is_enabled() and payload.get("scaler_state"):
            self.scaler.load_state_dict(payload["scaler_state"])
        self.epoch = int(payload.get("epoch", 0))
        self.step_in_epoch = int(payload.get("step_in_epoch", 0))
        self.global_step = int(payload.get("global_step", 0))
        self.keeper.best_metric = payload.get("best_metric")
        if "rng" in payload and self.run.dist.world_size == 1:
            set_rng_state(payload["rng"])
        saved_world = int(payload.get("world_size", self.run.dist.world_size))
        if saved_world != self.run.dist.world_size and self.step_in_epoch:
            self.run.logger.info(f"note: the checkpoint was written by {saved_world} process(es), this run has "
                                 f"{self.run.dist.world_size}; the rest of epoch {self.epoch + 1} sees a different "
                                 f"share of the data than an uninterrupted run would")
        self.run.logger.info(f"resuming at epoch {self.epoch + 1}, after step {self.step_in_epoch} of the epoch "
                             f"(best {self.settings.metric_name} so far: {self.keeper.best_metric})")

    def save(self, metric: float | None = None) -> bool:
        """Write `last` (and `best` when `metric` improves) from the main process; refuses non-finite weights."""
        bad = [name for name, value in self.model.state_dict().items()
               if value.is_floating_point() and not torch.isfinite(value).all()]
        if bad:
            self._diverged(f"the weights became non-finite ({', '.join(bad[:3])}{', ...' if len(bad) > 3 else ''}) "
                           f"after step {self.step_in_epoch} of epoch {self.epoch + 1}")
        return self.keeper.save(self._payload(), metric)

    def _diverged(self, what: str) -> None:
        message = (f"[{self.run.name}] {what}; training stopped. The last good checkpoint is kept: "
                   f"{self.keeper.last_path}. Try a lower --lr, --grad_clip, or look for NaN values in the input data.")
        self.run.logger.info(message)
        raise TrainingDiverged(message)

    # -- one step and one epoch --------------------------------------------------------------------------------
    def _step(self, batch) -> dict[str, float]:
        self.wrapped.train()
        with self.run.precision.autocast():
            loss, logs = self.loss_fn(self.wrapped, batch)
        self._check_finite(loss)
        self.optimizer.zero_grad()  # set_to_none by default; Horovod's optimizer takes no argument
        self.scaler.scale(loss).backward()
        horovod = self.run.dist.engine == "horovod"
        if horovod:
            # Horovod averages gradients asynchronously during backward: wait for it before the scaler reads them.
            self.optimizer.synchronize()
        if self.settings.grad_clip:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.settings.grad_clip)
        if horovod:
            with self.optimizer.skip_synchronize():
                self.scaler.step(self.optimizer)
        else:
            self.scaler.step(self.optimizer)
        self.scaler.update()
        if self.after_step is not None:
            self.after_step(self.model)
        if self.scheduler is not None and self.settings.scheduler_per_step:
            self.scheduler.step()
        return {"loss": float(loss.detach()), **{k: float(v) for k, v in logs.items()}}

    def request_stop(self) -> None:
        """Make this the last epoch, ending it after the current step (e.g. a time budget ran out).

        Safe under several processes: any process may ask, and all of them stop after the same step (the request
        travels with the per-step NaN check). Keep yielding batches after asking; stopping the batches early on one
        process only would leave the others waiting."""
        self._stop_requested = True

    def _check_finite(self, loss: torch.Tensor) -> None:
        """Stop every process, before the update, when the loss is NaN/inf on any of them; share stop requests."""
        bad = torch.tensor([0.0 if torch.isfinite(loss.detach()).all() else 1.0, float(self._stop_requested)])
        reduced = self.run.dist.all_reduce_sum(bad)
        self._stopping = self._stopping or reduced[1].item() > 0
        if reduced[0].item() > 0:
            where = "" if bad[0].item() > 0 else " on another process"
            self._diverged(f"the loss became non-finite{where} (here: {float(loss.detach())}) at step "
                           f"{self.step_in_epoch + 1} of epoch {self.epoch + 1}")

    def _train_epoch(self) -> dict[str, float]:
        self.sampler.set_epoch(self.epoch, self.step_in_epoch)
        sums: dict[str, float] = {}
        steps_run = 0
        bar = progress(enabled=self.run.is_main, total=self.sampler.steps_per_epoch() - self.step_in_epoch,
                       desc=f"epoch {self.epoch + 1}/{self.settings.epochs}")
        batches = None
        while True:
            seed_step(self.seed, self.run.dist.rank, self.epoch, self.step_in_epoch)
            if batches is None:
                batches = iter(self.make_batches(self.sampler))
            try:
                batch = next(batches)
            except StopIteration:
                break
            logs = self._step(batch)
            self.step_in_epoch += 1
            self.global_step += 1
            steps_run += 1
            bar.update(1)
            for name, value in logs.items():
                sums[name] = sums.get(name, 0.0) + value
            if self.global_step % self.settings.log_every == 0:
                self.run.logger.scalars(logs, self.global_step, prefix="train/")
                self.run.logger.scalars({"lr": self.optimizer.param_groups[0]["lr"]}, self.global_step)
                bar.set_postfix(loss=f"{logs['loss']:.4g}")
            if self._stopping:
                self.run.logger.info(f"[{self.run.name}] stop requested: epoch {self.epoch + 1} ends after step "
                                     f"{self.step_in_epoch} and is the last")
                self.settings.epochs = self.epoch + 1
                break
            if self.settings.checkpoint_every and self.step_in_epoch % self.settings.checkpoint_every == 0:
                self.save()
        bar.close()
        names = sorted(sums)
        totals = self.run.dist.all_reduce_sum(torch.tensor([*(sums[n] for n in names), steps_run],
                                                           dtype=torch.float64))
        count = max(float(totals[-1]), 1.0)
        return {name: float(total) / count for name, total in zip(names, totals[:-1])}

    def fit(self) -> dict[str, float]:
        """Train until `settings.epochs`; returns the last validation metrics (the same on every process)."""
        metrics: dict[str, float] = {}
        while self.epoch < self.settings.epochs:
            train_logs = self._train_epoch()
            self.model.eval()
            metrics = self.validate(self.model) if self.run.is_main else {}
            metrics = self.run.dist.broadcast_object(metrics)
            self.epoch += 1
            self.step_in_epoch = 0
            if self.scheduler is not None and not self.settings.scheduler_per_step:
                self.scheduler.step()
            metric = metrics.get(self.settings.metric_name, math.nan)
            improved = self.save(metric if math.isfinite(metric) else None)
            self.run.logger.scalars(train_logs, self.epoch, prefix="epoch_train/")
            self.run.logger.scalars(metrics, self.epoch, prefix="valid/")
            shown = ", ".join(f"{k} {v:.4g}" for k, v in metrics.items() if isinstance(v, (int, float)))
            self.run.logger.info(f"[{self.run.name}] epoch {self.epoch}/{self.settings.epochs}: train loss "
                                 f"{train_logs.get('loss', math.nan):.4g}; {shown}{' (best)' if improved else ''}")
        self.run.logger.info(f"[{self.run.name}] done; checkpoints in {self.run.run_dir} (last.pt, best.pt)")
        return metrics
