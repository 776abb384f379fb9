"""`python train.py NAME [options]`: train a network (checkpoints, TensorBoard logs)."""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from action import multitask_train
from action import train as action_train
from bottom_up import train as bottom_up_train
from generative_models import train as pose_gan_train
from generative_models.prior import add_prior_options, check_prior_options, with_prior
from options import TRAINING_GROUPS, Script, dispatch
from stacked_hourglass import eva as hourglass_eva
from stacked_hourglass import train as hourglass_train
from stitched import train as stitched_train
from twod_threed import train as twod_threed_train
from utils.checkpoints import load_checkpoint
from utils.errors import InputError


def add_teacher_options(parser) -> None:
    group = parser.add_argument_group("distillation")
    group.add_argument("--teacher", required=True,
                       help="checkpoint of the trained teacher: train.py hourglass_coco (a bottom-up student, these "
                            "options) or hourglass_mpii (a single-person student, hourglass_mpii's options)")
    group.add_argument("--teacher_weight", type=float, default=0.5,
                       help="heatmap target = (1 - w) x ground truth + w x the teacher's heatmaps")


def check_teacher_options(opts) -> str | None:
    if not 0.0 <= opts.teacher_weight <= 1.0:
        return f"--teacher_weight must be in [0, 1], got {opts.teacher_weight}"
    return None


# The pose prior (generative_models) regularises the 3D networks of the packages below it: the entry point joins them.
PRIOR_OPTIONS, PRIOR_CHECKS = (add_prior_options,), (check_prior_options,)
SCRIPTS: dict[str, Script] = {
    "hourglass_mpii": Script(
        help="stacked hourglass on MPII-format data (RGB -> 2D heatmaps)",
        run=hourglass_train.train, add_options=hourglass_train.add_options,
        check=hourglass_train.check_options, training=True, groups=(*TRAINING_GROUPS, "workers")),
    "hourglass_eva": Script(
        help="stacked hourglass on HumanEva-I video clips (shared per frame; --temporal fuses heatmaps over time)",
        run=hourglass_eva.train, add_options=hourglass_eva.add_options, check=hourglass_eva.check_options,
        training=True, groups=TRAINING_GROUPS),
    "2d3d_h36m": Script(
        help="3D pose baseline on Human3.6M: 2D joints (px) -> root-relative 3D joints (mm)",
        run=with_prior(twod_threed_train.run_train), add_options=twod_threed_train.add_options,
        check=twod_threed_train.check_options, training=True, groups=TRAINING_GROUPS, extra_groups=PRIOR_OPTIONS,
        extra_checks=PRIOR_CHECKS),
    "2d3d_eva": Script(
        help="lifter on HumanEva-I (VideoPose3D layout): 2D joints (px) -> root-relative 3D (mm); --temporal",
        run=twod_threed_train.run_train_eva, add_options=twod_threed_train.add_eva_options,
        check=twod_threed_train.check_eva_options, training=True, groups=TRAINING_GROUPS),
    "stitched_h36m": Script(
        help="fine-tune the stitched RGB -> 3D network end to end on Human3.6M-format frames",
        run=with_prior(stitched_train.run_train), add_options=stitched_train.add_options,
        check=stitched_train.check_options, training=True, groups=TRAINING_GROUPS, extra_groups=PRIOR_OPTIONS,
        extra_checks=PRIOR_CHECKS),
    "hourglass_coco": Script(
        help="bottom-up hourglass with associative embedding on COCO person keypoints (every person of an image)",
        run=bottom_up_train.train, add_options=bottom_up_train.add_options, check=bottom_up_train.check_options,
        training=True, groups=(*TRAINING_GROUPS, "workers")),
    "distill_hourglass": Script(
        help="a smaller hourglass trained on ground truth mixed with a teacher's heatmaps (--teacher CKPT)",
        run=bottom_up_train.distill, add_options=bottom_up_train.add_student_options,
        check=bottom_up_train.check_options, training=True, groups=(*TRAINING_GROUPS, "workers"),
        extra_groups=(add_teacher_options,), extra_checks=(check_teacher_options,),
        variant=lambda argv: distill_script(argv)),
    "3d_pose_gan": Script(
        help="WGAN-GP 3D pose prior on Human3.6M-format 3D poses (generator + critic)",
        run=pose_gan_train.train, add_options=pose_gan_train.add_options,
        check=pose_gan_train.check_options, training=True,
        groups=tuple(group for group in TRAINING_GROUPS if group != "compile")),  # its steps run the players unwrapped
    "action_h36m": Script(
        help="action recogniser (LSTM / temporal convolution) over clips of Human3.6M-format pose sequences",
        run=action_train.run_train, add_options=action_train.add_options, check=action_train.check_options,
        training=True, groups=TRAINING_GROUPS),
    "multitask_h36m": Script(
        help="multitask network (Luvizon et al. 2018): RGB clips -> 2D/3D poses and action, pose + action losses",
        run=multitask_train.run_train, add_options=multitask_train.add_options,
        check=multitask_train.check_options, training=True, groups=TRAINING_GROUPS),
}


def distill_script(argv) -> Script:
    """distill_hourglass's script for the teacher's kind: a single-person (MPII) teacher gives a student with
    hourglass_mpii's options and defaults (1 stack of 64 features unless told); any other teacher, the bottom-up
    COCO student (which also reports a teacher that cannot be read)."""
    peek = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    peek.add_argument("--teacher", nargs="?")  # a missing value is for the full parser to report
    teacher = peek.parse_known_args(list(argv))[0].teacher
    try:
        kind = load_checkpoint(teacher, map_location="cpu").get("kind") if teacher else None
    except (InputError, OSError):
        kind = None
    if kind != hourglass_train.KIND:
        return SCRIPTS["distill_hourglass"]
    return replace(SCRIPTS["distill_hourglass"], run=train_single_person_student,
                   add_options=single_person_student_options, check=hourglass_train.check_options, variant=None)


def train_single_person_student(opts):
    return hourglass_train.train(opts, opts.teacher, opts.teacher_weight)


def single_person_student_options(parser) -> None:
    hourglass_train.add_options(parser)
    parser.set_defaults(stacks=1, features=64)


def main(argv: list[str] | None = None) -> int:
    return dispatch("train", SCRIPTS, argv)


if __name__ == "__main__":
    sys.exit(main())
