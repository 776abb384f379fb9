"""`python -m generative_models.evaluate --load RUN/last.pt`: how good a trained pose prior is.

1. The critic's ROC AUC for real held-out poses against corrupted copies of them, per corruption kind
   (`corruptions.CORRUPTIONS`: a limb's bones x1.3, left/right limb swap, elbow/knee hyperextended 45-90 degrees).
   Scores are `PosePrior.score`, the same numbers a training loss sees.
2. The generator's bone lengths: mean absolute difference over the 16 bones of the mean generated length and the
   mean real length, in mm. Generated poses come out scale-normalised (mean bone length 1); they are put in mm with
   the training poses' mean bone length, so this measures the body proportions (the overall size matches by
   construction).
3. The generator's diversity against real held-out poses, in the prior representation: `spread_ratio` (mean
   pairwise distance, generated / real; ~1 is good, ~0 is mode collapse) and `coverage_ratio` (distance from a
   held-out pose to the nearest generated one, relative to the nearest of as many training poses; ~1 is good).
Writes OUTPUT_DIR/pose_prior_eval.json and OUTPUT_DIR/pose_prior_eval.png (ROC curves, bone-length histograms) and
prints the JSON on one line.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from generative_models.checkpoint import load_generator
from generative_models.corruptions import CORRUPTIONS, corrupt
from generative_models.dataset import root_relative_poses
from generative_models.fc_gan import Generator
from generative_models.prior import PosePrior
from generative_models.pose_representation import bone_lengths, prior_representation
from generative_models.prior_metrics import (bone_length_difference_mm, coverage_ratio, mean_bone_lengths_mm, roc_auc,
                                             roc_curve, spread_ratio)
from twod_threed.h36m_files import TEST_SUBJECTS, TRAIN_SUBJECTS, h36m_folder
from utils.atomic import save_figure_atomic, write_text_atomic
from utils.cli import Parser, one_line_errors
from utils.skeletons import H36M17
from utils.validation import check_output_location


def parse_options(argv: list[str] | None) -> argparse.Namespace:
    parser = Parser(prog="python -m generative_models.evaluate", description=__doc__.split("\n")[0])
    parser.add_argument("--load", required=True, help="a train.py 3d_pose_gan checkpoint")
    parser.add_argument("--data_dir", default=None, help="dataset root (default: the embedded synthetic dataset)")
    parser.add_argument("--output_dir", default="outputs/pose_prior_eval", help="folder for the JSON and the PNG")
    parser.add_argument("--frame_stride", type=int, default=4, help="keep every N-th frame of each sequence")
    parser.add_argument("--max_poses", type=int, default=4000, help="held-out poses evaluated (random subset)")
    parser.add_argument("--num_samples", type=int, default=4000, help="generated poses for the bone lengths")
    parser.add_argument("--seed", type=int, default=0, help="seed of the subset, the corruptions and the noise")
    parser.add_argument("--device", default="cpu", help="torch device: cpu, cuda, cuda:1, ...")
    return parser.parse_args(argv)


@torch.no_grad()
def evaluate(prior: PosePrior, generator: Generator, mean_bone_length_mm: float, real_test_mm: torch.Tensor,
             real_train_mm: torch.Tensor, num_samples: int, seed: int) -> tuple[dict, dict]:
    """(metrics for the JSON, arrays for the figure)."""
    seeded = torch.Generator().manual_seed(seed)
    real_scores = prior.score(real_test_mm).cpu()
    metrics: dict = {"real_poses": len(real_test_mm), "auc": {}}
    curves = {}
    for kind in CORRUPTIONS:
        corrupted_scores = prior.score(corrupt(real_test_mm, kind, seeded)).cpu()
        metrics["auc"][kind] = roc_auc(real_scores, corrupted_scores)
        curves[kind] = roc_curve(real_scores, corrupted_scores)
    generated_mm = generator.sample(num_samples, generator=seeded).cpu() * mean_bone_length_mm
    metrics["generated_poses"] = num_samples
    metrics["bone_length_mad_mm"] = bone_length_difference_mm(generated_mm, real_train_mm)
    metrics["bone_length_mad_mm_vs_test"] = bone_length_difference_mm(generated_mm, real_test_mm)
    generated, real = prior_representation(generated_mm), prior_representation(real_test_mm)
    picked = torch.randperm(len(real_train_mm), generator=seeded)[:num_samples]
    metrics["spread_ratio"] = spread_ratio(generated, real)
    metrics["coverage_ratio"] = coverage_ratio(generated, real, prior_representation(real_train_mm[picked]))
    bone_names = [H36M17.joint_names[child] for _, child in H36M17.bones]
    metrics["mean_bone_length_mm"] = {
        name: {"real_train": round(float(train), 1), "generated": round(float(generated), 1)}
        for name, train, generated in zip(bone_names, mean_bone_lengths_mm(real_train_mm),
                                          mean_bone_lengths_mm(generated_mm))}
    arrays = {"curves": curves, "bone_names": bone_names, "generated": bone_lengths(generated_mm),
              "real": bone_lengths(real_train_mm)}
    return metrics, arrays


def draw(arrays: dict, metrics: dict, path: Path) -> None:
    """ROC curves (left) and histograms of six bone lengths, real training poses vs generated (right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure = plt.figure(figsize=(14, 6), constrained_layout=True)
    grid = figure.add_gridspec(2, 5)
    roc_axes = figure.add_subplot(grid[:, :2])
    for kind, (false_positive, true_positive) in arrays["curves"].items():
        roc_axes.plot(false_positive, true_positive, label=f"{kind} (AUC {metrics['auc'][kind]:.3f})")
    roc_axes.plot([0, 1], [0, 1], color="grey", linestyle=":")
    roc_axes.set(xlabel="corrupted poses ranked above the threshold", ylabel="real poses ranked above the threshold",
                 title="critic ROC: real held-out vs corrupted", aspect="equal")
    roc_axes.legend(loc="lower right")
    shown = ("r_knee", "r_foot", "spine", "thorax", "l_elbow", "l_wrist")  # thigh, shin, spine, ..., forearm
    for index, child_name in enumerate(shown):
        axes = figure.add_subplot(grid[index // 3, 2 + index % 3])
        bone = arrays["bone_names"].index(child_name)
        real, generated = arrays["real"][:, bone].numpy(), arrays["generated"][:, bone].numpy()
        low, high = min(real.min(), generated.min()), max(real.max(), generated.max())
        bins = torch.linspace(float(low), float(high) + 1e-3, 40).numpy()
        axes.hist(real, bins=bins, density=True, alpha=0.6, label="real (train)")
        axes.hist(generated, bins=bins, density=True, alpha=0.6, label="generated")
        parent_name = H36M17.joint_names[H36M17.parents[H36M17.index(child_name)]]
        axes.set(title=f"{parent_name} -> {child_name}", xlabel="length (mm)", yticks=[])
        if index == 0:
            axes.legend(fontsize=8)
    figure.suptitle(f"pose prior: bone-length difference {metrics['bone_length_mad_mm']:.1f} mm")
    path.parent.mkdir(parents=True, exist_ok=True)
    save_figure_atomic(figure, path, dpi=90)
    plt.close(figure)


@one_line_errors("generative_models.evaluate")
def main(argv: list[str] | None = None) -> int:
    opts = parse_options(argv)
    check_output_location(opts.output_dir, "--output_dir")  # before the work, which would be lost
    prior = PosePrior.from_checkpoint(opts.load, opts.device)
    generator, _, extras = load_generator(opts.load, opts.device)
    mean_bone_length_mm = extras["mean_bone_length_mm"]
    folder = h36m_folder(opts.data_dir)
    test_mm = root_relative_poses(folder, TEST_SUBJECTS, opts.frame_stride)
    train_mm = root_relative_poses(folder, TRAIN_SUBJECTS, opts.frame_stride)
    picked = torch.randperm(len(test_mm), generator=torch.Generator().manual_seed(opts.seed))[:opts.max_poses]
    metrics, arrays = evaluate(prior, generator, mean_bone_length_mm, test_mm[picked], train_mm,
                               opts.num_samples, opts.seed)
    metrics = {"checkpoint": str(opts.load), "data": str(folder), **metrics}
    output_dir = Path(opts.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    write_text_atomic(json.dumps(metrics, indent=1) + "\n", output_dir / "pose_prior_eval.json")
    draw(arrays, metrics, output_dir / "pose_prior_eval.png")
    print(json.dumps({key: metrics[key] for key in ("auc", "bone_length_mad_mm", "bone_length_mad_mm_vs_test",
                                                    "spread_ratio", "coverage_ratio", "real_poses",
                                                    "generated_poses")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
