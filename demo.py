"""The main job, end to end on the embedded synthetic dataset (`make demo`, or `python demo.py`).

Generates the data (once), trains a small hourglass and a lifter, stitches them and fine-tunes end to end, runs the
stitched network on held-out MPII-format images, scores it (`eval.py mpii_PCKh`, `eval.py h36m_MPJPE`) and draws
pictures (`viz.py`). Every step is one of the four commands, called with the arguments printed before it, so each
can be rerun by hand.

The work is fixed (epochs, not minutes) and computed in fp32, so the headline numbers are the same on every machine
up to float noise; `--amp` trains in the precision the device runs natively instead (utils/precision.py), which
changes them a little. Every stage runs in this one process on torch's threads: two one-thread processes under
torchrun run the hourglass's epochs about 10 % faster on 2 cores, but each normalises over half the batch, which at
this schedule costs more accuracy than the time buys (README.md). The measured time and figures, and the CPU they
were measured on, are in README.md; `--quick` shrinks every step to check the wiring in a few minutes.
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
from stacked_hourglass.checkpoint import KIND as HOURGLASS_KIND
from stitched.checkpoint import KIND as STITCHED_KIND
from synthetic import default_data_dir
from utils.checkpoints import load_checkpoint
from utils.machine import describe_machine, matmul_gflops
from utils.precision import choose_precision
from utils.run_logging import get_logger

COMMANDS = {"train": train_command.main, "run": run_command.main, "eval": eval_command.main, "viz": viz_command.main}
REFERENCE_MATMUL_GFLOPS = 87.0  # the AVX2 reference CPU (2 cores), 2048 x 2048 fp32 on 2 threads


def step(command: str, args: list[str]) -> float:
    """Run `python COMMAND.py ARGS` in this process, stopping the demo if it fails; returns the wall seconds."""
    logger = get_logger()
    started = time.monotonic()
    logger.info(f"\n$ python {command}.py {shlex.join(args)}")
    status = COMMANDS[command](args)
    if status:
        raise SystemExit(f"demo stopped: `python {command}.py {args[0]}` exited with status {status}")
    seconds = time.monotonic() - started
    logger.info(f"  ({seconds:.0f} s)")
    return seconds


def stage_arguments(quick: bool) -> dict[str, list[str]]:
    """Per-stage training arguments: the demo's fixed CPU configuration, or a wiring check with --quick."""
    # A short schedule learns more per sample with milder augmentation than the published recipe (README's table).
    hourglass = ["--stacks", "1", "--features", "64", "--early_pool", "--input_res", "128", "--batch_size", "16",
                 "--optimizer", "adam", "--lr", "1e-3", "--lr_schedule", "cosine",
                 "--rotation_prob", "0.2", "--scale_octaves", "0.15"]
    if quick:
        return {"hourglass": hourglass + ["--epochs", "1", "--valid_limit", "40"],
                "lifter": ["--epochs", "1", "--linear_size", "128"],
                "stitched": ["--epochs", "1", "--batch_size", "8"]}
    return {"hourglass": hourglass + ["--epochs", "9"],
            "lifter": ["--epochs", "1", "--linear_size", "512"],
            "stitched": ["--epochs", "3", "--batch_size", "8", "--lr", "5e-5", "--heatmap_loss_weight", "1.0",
                         "--keep_batch_norm_statistics"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output_dir", default="outputs/demo", help="predictions, tables and pictures")
    parser.add_argument("--checkpoint_dir", default="model_checkpoints", help="training runs")
    parser.add_argument("--quick", action="store_true", help="tiny budgets: checks the wiring in a few minutes")
    parser.add_argument("--amp", action="store_true",
                        help="train and run in the mixed precision this device runs natively (changes the figures)")
    opts = parser.parse_args(argv)
    logger = get_logger()
    started = time.monotonic()
    precision = choose_precision("cpu", opts.amp)
    matmul = [matmul_gflops()]
    logger.info(f"stitchpose demo on {describe_machine()}; fp32 2048x2048 matmul {matmul[0]:.0f} GFLOP/s "
                f"(the AVX2 reference CPU: {REFERENCE_MATMUL_GFLOPS:.0f}); {precision.describe()}")
    out, checkpoints = Path(opts.output_dir), opts.checkpoint_dir
    exp = "quick" if opts.quick else "demo"
    stages = stage_arguments(opts.quick)
    amp = ["--amp"] if opts.amp else []
    common = ["--checkpoint_dir", checkpoints, "--exp", exp, "--overwrite", *amp]  # a rerun starts afresh
    seconds: dict[str, float] = {}

    data_started = time.monotonic()
    data_dir = default_data_dir()
    seconds["data"] = time.monotonic() - data_started
    seconds["hourglass"] = step("train", ["hourglass_mpii", *common, *stages["hourglass"]])
    hourglass = f"{checkpoints}/hourglass_mpii_{exp}/best.pt"
    seconds["lifter"] = step("train", ["2d3d_h36m", *common, *stages["lifter"]])
    lifter = f"{checkpoints}/2d3d_h36m_{exp}/best.pt"
    seconds["stitched"] = step("train", ["stitched_h36m", *common, "--load_hourglass", hourglass, "--load_2d3d", lifter,
                                         *stages["stitched"]])
    stitched = f"{checkpoints}/stitched_h36m_{exp}/best.pt"

    scoring_started = time.monotonic()
    step("run", ["hourglass_mpii", "--load", hourglass, "--flip_test", "--decoder", "dark",
                 "--output_dir", str(out / "hourglass"), *amp])
    step("eval", ["mpii_PCKh", "--prediction_files", str(out / "hourglass" / "preds_valid.mat"),
                  "--model_names", "hourglass", "--output_dir", str(out / "hourglass_pckh")])
    step("run", ["stitched_mpii", "--load", stitched, "--output_dir", str(out / "stitched"), *amp])
    step("eval", ["mpii_PCKh", "--prediction_files", str(out / "stitched" / "stitched_predictions.npz"),
                  "--model_names", "stitched", "--output_dir", str(out / "pckh")])
    step("run", ["2d3d_h36m", "--load", lifter, "--input", str(data_dir / "h36m" / "data_2d_h36m_gt.npz"),
                 "--subjects", "9", "11", "--output_dir", str(out / "lifter")])
    step("eval", ["h36m_MPJPE", "--predictions", str(out / "lifter" / "predictions_3d.npz"),
                  "--output_dir", str(out / "mpjpe")])
    step("viz", ["2d_overlay_3d_pred", "--img_dir", str(data_dir / "mpii" / "images"),
                 "--2d_pose_estimations", str(out / "stitched" / "stitched_predictions.npz"),
                 "--3d_pose_estimation", str(out / "stitched" / "stitched_predictions.npz"),
                 "--output_dir", str(out / "pictures"), "--max_images", "6"])
    seconds["run, eval, viz"] = time.monotonic() - scoring_started

    validation_pckh = load_checkpoint(hourglass, kind=HOURGLASS_KIND)["best_metric"]
    hourglass_pckh = json.loads((out / "hourglass_pckh" / "hourglass_pckh.json").read_text())
    pckh = json.loads((out / "pckh" / "stitched_pckh.json").read_text())
    mpjpe = json.loads((out / "mpjpe" / "h36m_MPJPE.json").read_text())["average_over_actions"]
    fine_tuned = load_checkpoint(stitched, kind=STITCHED_KIND)
    before = fine_tuned["extra"]["before_fine_tuning"]["mpjpe_mm"]
    total = time.monotonic() - started
    matmul.append(matmul_gflops())
    figures = {
        "data": "synthetic dataset generated or found",
        "hourglass": f"PCKh@0.5 {hourglass_pckh['Mean']:.2f} % (unweighted mean of the 14 joints; "
                     f"{hourglass_pckh['Mean_weighted']:.2f} % weighted by annotations) on the synthetic validation "
                     f"split (run.py --flip_test --decoder dark; {validation_pckh:.2f} % unweighted in training's "
                     f"validation, quarter-pixel decoding)",
        "lifter": f"MPJPE {mpjpe['mpjpe_mm']:.2f} mm, P-MPJPE {mpjpe['p_mpjpe_mm']:.2f} mm from ground-truth 2D "
                  f"(test subjects S9 S11, mean over actions, 17 joints)",
        "stitched": f"RGB -> 3D MPJPE {before:.2f} mm stitched as trained separately -> "
                    f"{fine_tuned['best_metric']:.2f} mm fine-tuned end to end (test frames)",
        "run, eval, viz": f"stitched RGB -> 2D PCKh@0.5 {pckh['Mean']:.2f} % (unweighted; {pckh['Mean_weighted']:.2f} "
                          f"% weighted) on the MPII-format validation images",
    }
    logger.info(f"\nstitchpose demo finished in {total / 60:.1f} min ({exp} budget, {precision.name}, "
                f"{describe_machine()}):")
    for stage, text in figures.items():
        logger.info(f"  {stage:<15} {seconds[stage] / 60:5.1f} min  {text}")
    logger.info(f"  fp32 matmul {matmul[0]:.0f} GFLOP/s at the start, {matmul[1]:.0f} at the end; on the AVX2 "
                f"reference CPU ({REFERENCE_MATMUL_GFLOPS:.0f}) this run would take about "
                f"{total / 60 * max(matmul) / REFERENCE_MATMUL_GFLOPS:.1f} min (scaled by the faster of the two)")
    logger.info(f"  results: {out.resolve()}  (pictures: {(out / 'pictures').resolve()})")
    logger.info(f"  checkpoints: {Path(checkpoints).resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
