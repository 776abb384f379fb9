"""`python -m twod_threed.convert_checkpoint --weigq CKPT --stat_3d stat_3d.pth.tar --data_dir D --output OUT.pt`:
a released 3d_pose_baseline_pytorch (weigq) lifter -> a lifter checkpoint of this project.

- CKPT (`ckpt_best.pth.tar`): {epoch, lr, step, err, state_dict (37 tensors), optimizer}; its `LinearModel` is the
  same network as `twod_threed.model.Lifter` (4,291,632 parameters at linear_size 1024, 2 stages), key for key:
  w1 -> stem.0, batch_norm1 -> stem.1, linear_stages.i.{w1, batch_norm1, w2, batch_norm2} ->
  blocks.i.layers.{0, 1, 4, 5}, w2 -> head.
- stat_3d.pth.tar: NumPy arrays {mean (96,), std (96,), dim_use (48,), dim_ignore}: the 3D output statistics
  (mm, root-relative camera frame, all 32 joints); dim_use must pick H36M16_3D (the 17 joints minus the hip).
- The release ships no 2D statistics (its inputs come normalised in its data files), so the 2D mean/std are
  computed here, as the baseline did, from the 2D training poses (ground-truth projections, px) of --data_dir
  (any layout the loaders read, e.g. the output of `convert_h36m`). Normalisation mode: "dataset".
Both files are read with `utils.peer_files.load_peer_torch_file` (weights_only, plus NumPy arrays only).

The imported weights are kept exactly as released: the checkpoint's model_config has max_norm = 0, so no per-unit
renormalisation (this project's max-norm) is applied to them, now or when training continues from the file. The
three max-norm conventions: this project renormalises each unit's incoming weights (each Linear row) after every
step; the PyTorch port clips the gradient norm instead (its weights are not bounded); the TensorFlow original clips
each weight tensor's norm (`tf.clip_by_norm`). A port's weights projected with this project's rule would change
its outputs.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np
import torch

from twod_threed.checkpoint import checkpoint_fields, load_lifter
from twod_threed.data import load_pose_pairs
from twod_threed.h36m_files import TRAIN_SUBJECTS
from twod_threed.model import Lifter, LifterConfig, count_parameters
from twod_threed.normalization import Normaliser, dataset_statistics
from utils.checkpoints import save_checkpoint
from utils.cli import Parser, one_line_errors
from utils.errors import InputError
from utils.peer_files import load_peer_torch_file
from utils.run_logging import get_logger
from utils.skeletons import H36M17_FROM_32, H36M16_3D_FROM_17

SOURCE = "3d_pose_baseline_pytorch"
# The 48 dimensions of the 96 (32 joints x xyz) that the lifter predicts, in H36M16_3D order.
DIM_USE_3D = np.array([3 * H36M17_FROM_32[j] + axis for j in H36M16_3D_FROM_17 for axis in range(3)])
_RENAMES = ((r"^w1\.", "stem.0."), (r"^batch_norm1\.", "stem.1."),
            (r"^linear_stages\.(\d+)\.w1\.", r"blocks.\1.layers.0."),
            (r"^linear_stages\.(\d+)\.batch_norm1\.", r"blocks.\1.layers.1."),
            (r"^linear_stages\.(\d+)\.w2\.", r"blocks.\1.layers.4."),
            (r"^linear_stages\.(\d+)\.batch_norm2\.", r"blocks.\1.layers.5."), (r"^w2\.", "head."))


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m twod_threed.convert_checkpoint", description=__doc__.splitlines()[1])
    parser.add_argument("--weigq", type=Path, required=True, help="3d_pose_baseline_pytorch ckpt_best.pth.tar")
    parser.add_argument("--stat_3d", type=Path, required=True, help="its stat_3d.pth.tar (3D mean/std, dim_use)")
    parser.add_argument("--data_dir", type=Path, default=None,
                        help="Human3.6M poses to compute the 2D statistics from (required: the release has none)")
    parser.add_argument("--train_subjects", type=int, nargs="+", default=list(TRAIN_SUBJECTS),
                        help="subjects whose 2D poses give the 2D statistics")
    parser.add_argument("--output", type=Path, required=True, help="the lifter checkpoint to write (.pt)")
    return parser


def lifter_state(state_dict: dict[str, torch.Tensor], path: Path) -> tuple[dict[str, torch.Tensor], LifterConfig]:
    """weigq `LinearModel` keys -> `Lifter` keys, and the matching config (max_norm 0: weights as released)."""
    renamed = {}
    for key, value in state_dict.items():
        original = key.removeprefix("module.")  # DataParallel
        new = original
        for pattern, replacement in _RENAMES:
            new = re.sub(pattern, replacement, new)
        if new == original:
            raise InputError(f"{path}: state_dict key '{key}' is not one of 3d_pose_baseline_pytorch's LinearModel")
        renamed[new] = value
    if "stem.0.weight" not in renamed or "head.weight" not in renamed:
        raise InputError(f"{path}: state_dict lacks 'w1.weight' or 'w2.weight' (not a LinearModel checkpoint)")
    stages = {int(m.group(1)) for k in renamed if (m := re.match(r"blocks\.(\d+)\.", k))}
    linear_size, input_size = renamed["stem.0.weight"].shape
    config = LifterConfig(input_size=int(input_size), output_size=int(renamed["head.weight"].shape[0]),
                          linear_size=int(linear_size), num_stage=len(stages), dropout=0.5, max_norm=0.0)
    expected = Lifter(config).state_dict()
    for key, value in expected.items():  # checkpoints of PyTorch < 0.4 lack the batch-norm step counters
        if key.endswith("num_batches_tracked") and key not in renamed:
            renamed[key] = value
    missing, unexpected = sorted(set(expected) - set(renamed)), sorted(set(renamed) - set(expected))
    wrong = [k for k in expected if k in renamed and tuple(renamed[k].shape) != tuple(expected[k].shape)]
    if missing or unexpected or wrong:
        raise InputError(f"{path}: state_dict does not fit a LinearModel of linear_size {linear_size} with "
                         f"{len(stages)} stages (missing {missing[:3]}, unexpected {unexpected[:3]}, wrong shape "
                         f"{wrong[:3]})")
    return {k: renamed[k].to(expected[k].dtype) for k in expected}, config


def statistics_3d(stat_3d: dict, path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean_3d (48,), std_3d (48,)) mm in H36M16_3D order from stat_3d's mean, std (96,) and dim_use (48,)."""
    if not isinstance(stat_3d, dict) or not {"mean", "std", "dim_use"} <= set(stat_3d):
        found = sorted(stat_3d) if isinstance(stat_3d, dict) else type(stat_3d).__name__
        raise InputError(f"{path}: expected a dict with 'mean', 'std' (96,) and 'dim_use' (48,); found {found}")
    mean, std, dim_use = (np.asarray(stat_3d[k]).reshape(-1) for k in ("mean", "std", "dim_use"))
    for field, values, size in (("mean", mean, 96), ("std", std, 96)):
        if values.shape != (size,) or not np.isfinite(values).all():
            raise InputError(f"{path}: '{field}' has shape {values.shape} or non-finite values, expected ({size},)")
    if dim_use.shape != (48,) or not np.array_equal(dim_use, DIM_USE_3D):
        raise InputError(f"{path}: 'dim_use' is {dim_use.tolist()[:9]}..., expected the 16 joints of H36M16_3D "
                         f"({DIM_USE_3D.tolist()[:9]}...)")
    return torch.as_tensor(mean[dim_use]).float(), torch.as_tensor(std[dim_use]).float()


def statistics_2d(data_dir: Path | None, subjects: tuple[int, ...]) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean_2d (32,), std_2d (32,)) px of the ground-truth 2D training poses of `data_dir` (H36M16_2D order)."""
    if data_dir is None:
        raise InputError("--data_dir is required: 3d_pose_baseline_pytorch ships no 2D statistics, so they are "
                         "computed from the Human3.6M 2D training poses (a folder any loader reads, e.g. the output "
                         "of python -m twod_threed.convert_h36m)")
    pairs = load_pose_pairs(data_dir, subjects, input_2d="gt")
    stats = dataset_statistics(pairs.joints_2d_px, pairs.root_relative_mm, "dataset")
    return stats["mean_2d"], stats["std_2d"]


def convert_weigq(checkpoint: Path, stat_3d: Path, data_dir: Path | None, output: Path,
                  train_subjects: tuple[int, ...] = TRAIN_SUBJECTS) -> Path:
    """Write `output`, a lifter checkpoint `twod_threed.checkpoint.load_lifter` reads (see the module docstring)."""
    released = load_peer_torch_file(checkpoint, f"a {SOURCE} checkpoint (ckpt_best.pth.tar)")
    if not isinstance(released, dict) or "state_dict" not in released:
        raise InputError(f"{checkpoint}: no 'state_dict' (expected a {SOURCE} checkpoint: epoch, lr, step, err, "
                         f"state_dict, optimizer)")
    state, config = lifter_state(released["state_dict"], checkpoint)
    mean_3d, std_3d = statistics_3d(load_peer_torch_file(stat_3d, f"a {SOURCE} stat_3d.pth.tar"), stat_3d)
    mean_2d, std_2d = statistics_2d(data_dir, tuple(train_subjects))
    normaliser = Normaliser("dataset", mean_2d, std_2d, mean_3d, std_3d)
    imported = {"source": SOURCE, "checkpoint": str(checkpoint), "stat_3d": str(stat_3d),
                "epoch": int(released.get("epoch") or 0), "err": float(released.get("err") or 0.0),
                "stats_2d_from": str(data_dir), "stats_2d_subjects": list(train_subjects)}
    payload = {**checkpoint_fields(config, normaliser, {"imported": imported}), "model_state": state,
               "epoch": imported["epoch"], "options": {}}
    return save_checkpoint(output, payload)


@one_line_errors("convert_checkpoint")
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    output = convert_weigq(args.weigq, args.stat_3d, args.data_dir, args.output, tuple(args.train_subjects))
    model, _, _ = load_lifter(output)
    get_logger().info(f"convert_checkpoint: {args.weigq} -> {output} (lifter, {count_parameters(model):,} "
                      f"parameters, weights as released: max_norm 0; run.py 2d3d_h36m --load {output})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
