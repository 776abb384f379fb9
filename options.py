"""Command-line options shared by `train.py`, `run.py`, `viz.py` and `eval.py`, and the dispatch by script name.

Each entry point owns a dict {script name: Script}. A Script says what it does in one line, which common option
groups it takes (`GROUPS`: only those whose options it reads), adds its own option group and runs with the parsed
options; `dispatch` does the rest (help, unknown names and options, checks). The same thing has the same option
name everywhere (`--image_dir`, with `--img_dir` accepted as its alias).
"""
from __future__ import annotations

import argparse
import difflib
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from utils.cli import Parser, given_options
from utils.errors import InputError
from utils.precision import AMP_DTYPES
from utils.validation import check_output_location, plain_name

AddOptions = Callable[[argparse.ArgumentParser], None]
CheckOptions = Callable[[argparse.Namespace], "str | None"]


def _data(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--data_dir", default=None,
                       help="dataset root (default: the embedded synthetic dataset, generated once)")


def _output(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--output_dir", default=None, help="folder for predictions, tables and pictures")


def _load(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--load", default=None, help="checkpoint file; the network is rebuilt from the file alone")


def _device(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--device", default="cpu", help="torch device: cpu, cuda, cuda:1, ...")


def _batches(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--batch_size", type=int, default=None, help="samples per step (per process)")


def _workers(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--workers", type=int, default=0, help="data-loading worker processes")


def _seed(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--seed", type=int, default=0, help="random seed")


def _precision(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--amp", action="store_true",
                       help="mixed precision where this device runs it natively: bf16 on CPUs with AVX-512 BF16 or "
                            "AMX (fp32 on others), bf16 on CUDA where supported, else fp16 with a gradient scaler")
    group.add_argument("--amp_dtype", choices=AMP_DTYPES, default="auto",
                       help="with --amp: force this autocast dtype instead of the device's choice")


def _compile(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--compile", action="store_true",
                       help="torch.compile the network (the first steps are slow while it compiles)")


def _fuse_bn(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--fuse_bn", action="store_true",
                       help="fold each batch norm into the convolution or linear layer before it (inference only; "
                            "same outputs up to float rounding, fewer operations)")


def _training(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--load", default=None,
                       help="resume from this checkpoint (last.pt: epoch, step, optimizer, scheduler, RNG states)")
    group.add_argument("--exp", default="default", help="experiment id: the run folder is <script>_<exp>")
    group.add_argument("--lr", type=float, default=None, help="learning rate")
    group.add_argument("--epochs", type=int, default=None, help="training epochs")
    group.add_argument("--use_amsprop", action="store_true", help="optimise with AMSGrad (Adam with amsgrad=True)")
    group.add_argument("--grad_clip", type=float, default=None, help="clip the global gradient norm to this value")
    group.add_argument("--checkpoint_dir", default="model_checkpoints",
                       help="runs are written to CHECKPOINT_DIR/<script>_<exp>/")
    group.add_argument("--tb_dir", default=None, help="TensorBoard folder (default: the run folder's tb/)")
    group.add_argument("--checkpoint_every", type=int, default=0,
                       help="also save `last` every N steps inside an epoch (0: at epoch ends only)")
    group.add_argument("--deterministic", action="store_true",
                       help="deterministic kernels and data order, so a resumed run matches an uninterrupted one")
    group.add_argument("--scale_lr", action="store_true",
                       help="multiply the learning rate by the number of processes (linear scaling rule)")
    group.add_argument("--overwrite", action="store_true",
                       help="start afresh in a run folder that already holds a run (its checkpoints are replaced)")


# Common option groups, by the name a Script lists them under; a script takes only those whose options it reads.
GROUPS: dict[str, Callable[[argparse._ArgumentGroup], None]] = {
    "data": _data, "output": _output, "load": _load, "device": _device, "batches": _batches, "workers": _workers,
    "seed": _seed, "precision": _precision, "compile": _compile, "fuse_bn": _fuse_bn}
# What a script without its own list gets: a model-running script's options (`training` adds the training group).
MODEL_GROUPS = ("data", "output", "load", "device", "batches", "workers", "seed", "precision", "compile")
# A training script's: its data, the run to resume (`load`), the device, batches, seed and precision.
TRAINING_GROUPS = ("data", "load", "device", "batches", "seed", "precision", "compile")


@dataclass(frozen=True)
class Script:
    """One script name of an entry point."""

    help: str
    run: Callable[[argparse.Namespace], object]
    add_options: AddOptions = lambda parser: None
    # Returns a message when options conflict; the message is shown as a usage error.
    check: CheckOptions = lambda opts: None
    training: bool = False  # adds the training group (--load resumes, --lr, --epochs, --exp, ...)
    groups: tuple[str, ...] = MODEL_GROUPS  # the common groups it reads (GROUPS); a training script's "load" resumes
    # Option groups of a package above the script's own (e.g. the pose prior of a training script), with their checks.
    extra_groups: tuple[AddOptions, ...] = field(default=())
    extra_checks: tuple[CheckOptions, ...] = field(default=())
    # Picks the script that parses and runs from the arguments (distill_hourglass: by the teacher's kind).
    variant: Callable[[Sequence[str]], "Script"] | None = None


# Options that are sizes, counts or rates wherever a script has them: positive, or at least zero.
POSITIVE_OPTIONS = ("batch_size", "eval_batch_size", "epochs", "lr", "grad_clip", "input_res", "cache_res", "sigma",
                    "stacks", "features", "valid_limit", "linear_size", "max_images", "num_samples", "max_poses",
                    "max_train_minutes")
NON_NEGATIVE_OPTIONS = ("workers", "checkpoint_every")


def _check_numbers(opts: argparse.Namespace) -> str | None:
    """NaN/inf in any numeric option, then the signs of POSITIVE_OPTIONS and NON_NEGATIVE_OPTIONS."""
    for name, value in vars(opts).items():
        values = value if isinstance(value, (list, tuple)) else [value]
        if any(isinstance(v, float) and not math.isfinite(v) for v in values):
            return f"--{name} must be a finite number, got {value}"
    for name in POSITIVE_OPTIONS:
        value = getattr(opts, name, None)
        if value is not None and not value > 0:
            return f"--{name} must be positive, got {value}"
    for name in NON_NEGATIVE_OPTIONS:
        value = getattr(opts, name, None)
        if value is not None and value < 0:
            return f"--{name} must be >= 0, got {value}"
    return None


def _check_device(device: str | None) -> str | None:
    if device is None:
        return None
    import torch

    try:
        parsed = torch.device(device)
    except (RuntimeError, ValueError):
        return f"--device '{device}' is not a torch device (expected cpu, cuda, cuda:1, ...)"
    if parsed.type == "cuda" and not torch.cuda.is_available():
        return f"--device {device}: CUDA is not available on this machine (use --device cpu)"
    return None


def _check_common(opts: argparse.Namespace) -> str | None:
    message = _check_numbers(opts) or _check_device(getattr(opts, "device", None))
    if message:
        return message
    if getattr(opts, "exp", None) is not None:
        message = plain_name(opts.exp, "--exp")
        if message:
            return message
    if getattr(opts, "amp_dtype", "auto") != "auto" and not opts.amp:
        return f"--amp_dtype {opts.amp_dtype} needs --amp"
    return None


def check_output_locations(opts: argparse.Namespace) -> None:
    """Before any work: the folders a script writes into can be written (OutputError naming the option if not):
    --output_dir, --checkpoint_dir and the run folder CHECKPOINT_DIR/<script>_<exp>, --tb_dir."""
    for option in ("output_dir", "checkpoint_dir", "tb_dir"):
        if getattr(opts, option, None):
            check_output_location(opts.output_dir if option == "output_dir" else getattr(opts, option), f"--{option}")
    if getattr(opts, "checkpoint_dir", None) and getattr(opts, "exp", None):
        check_output_location(Path(opts.checkpoint_dir) / f"{opts.script}_{opts.exp}", "the run folder")


def build_parser(command: str, name: str, script: Script) -> argparse.ArgumentParser:
    """The full parser of `python COMMAND.py NAME`: the script's common groups, training (train.py) and its own."""
    parser = Parser(prog=f"{command}.py {name}", description=script.help)
    common = parser.add_argument_group("common")
    for group_name in script.groups:
        if not (script.training and group_name == "load"):
            GROUPS[group_name](common)
    if script.training:
        _training(parser.add_argument_group("training"))
    for add_group in script.extra_groups:
        add_group(parser)
    script.add_options(parser)
    return parser


def parse_script_options(command: str, name: str, script: Script, argv: Sequence[str]) -> argparse.Namespace:
    """Parse and check; `opts.given_options` names the options written on the command line."""
    parser = build_parser(command, name, script)
    opts = parser.parse_args(list(argv))
    opts.script, opts.command, opts.given_options = name, command, given_options(parser, argv)
    message = _check_common(opts) or script.check(opts)
    for check in script.extra_checks:
        message = message or check(opts)
    if message:
        parser.error(message)
    return opts


def _listing(command: str, scripts: dict[str, Script]) -> str:
    width = max((len(name) for name in scripts), default=0)
    lines = [f"usage: python {command}.py NAME [options]   (python {command}.py NAME --help for NAME's options)",
             "", "script names:"]
    lines += [f"  {name.ljust(width)}  {script.help}" for name, script in scripts.items()]
    return "\n".join(lines)


def one_line(error: BaseException) -> str:
    """The message of an error; for one raised in a DataLoader worker (torch re-raises it with the worker's
    traceback in the message), the original message alone."""
    text = str(error).strip()
    if "Original Traceback" not in text:
        return text
    last = text.splitlines()[-1]
    prefix = f"{type(error).__module__}.{type(error).__name__}: "
    return last[len(prefix):] if last.startswith(prefix) else last


def dispatch(command: str, scripts: dict[str, Script], argv: Sequence[str] | None = None) -> int:
    """Run `python COMMAND.py NAME [options]`; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_listing(command, scripts))
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in scripts:
        close = difflib.get_close_matches(name, scripts, n=1, cutoff=0.4)
        hint = f" did you mean '{close[0]}'?" if close else ""
        print(f"{command}.py: unknown script name '{name}'.{hint}\n", file=sys.stderr)
        print(_listing(command, scripts), file=sys.stderr)
        return 2
    script = scripts[name]
    if script.variant is not None:
        script = script.variant(rest)
    opts = parse_script_options(command, name, script, rest)
    try:
        check_output_locations(opts)
        result = script.run(opts)
    except (InputError, OSError) as error:  # bad input, or a file that cannot be read or written
        print(f"{command}.py {name}: error: {one_line(error)}", file=sys.stderr)
        return 1
    return result if isinstance(result, int) else 0
