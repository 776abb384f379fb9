"""`python -m stacked_hourglass.convert_checkpoint --bearpaw CKPT [--mean mean.pth.tar] --output OUT.pt`

pytorch-pose (bearpaw) hourglass checkpoint -> a self-describing stitchpose hourglass checkpoint, which every
command's `--load` (and `--load_hourglass`) reads: `run.py hourglass_mpii`, `viz.py`, `train.py hourglass_mpii`
(fine-tuning from the converted weights, epoch 0, a new optimizer), `train.py stitched_h36m`.

The two networks are the same (pre-activation bottlenecks, stem 7x7/2 + residual 64->128, max-pool, residual
128->F, residual F->F, depth-4 hourglasses, `fc` 1x1 conv + BN + ReLU, `score` heads, `fc_`/`score_` remaps between
stacks); only the names differ, mapped here for any number of stacks and blocks. pytorch-pose's input is
RGB / 255 minus its dataset mean (`mean.pth.tar`, {mean, std}; the std is not used), so the written normalisation
is that mean with std 1, and `model.normalise_input` then computes exactly pytorch-pose's input.

Read with `torch.load(weights_only=True)`: the 2018-era file format and the zip format both load that way.
"""
from __future__ import annotations

import argparse
import pickle
import re
import sys
import zipfile
from collections.abc import Mapping
from pathlib import Path

import torch

from stacked_hourglass.checkpoint import checkpoint_fields, load_hourglass
from stacked_hourglass.model import HourglassConfig, HourglassNet
from utils.checkpoints import save_checkpoint
from utils.cli import Parser, one_line_errors
from utils.errors import InputError
from utils.run_logging import get_logger

# The mean of pytorch-pose's data/mpii/mean.pth.tar (RGB, [0, 1]; it prints as [0.4404, 0.4440, 0.4327]), used
# when no --mean is given. These are its float32 values as pytorch-pose applies them: image / 255 - input of the
# reference in specimens/peers/bearpaw_hg_s2_b1_reference.npz, the same for every pixel.
PYTORCH_POSE_MPII_MEAN_RGB = (0.44044283, 0.4440267, 0.43268284)
# pytorch-pose Bottleneck layer -> index in this project's Residual.branch (BN, ReLU, conv) x 3.
_BOTTLENECK = {"bn1": "branch.0", "conv1": "branch.2", "bn2": "branch.3", "conv2": "branch.5", "bn3": "branch.6",
               "conv3": "branch.8", "downsample.0": "skip"}
_STEM = {"conv1": "stem.0", "bn1": "stem.1", "layer1.0": "stem.3", "layer2.0": "stem.5", "layer3.0": "stem.6"}
_HOURGLASS_BRANCH = {0: "skip", 1: "down", 2: "up"}  # pytorch-pose hg[level][branch]; branch 3: the innermost


def read_torch_file(path: str | Path, what: str) -> object:
    """A torch file read without running code (weights_only); clear errors for a missing or foreign file."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{what} not found: {path}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, zipfile.BadZipFile, EOFError, RuntimeError, OSError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InputError(f"{path}: cannot be read as a {what} (truncated, corrupt, or it holds Python objects other "
                         f"than tensors and literals): {first_line}") from error


def bearpaw_state(payload: object, path: Path) -> dict[str, torch.Tensor]:
    """The state dict of a pytorch-pose checkpoint ({epoch, arch, state_dict, best_acc, optimizer}, or a bare
    state dict), without DataParallel's `module.` prefix."""
    state = payload.get("state_dict", payload) if isinstance(payload, Mapping) else None
    if not isinstance(state, Mapping) or not state or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise InputError(f"{path}: not a pytorch-pose checkpoint (expected a dict with 'state_dict' of tensors)")
    return {key.removeprefix("module."): value for key, value in state.items()}


def _count(state: Mapping[str, torch.Tensor], pattern: str) -> int:
    """1 + the largest index N of the keys matching `pattern` (a regex with one group for N); 0 when none."""
    found = [int(m.group(1)) for key in state if (m := re.match(pattern, key))]
    return max(found) + 1 if found else 0


def bearpaw_config(state: Mapping[str, torch.Tensor], path: Path) -> HourglassConfig:
    """The HourglassConfig of a pytorch-pose hourglass state dict (stacks, blocks, features, joints, depth)."""
    if "score.0.weight" not in state or "conv1.weight" not in state:
        raise InputError(f"{path}: its state_dict has no 'score.0.weight' / 'conv1.weight': not pytorch-pose's "
                         f"hourglass ('hg' arch)")
    joints, features = state["score.0.weight"].shape[:2]
    return HourglassConfig(stacks=_count(state, r"score\.(\d+)\."), blocks=_count(state, r"res\.0\.(\d+)\."),
                           features=int(features), num_joints=int(joints), depth=_count(state, r"hg\.0\.hg\.(\d+)\."))


def _bottleneck_key(rest: str) -> str:
    """'bn1.weight' -> 'branch.0.weight' (a Bottleneck's own layer names to Residual's)."""
    for theirs, ours in _BOTTLENECK.items():
        if rest.startswith(theirs + "."):
            return ours + rest[len(theirs):]
    raise KeyError(rest)


def our_key(key: str, depth: int) -> str:
    """One pytorch-pose key (without `module.`) -> this project's HourglassNet key; KeyError if unknown."""
    for theirs, ours in _STEM.items():
        if key.startswith(theirs + "."):
            rest = key[len(theirs) + 1:]
            return f"{ours}.{rest}" if theirs in ("conv1", "bn1") else f"{ours}.{_bottleneck_key(rest)}"
    if m := re.fullmatch(r"hg\.(\d+)\.hg\.(\d+)\.(\d+)\.(\d+)\.(.+)", key):
        stack, level, branch, block, rest = int(m[1]), int(m[2]), int(m[3]), int(m[4]), m[5]
        # pytorch-pose's hg[level] serves the recursion at depth level + 1 (level depth - 1 is the outermost).
        inner = "inner." * (depth - 1 - level)
        where = "inner.0" if branch == 3 else _HOURGLASS_BRANCH[branch]
        return f"hourglasses.{stack}.{inner}{where}.{block}.{_bottleneck_key(rest)}"
    if m := re.fullmatch(r"res\.(\d+)\.(\d+)\.(.+)", key):
        return f"features.{m[1]}.0.{m[2]}.{_bottleneck_key(m[3])}"
    if m := re.fullmatch(r"fc\.(\d+)\.([01])\.(.+)", key):
        return f"features.{m[1]}.{int(m[2]) + 1}.{m[3]}"
    for theirs, ours in (("score", "heads"), ("fc_", "remap_features"), ("score_", "remap_heatmaps")):
        if m := re.fullmatch(rf"{theirs}\.(\d+)\.(weight|bias)", key):
            return f"{ours}.{m[1]}.{m[2]}"
    raise KeyError(key)


def convert_state(state: Mapping[str, torch.Tensor], config: HourglassConfig, path: Path) -> dict[str, torch.Tensor]:
    """pytorch-pose state dict -> HourglassNet's, every key and shape checked against the network `config` builds."""
    expected = HourglassNet(config).state_dict()
    converted, unknown = {}, []
    for key, value in state.items():
        try:
            converted[our_key(key, config.depth)] = value
        except KeyError:
            unknown.append(key)
    missing = sorted(set(expected) - set(converted))
    extra = sorted(set(converted) - set(expected)) + unknown
    if missing or extra:
        raise InputError(f"{path}: its state_dict does not match a {config.stacks}-stack, {config.blocks}-block "
                         f"hourglass: {len(missing)} tensors missing (first: {missing[:3]}), {len(extra)} unexpected "
                         f"(first: {extra[:3]})")
    wrong = [key for key in expected if converted[key].shape != expected[key].shape]
    if wrong:
        key = wrong[0]
        raise InputError(f"{path}: tensor for '{key}' has shape {tuple(converted[key].shape)}, expected "
                         f"{tuple(expected[key].shape)}")
    return {key: converted[key] for key in expected}


def read_mean_rgb(path: str | Path | None) -> tuple[torch.Tensor, str]:
    """pytorch-pose's dataset mean (3,) in [0, 1] from its mean.pth.tar ({mean, std}), or the MPII default."""
    if path is None:
        return torch.tensor(PYTORCH_POSE_MPII_MEAN_RGB), ("the default, pytorch-pose's MPII mean "
                                                          "(data/mpii/mean.pth.tar; give --mean for another dataset's)")
    payload = read_torch_file(path, "pytorch-pose mean file")
    mean = payload.get("mean") if isinstance(payload, Mapping) else None
    if not isinstance(mean, torch.Tensor) or mean.numel() != 3 or not torch.isfinite(mean).all():
        raise InputError(f"{path}: expected a dict with 'mean', 3 finite RGB values in [0, 1] (pytorch-pose's "
                         f"mean.pth.tar)")
    return mean.reshape(3).float(), str(path)


def convert_bearpaw(checkpoint: str | Path, output: str | Path, mean_file: str | Path | None = None) -> Path:
    """Convert a pytorch-pose checkpoint (see the module docstring); returns the written path."""
    logger = get_logger()
    checkpoint = Path(checkpoint)
    payload = read_torch_file(checkpoint, "pytorch-pose checkpoint")
    state = bearpaw_state(payload, checkpoint)
    config = bearpaw_config(state, checkpoint)
    model_state = convert_state(state, config, checkpoint)
    mean_rgb, mean_source = read_mean_rgb(mean_file)
    source = {key: payload[key] for key in ("epoch", "arch", "best_acc")
              if isinstance(payload, Mapping) and isinstance(payload.get(key), (int, float, str))}
    fields = checkpoint_fields(config, mean_rgb.numpy(), torch.ones(3).numpy())
    save_checkpoint(output, {**fields, "model_state": model_state, "epoch": 0, "step": 0, "best_metric": None,
                             "options": {"converted_from": str(checkpoint)},
                             "extra": {"converted_from": "pytorch-pose", "source": str(checkpoint), **source,
                                       "mean_source": mean_source}})
    parameters = sum(value.numel() for key, value in model_state.items() if not key.endswith(
        ("running_mean", "running_var", "num_batches_tracked")))
    logger.info(f"{checkpoint}: pytorch-pose hourglass, {config.stacks} stacks, {config.blocks} blocks, "
                f"{config.features} features, {config.num_joints} joints ({parameters:,} parameters)"
                + (f", epoch {source['epoch']}" if "epoch" in source else ""))
    logger.info(f"input normalisation: RGB / 255 minus mean {[round(float(v), 6) for v in mean_rgb]} (std 1, as "
                f"pytorch-pose), from {mean_source}")
    load_hourglass(output)  # the written file reads back as a hourglass checkpoint
    logger.info(f"wrote {output}")
    return Path(output)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m stacked_hourglass.convert_checkpoint", description=__doc__.splitlines()[0])
    parser.add_argument("--bearpaw", required=True, help="pytorch-pose checkpoint (model_best.pth.tar / checkpoint.pth.tar)")
    parser.add_argument("--mean", default=None,
                        help="pytorch-pose's mean.pth.tar of the training data (default: its MPII mean "
                             "[0.4404, 0.4440, 0.4327])")
    parser.add_argument("--output", required=True, help="the stitchpose checkpoint to write (.pt)")
    return parser


@one_line_errors("convert_checkpoint")
def main(argv: list[str] | None = None) -> int:
    opts = build_parser().parse_args(argv)
    convert_bearpaw(opts.bearpaw, opts.output, opts.mean)
    return 0


if __name__ == "__main__":
    sys.exit(main())
