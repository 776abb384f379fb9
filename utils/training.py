"""The training loop every `train.py` script shares.

A script builds its models, optimizers and data and gives the loop its step, in one of two forms:
- `loss_fn(model, batch) -> (loss, logs)`, for one model and one optimizer: the loop runs the forward pass under
  autocast, then `update` (backward, clipping, the optimizer step), `after_step(model)` and the scheduler;
- `step(trainer, batch) -> logs`, for anything else (several models and optimizers, e.g. the WGAN's critic and
  generator steps): the step calls `trainer.update(name, loss)` for each optimizer step it takes.
The loop owns what must behave the same everywhere: per-step reseeding, mixed precision and gradient scaling,
clipping, the gradient exchange between processes, NaN/inf stops and the non-finite-weights check, stop requests,
TensorBoard, progress bars, `last`/`best` checkpoints (`utils.loop_state`) and exact resume.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

import torch
from torch import nn

from utils.checkpoints import CheckpointKeeper
from utils.compiling import compile_model
from utils.errors import InputError
from utils.loop_state import Counters, loop_payload, non_finite_weights, pack, restore_loop
from utils.run_logging import progress
from utils.runs import Run
from utils.sampling import EpochSampler
from utils.seeding import seed_step

LossFn = Callable[[nn.Module, Any], "tuple[torch.Tensor, dict[str, torch.Tensor]]"]
StepFn = Callable[["Trainer", Any], "dict[str, float]"]
MODEL = "model"  # the name of the one model of a `loss_fn` loop
GRADIENT_SYNCS = ("wrapper", "average")


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
class LoopSettings:
    epochs: int
    metric_name: str
    higher_is_better: bool
    grad_clip: float | None = None
    checkpoint_every: int = 0
    scheduler_per_step: bool = False
    log_every: int = 10
    progress_log: str = "loss"  # the training log shown on the progress bar and in each epoch's line
    # Extra, self-describing content of every checkpoint (kind, model_config, normalisation, ...), or a function
    # that returns it at each save (for content that changes during training).
    checkpoint_fields: dict[str, Any] | Callable[[], dict[str, Any]] = field(default_factory=dict)
    # "wrapper": DDP's model wrapper (Horovod: its optimizer) exchanges gradients during backward; "average": one
    # all-reduce of the gradients after backward, for steps that DDP does not support (double backward).
    gradient_sync: str = "wrapper"


class Trainer:
    """Runs epochs of the step over `make_batches(sampler)`, validates, checkpoints and logs.

    `model` and `optimizer` are one module and its optimizer, or dicts {name: ...} (every optimizer named after the
    model it updates). `validate` gets the model (the dict of models when there are several) in eval mode.
    Every process of a distributed run builds the same Trainer and calls `fit` (and `save`, if at all): the loop
    reduces across processes, only the main process writes. Before each batch is fetched, Python, numpy and torch
    are re-seeded from (seed, rank, epoch, step), so a run resumed at step k draws the same augmentation, dropout
    and noise as an uninterrupted one (exactly so for data prepared in the main process, `--workers 0`).
    """

    def __init__(self, run: Run, model: nn.Module | Mapping[str, nn.Module],
                 optimizer: torch.optim.Optimizer | Mapping[str, torch.optim.Optimizer], loss_fn: LossFn | None = None,
                 sampler: EpochSampler | None = None, make_batches: Callable[[EpochSampler], Iterable] | None = None,
                 validate: Callable[[Any], dict[str, float]] | None = None, settings: LoopSettings | None = None,
                 scheduler: Any = None, after_step: Callable[[nn.Module], None] | None = None,
                 step: StepFn | None = None):
        assert settings is not None, "the loop needs its LoopSettings"
        assert loss_fn is None or step is None, "give a loss_fn (one model) or a step function, not both"
        assert settings.gradient_sync in GRADIENT_SYNCS, settings.gradient_sync
        self.run, self.settings, self.loss_fn, self.after_step = run, settings, loss_fn, after_step
        self.models = {name: m.to(run.device) for name, m in
                       (model.items() if isinstance(model, Mapping) else [(MODEL, model)])}
        optimizers = dict(optimizer) if isinstance(optimizer, Mapping) else {MODEL: optimizer}
        assert set(optimizers) <= set(self.models), f"optimizers {sorted(optimizers)} of no model"
        self.step_fn = step or self._loss_step
        self.sampler, self.make_batches, self.validate, self.scheduler = sampler, make_batches, validate, scheduler
        self.keeper = CheckpointKeeper(run.run_dir, settings.higher_is_better, enabled=run.is_main)
        self.epochs = settings.epochs  # lowered when a stop is requested
        self.epoch, self.step_in_epoch, self.global_step = 0, 0, 0
        self._stop_requested, self._stopping = False, False
        self.scalers = {name: run.precision.grad_scaler() for name in optimizers}
        if run.resume_from is not None:
            self._resume(run.resume_from, optimizers)
        self.wrapped = {name: self._prepare(m) for name, m in self.models.items()}
        wrap = self.settings.gradient_sync == "wrapper"  # Horovod averages in its DistributedOptimizer
        self.optimizers = {name: run.dist.wrap_optimizer(o, self.models[name]) if wrap else o
                           for name, o in optimizers.items()}

    @property
    def model(self) -> nn.Module:
        """The model of a one-model loop (`models[name]` when there are several)."""
        if len(self.models) != 1:
            raise AttributeError(f"this loop trains {sorted(self.models)}: use trainer.models[name]")
        return next(iter(self.models.values()))

    def _prepare(self, model: nn.Module) -> nn.Module:
        """The module a step runs: DDP-wrapped (or Horovod-broadcast), or broadcast from rank 0 for "average";
        torch.compile'd under --compile."""
        if self.settings.gradient_sync == "wrapper":
            model_to_run = self.run.dist.wrap_model(model, self.run.device)
        else:
            self.run.dist.broadcast_parameters(model)
            model_to_run = model
        return compile_model(model_to_run, self.run.device) if self.run.compile else model_to_run

    # -- checkpoints -------------------------------------------------------------------------------------------
    def _payload(self) -> dict[str, Any]:
        fields = self.settings.checkpoint_fields
        fields = fields() if callable(fields) else fields
        counters = Counters(self.epoch, self.step_in_epoch, self.global_step)
        return {**fields, **loop_payload(self.models, self.optimizers, self.scalers, self.scheduler, counters,
                                         self.run.dist.world_size, self.run.options)}

    def _resume(self, payload: dict[str, Any], optimizers: dict[str, torch.optim.Optimizer]) -> None:
        world = self.run.dist.world_size
        counters = restore_loop(payload, self.models, optimizers, self.scalers, self.scheduler, world == 1)
        self.epoch, self.step_in_epoch, self.global_step = counters.epoch, counters.step_in_epoch, counters.global_step
        self.keeper.best_metric = payload.get("best_metric")
        saved_world = int(payload.get("world_size", world))
        if saved_world != world and self.step_in_epoch:
            self.run.logger.info(f"note: the checkpoint was written by {saved_world} process(es), this run has "
                                 f"{world}; the rest of epoch {self.epoch + 1} sees a different share of the data "
                                 f"than an uninterrupted run would")
        self.run.logger.info(f"resuming at epoch {self.epoch + 1}, after step {self.step_in_epoch} of the epoch "
                             f"(best {self.settings.metric_name} so far: {self.keeper.best_metric})")

    def save(self, metric: float | None = None) -> bool:
        """Write `last` (and `best` when `metric` improves) from the main process; refuses non-finite weights."""
        bad = non_finite_weights(self.models)
        if bad:
            self._diverged(f"the weights became non-finite ({', '.join(bad[:3])}{', ...' if len(bad) > 3 else ''}) "
                           f"after step {self.step_in_epoch} of epoch {self.epoch + 1}")
        return self.keeper.save(self._payload(), metric)

    def _diverged(self, what: str) -> None:
        kept = (f"The last good checkpoint is kept: {self.keeper.last_path}" if self.keeper.last_path.is_file()
                else "No checkpoint was written before it")
        message = (f"[{self.run.name}] {what}; training stopped. {kept}. Try a lower --lr, --grad_clip, or look for "
                   f"NaN values in the input data.")
        self.run.logger.info(message)
        raise TrainingDiverged(message)

    # -- one optimizer step ------------------------------------------------------------------------------------
    def update(self, name: str, loss: torch.Tensor) -> None:
        """One step of optimizer `name` on `loss`: the NaN/inf check (agreed by all processes, which also share
        stop requests), zero_grad, (scaled) backward, the gradient exchange, clipping, the step."""
        self._check_finite(loss, name)
        optimizer, scaler, model = self.optimizers[name], self.scalers[name], self.models[name]
        optimizer.zero_grad()  # set_to_none by default; Horovod's optimizer takes no argument
        scaler.scale(loss).backward()
        horovod = self.run.dist.engine == "horovod" and self.settings.gradient_sync == "wrapper"
        if horovod:
            # Horovod averages gradients asynchronously during backward: wait for it before the scaler reads them.
            optimizer.synchronize()
        if self.settings.gradient_sync == "average":
            self.run.dist.average_gradients(model.parameters())
        if self.settings.grad_clip:
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), self.settings.grad_clip)
        if horovod:
            with optimizer.skip_synchronize():
                scaler.step(optimizer)
        else:
            scaler.step(optimizer)
        scaler.update()

    def _loss_step(self, trainer: "Trainer", batch) -> dict[str, float]:
        network = self.wrapped[MODEL]
        with self.run.precision.autocast():
            loss, logs = self.loss_fn(network, batch)
        self.update(MODEL, loss)
        if self.after_step is not None:
            self.after_step(self.models[MODEL])
        return {"loss": float(loss.detach()), **{k: float(v) for k, v in logs.items()}}

    def request_stop(self) -> None:
        """Make this the last epoch, ending it after the current step (e.g. a time budget ran out).

        Safe under several processes: any process may ask, and all of them stop after the same step (the request
        travels with the per-step NaN check, and is agreed again at the epoch's end). Keep yielding batches after
        asking, unless every process asks at the same step (a collective decision such as `TimeBudget`): stopping
        the batches on one process only would leave the others waiting."""
        self._stop_requested = True

    def _check_finite(self, loss: torch.Tensor, name: str) -> None:
        """Stop every process, before the update, when the loss is NaN/inf on any of them; share stop requests."""
        bad = torch.tensor([0.0 if torch.isfinite(loss.detach()).all() else 1.0, float(self._stop_requested)])
        reduced = self.run.dist.all_reduce_sum(bad)
        self._stopping = self._stopping or reduced[1].item() > 0
        if reduced[0].item() > 0:
            label = "loss" if name == MODEL else f"{name} loss"
            value, where = float(loss.detach()), (self.epoch + 1, self.step_in_epoch)
            if bad[0].item() > 0:
                what = (f"the {label} became {value} at epoch {where[0]}, step {where[1]} (steps counted from 0; a "
                        f"non-finite value, so step {where[1] + 1} of epoch {where[0]} is not taken)")
            else:
                what = (f"the {label} became non-finite on another process (here: {value}) at step {where[1] + 1} "
                        f"of epoch {where[0]}")
            self._diverged(what)

    # -- one epoch and the run ---------------------------------------------------------------------------------
    def _train_epoch(self) -> dict[str, float]:
        self.sampler.set_epoch(self.epoch, self.step_in_epoch)
        sums: dict[str, float] = {}
        counts: dict[str, int] = {}
        bar = progress(enabled=self.run.is_main, total=self.sampler.steps_per_epoch() - self.step_in_epoch,
                       desc=f"epoch {self.epoch + 1}/{self.epochs}")
        batches = None
        while True:
            seed_step(self.run.seed, self.run.dist.rank, self.epoch, self.step_in_epoch)
            if batches is None:
                batches = iter(self.make_batches(self.sampler))
            try:
                batch = next(batches)
            except StopIteration:
                break
            for model in self.models.values():
                model.train()
            logs = self.step_fn(self, batch)
            if self.scheduler is not None and self.settings.scheduler_per_step:
                self.scheduler.step()
            self.step_in_epoch += 1
            self.global_step += 1
            bar.update(1)
            for name, value in logs.items():
                sums[name], counts[name] = sums.get(name, 0.0) + value, counts.get(name, 0) + 1
            self._log_step(logs, bar)
            if self._stopping:
                break
            if self.settings.checkpoint_every and self.step_in_epoch % self.settings.checkpoint_every == 0:
                self.save()
        bar.close()
        self._end_if_stop_requested()
        names = sorted(sums)
        totals = self.run.dist.all_reduce_sum(torch.tensor([*(sums[n] for n in names), *(counts[n] for n in names)],
                                                           dtype=torch.float64))
        return {name: float(totals[i]) / max(float(totals[len(names) + i]), 1.0) for i, name in enumerate(names)}

    def _log_step(self, logs: dict[str, float], bar) -> None:
        if self.global_step % self.settings.log_every:
            return
        self.run.logger.scalars(logs, self.global_step, prefix="train/")
        rates = {("lr" if len(self.optimizers) == 1 else f"lr_{name}"): o.param_groups[0]["lr"]
                 for name, o in self.optimizers.items()}
        self.run.logger.scalars(rates, self.global_step)
        if self.settings.progress_log in logs:
            bar.set_postfix({self.settings.progress_log: f"{logs[self.settings.progress_log]:.4g}"})

    def _end_if_stop_requested(self) -> None:
        """Agree (all processes) whether a stop was requested; if so, this epoch is the last."""
        requested = float(self._stop_requested or self._stopping)
        if self.run.dist.all_reduce_sum(torch.tensor([requested])).item() > 0:
            self.run.logger.info(f"[{self.run.name}] stop requested: epoch {self.epoch + 1} ends after step "
                                 f"{self.step_in_epoch} and is the last")
            self.epochs = self.epoch + 1

    def fit(self) -> dict[str, float]:
        """Train until `settings.epochs` (or a stop request); returns the last validation metrics (the same on
        every process)."""
        try:
            return self._fit()
        except InputError:  # diverged, or a log / checkpoint could not be written: release the run folder
            try:
                self.run.close()
            except InputError:  # the logs cannot be flushed either: the first error is the one to show
                pass
            raise

    def _fit(self) -> dict[str, float]:
        metrics: dict[str, float] = {}
        while self.epoch < self.epochs:
            train_logs = self._train_epoch()
            for model in self.models.values():
                model.eval()
            metrics = self.validate(pack(self.models)) if self.run.is_main else {}
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
            self.run.logger.info(f"[{self.run.name}] epoch {self.epoch}/{self.epochs}: train "
                                 f"{self.settings.progress_log} {train_logs.get(self.settings.progress_log, math.nan):.4g}"
                                 f"; {shown}{' (best)' if improved else ''}")
        if self.settings.gradient_sync == "average":
            for model in self.models.values():
                self.run.dist.check_same_parameters(model)
        self.run.logger.info(f"[{self.run.name}] done; checkpoints in {self.run.run_dir} (last.pt, best.pt)")
        return metrics

