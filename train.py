"""`python train.py NAME [options]`: train a network (checkpoints, TensorBoard logs)."""
from __future__ import annotations

import sys

from action import multitask_train
from action import train as action_train
from bottom_up import train as bottom_up_train
from generative_models import train as pose_gan_train
from generative_models.prior import add_prior_options, check_prior_options, with_prior
from options import TRAINING_GROUPS, Script, dispatch, parse_script_options
from stacked_hourglass import eva as hourglass_eva
from stacked_hourglass import train as hourglass_train
from stitched import train as stitched_train
from twod_threed import train as twod_threed_train
from utils.checkpoints import load_checkpoint

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
        run=lambda opts: distill_hourglass(opts), add_options=bottom_up_train.add_distill_options,
        check=bottom_up_train.check_distill_options, training=True, groups=(*TRAINING_GROUPS, "workers")),
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


def distill_hourglass(opts):
    """The student of the teacher's kind: the bottom-up COCO model, or the single-person MPII hourglass, which takes
    hourglass_mpii's defaults and the options written on this command line that it has (the student's size too)."""
    teacher_kind = load_checkpoint(opts.teacher, map_location="cpu").get("kind")
    if teacher_kind != hourglass_train.KIND:
        return bottom_up_train.distill(opts)
    single = parse_script_options("train", "hourglass_mpii", SCRIPTS["hourglass_mpii"], [])
    for name in {*opts.given_options, "stacks", "features", "script", "given_options"}:
        if hasattr(single, name):
            setattr(single, name, getattr(opts, name))
    return hourglass_train.train(single, opts.teacher, opts.teacher_weight)


def main(argv: list[str] | None = None) -> int:
    return dispatch("train", SCRIPTS, argv)


if __name__ == "__main__":
    sys.exit(main())
