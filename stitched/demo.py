"""The main job, end to end on the embedded synthetic dataset (`make demo`, or `python -m stitched.demo`).

Generates the data (once), trains a small hourglass and a lifter, stitches them and fine-tunes end to end, runs the
stitched network on held-out MPII-format images, scores it (`eval.py mpii_PCKh`, `eval.py h36m_MPJPE`) and draws
pictures (`viz.py`). Every step is one of the four commands, called with the arguments printed before it, so each
can be rerun by hand. About 10 minutes on an idle 2-core machine (9.4 min wall measured, data already generated);
`--quick` shrinks every step to check the wiring in a few minutes.
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import eval as eval_command
import run as run_command
import train as train_command
import viz as viz_command
from synthetic import default_data_dir
from utils.run_logging import get_logger

COMMANDS = {"train": train_command.main, "run": run_command.main, "eval": eval_command.main, "viz": viz_command.main}


def step(command: str, args: list[str]) -> None:
    """Run `python COMMAND.py ARGS` in this process, stopping the demo if it fails."""
    logger = get_logger()
    logger.info(f"\n$ python {command}.py {shlex.join(args)}")
    started = time.monotonic()
    status = COMMANDS[command](args)
    if status:
        raise SystemExit(f"demo stopped: `python {command}.py {args[0]}` exited with status {status}")
    logger.info(f"  ({time.monotonic() - started:.0f} s)")


def stage_arguments(quick: bool) -> dict[str, list[str]]:
    """Per-stage training arguments: the documented small CPU configuration, or a wiring check with --quick."""
    hourglass = ["--stacks", "1", "--features", "64", "--input_res", "128", "--batch_size", "16",
                 "--optimizer", "adam", "--lr", "1e-3", "--lr_schedule", "cosine", "--amp"]
    if quick:
        return {"hourglass": hourglass + ["--epochs", "1", "--max_train_minutes", "0.3", "--valid_limit", "40"],
                "lifter": ["--epochs", "2", "--linear_size", "256"],
                "stitched": ["--epochs", "1", "--batch_size", "8"]}
    return {"hourglass": hourglass + ["--epochs", "18", "--max_train_minutes", "7"],  # cosine over the 7 minutes
            "lifter": ["--epochs", "1"],
            "stitched": ["--epochs", "3", "--batch_size", "8", "--lr", "5e-5", "--heatmap_loss_weight", "1.0"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output_dir", default="outputs/demo", help="predictions, tables and pictures")
    parser.add_argument("--checkpoint_dir", default="model_checkpoints", help="training runs")
    parser.add_argument("--quick", action="store_true", help="tiny budgets: checks the wiring in a few minutes")
    opts = parser.parse_args(argv)
    started = time.monotonic()
    out, checkpoints = Path(opts.output_dir), opts.checkpoint_dir
    exp = "quick" if opts.quick else "demo"
    data_dir = default_data_dir()
    stages = stage_arguments(opts.quick)
    common = ["--checkpoint_dir", checkpoints, "--exp", exp]

    step("train", ["hourglass_mpii", *common, *stages["hourglass"]])
    hourglass = f"{checkpoints}/hourglass_mpii_{exp}/best.pt"
    step("train", ["2d3d_h36m", *common, *stages["lifter"]])
    lifter = f"{checkpoints}/2d3d_h36m_{exp}/best.pt"
    step("train", ["stitched_h36m", *common, "--load_hourglass", hourglass, "--load_2d3d", lifter,
                   *stages["stitched"]])
    stitched = f"{checkpoints}/stitched_h36m_{exp}/best.pt"

    step("run", ["stitched_mpii", "--load", stitched, "--output_dir", str(out / "stitched")])
    step("eval", ["mpii_PCKh", "--prediction_files", str(out / "stitched" / "stitched_predictions.npz"),
                  "--model_names", "stitched", "--output_dir", str(out / "pckh")])
    step("run", ["2d3d_h36m", "--load", lifter, "--input", str(data_dir / "h36m" / "data_2d_h36m_gt.npz"),
                 "--subjects", "9", "11", "--output_dir", str(out / "lifter")])
    step("eval", ["h36m_MPJPE", "--predictions", str(out / "lifter" / "predictions_3d.npz"),
                  "--output_dir", str(out / "mpjpe")])
    if "2d_overlay_3d_pred" in viz_command.SCRIPTS:
        step("viz", ["2d_overlay_3d_pred", "--img_dir", str(data_dir / "mpii" / "images"),
                     "--2d_pose_estimations", str(out / "stitched" / "stitched_predictions.npz"),
                     "--3d_pose_estimation", str(out / "stitched" / "stitched_predictions.npz"),
                     "--output_dir", str(out / "pictures"), "--max_images", "6"])

    pckh = json.loads((out / "pckh" / "stitched_pckh.json").read_text())
    mpjpe = json.loads((out / "mpjpe" / "h36m_MPJPE.json").read_text())
    from utils.checkpoints import load_checkpoint

    fine_tuned = load_checkpoint(stitched, kind="stitched")
    before = fine_tuned["extra"]["before_fine_tuning"]["mpjpe_mm"]
    logger = get_logger()
    logger.info(f"\nstitchpose demo finished in {(time.monotonic() - started) / 60:.1f} min. Headline numbers "
                f"(synthetic data, {exp} budget):")
    logger.info(f"  stitched RGB -> 2D, MPII-format validation images: PCKh@0.5 {pckh['Mean']:.2f} %")
    logger.info(f"  lifter from ground-truth 2D, test subjects S9 S11: MPJPE "
                f"{mpjpe['average_over_actions']['mpjpe_mm']:.2f} mm (mean over actions, 17 joints)")
    logger.info(f"  stitched RGB -> 3D, test frames: MPJPE {before:.2f} mm stitched as trained separately -> "
                f"{fine_tuned['best_metric']:.2f} mm fine-tuned end to end")
    logger.info(f"  results: {out.resolve()}  (pictures: {(out / 'pictures').resolve()})")
    logger.info(f"  checkpoints: {Path(checkpoints).resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
