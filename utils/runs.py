"""One training run: its settings (a dataclass, read once from the command line), folder, processes and loggers.

    run = start_run(RunSettings.from_options(opts), KIND)
    optimizer = build_optimizer(model.parameters(), "adam", run.learning_rate())

`start_run` sets up distributed training, seeding, the run folder CHECKPOINT_DIR/<script>_<exp>/ and logging, reads
`--load` when given and decides the precision; it changes nothing it is given. The main process holds the folder's
lock (`utils.run_lock`: one live run per folder) until `Run.close`, removes temporary files a killed save left there,
and refuses symbolic links in the folder's place of its logs and checkpoints.
"""
from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import torch

from utils.checkpoints import load_checkpoint, plain_options
from utils.distributed import DistContext, init_distributed
from utils.errors import InputError
from utils.precision import Precision, choose_precision
from utils.atomic import remove_orphan_temps
from utils.run_lock import RunLock
from utils.run_logging import RunLogger
from utils.seeding import seed_everything


@dataclass(frozen=True)
class RunSettings:
    """What `start_run` needs; `options` is the record of every option (literals only) stored in checkpoints."""

    script: str
    exp: str = "default"
    checkpoint_dir: str = "model_checkpoints"
    tb_dir: str | None = None
    load: str | None = None
    device: str = "cpu"
    seed: int = 0
    deterministic: bool = False
    lr: float | None = None  # --lr, or the script's default; None: the script passes its own to learning_rate()
    scale_lr: bool = False
    amp: bool = False
    amp_dtype: str = "auto"
    compile: bool = False
    overwrite: bool = False  # start afresh in a run folder that already holds a run
    options: dict[str, Any] = field(default_factory=dict)
    given: frozenset[str] = frozenset()  # the options written on the command line (`utils.cli.given_options`)

    @classmethod
    def from_options(cls, opts: argparse.Namespace) -> "RunSettings":
        """The settings of a parsed `train.py NAME` command line (options a script lacks keep their defaults)."""
        given = vars(opts)
        known = {f.name for f in fields(cls)} - {"options", "given"}
        return cls(**{name: given[name] for name in known if name in given}, options=plain_options(opts),
                   given=frozenset(given.get("given_options", ())))


@dataclass
class Run:
    """One training run's settings, folder, process context and loggers."""

    settings: RunSettings
    name: str
    run_dir: Path
    dist: DistContext
    device: torch.device
    logger: RunLogger
    resume_from: dict[str, Any] | None = None
    # --scale_lr: the learning rate is multiplied by this (the number of processes), else 1.
    lr_scale: float = 1.0
    # What --amp / --amp_dtype mean on this device (utils/precision.py); options['precision'] names it.
    precision: Precision = field(default_factory=lambda: choose_precision("cpu", False))
    # The run folder's lock (`utils.run_lock`), held by the main process until `close`.
    lock: RunLock | None = None

    @property
    def is_main(self) -> bool:
        return self.dist.is_main

    @property
    def compile(self) -> bool:
        """--compile: the loop trains a torch.compile'd network."""
        return self.settings.compile

    @property
    def seed(self) -> int:
        return self.settings.seed

    @property
    def options(self) -> dict[str, Any]:
        """The options record of the checkpoints: every option as given, plus the precision and the lr scale."""
        return {**self.settings.options, "precision": self.precision.name, "lr_scale": self.lr_scale}

    def learning_rate(self, default: float | None = None) -> float:
        """The learning rate to build the optimizer with: --lr (or the script's default for it), else `default`,
        multiplied by the number of processes under --scale_lr."""
        base = self.settings.lr if self.settings.lr is not None else default
        if base is None:
            raise ValueError(f"{self.name}: no learning rate (neither --lr nor a default)")
        return float(base) * self.lr_scale

    def keep_checkpoint_network(self, asked: dict[str, Any], option_of: dict[str, str] | None = None) -> None:
        """When resuming: refuse (close the run, raise InputError) options given for another network than the
        checkpoint's (`refuse_changed_options`); asked: the model_config fields the options ask for."""
        if self.resume_from is None:
            return
        try:
            refuse_changed_options(self.settings.given, asked, self.resume_from.get("model_config", {}),
                                   self.settings.load, option_of)
        except InputError:
            self.close()
            raise

    def close(self) -> None:
        """Flush the logs, release the run folder and leave the process group (call once, when the script is done)."""
        try:
            self.logger.close()
        finally:
            if self.lock is not None:
                self.lock.release()
            self.dist.shutdown()


def refuse_changed_options(given: frozenset[str], asked: dict[str, Any], saved: dict[str, Any], path: str | Path,
                           option_of: dict[str, str] | None = None) -> None:
    """A resumed run keeps the checkpoint's network: an option written on the command line (`given`) that asks for
    another value of one of its model_config fields is an InputError naming the file and the field, not silently
    ignored. asked / saved: {field: value}; option_of: {field: option name} where they differ."""
    option_of = option_of or {}
    for field_name, value in asked.items():
        option = option_of.get(field_name, field_name)
        if option in given and field_name in saved and saved[field_name] != value:
            raise InputError(f"--{option} asks for {field_name} = {value}, but {path} (field model_config."
                             f"{field_name}) holds a network with {field_name} = {saved[field_name]}; a resumed run "
                             f"keeps the checkpoint's network: drop --{option}, or start a new run without --load")


def refuse_links(run_dir: Path, tb_dir: Path) -> None:
    """A run writes its lock, logs, events and checkpoints into its folder, never through a symbolic link placed
    there (it would write wherever the link points)."""
    for path in (run_dir / "log.txt", run_dir / "last.pt", run_dir / "best.pt", tb_dir):
        if path.is_symlink():
            raise InputError(f"{path}: is a symbolic link (to {os.readlink(path)}); a run does not write through "
                             f"links in its folder: remove it, or give another --exp")


def earlier_run(run_dir: Path) -> str | None:
    """The checkpoint an earlier run left in `run_dir` (last.pt, else best.pt), or None."""
    return next((name for name in ("last.pt", "best.pt") if (run_dir / name).is_file()), None)


def start_run(settings: RunSettings, kind: str) -> Run:
    """Set up distributed, seeding, the run folder CHECKPOINT_DIR/<script>_<exp>/ and logging; read `--load` (a
    checkpoint of `kind`) if given."""
    dist = init_distributed(settings.device)
    seed_everything(settings.seed + dist.rank, deterministic=settings.deterministic)
    lr_scale = float(dist.world_size) if settings.scale_lr else 1.0
    device = dist.device(settings.device)
    precision = choose_precision(device, settings.amp, settings.amp_dtype)
    name = f"{settings.script}_{settings.exp}"
    run_dir = Path(settings.checkpoint_dir) / name
    tb_dir = Path(settings.tb_dir) / name if settings.tb_dir else run_dir / "tb"
    # Decided by the main process and shared, so that every process stops or none does.
    held = dist.broadcast_object(earlier_run(run_dir) if dist.is_main else None)
    if held and not settings.load and not settings.overwrite:
        dist.shutdown()
        raise InputError(f"{run_dir} already holds a run ({held}); resume it with --load {run_dir / held}, start it "
                         f"afresh with --overwrite, or give another --exp")
    lock, logger, refused = None, RunLogger(tb_dir, run_dir / "log.txt", enabled=False), None
    if dist.is_main:
        try:
            refuse_links(run_dir, tb_dir)
            lock = RunLock(run_dir).acquire()
            remove_orphan_temps(run_dir)  # a save killed half-way (this run folder is ours now)
            logger = RunLogger(tb_dir, run_dir / "log.txt")
        except InputError as error:
            refused = str(error)
            if lock is not None:
                lock.release()
    refused = dist.broadcast_object(refused)  # every process stops, or none does
    if refused:
        dist.shutdown()
        raise InputError(refused)
    try:
        resume_from = load_checkpoint(settings.load, kind=kind) if settings.load else None
    except InputError:
        logger.close()
        if lock is not None:
            lock.release()
        dist.shutdown()
        raise
    logger.info(f"[{name}] run folder {run_dir} ({dist.engine}, {dist.world_size} process(es)"
                f"{f', learning rate x{lr_scale:g}' if lr_scale != 1 else ''}); {precision.describe()}")
    return Run(settings, name, run_dir, dist, device, logger, resume_from, lr_scale, precision, lock)
