"""`python train.py NAME [options]`: train a network (checkpoints, TensorBoard logs)."""
from __future__ import annotations

import sys

from generative_models import train as pose_gan_train
from generative_models.prior import add_prior_options, check_prior_options, with_prior
from options import TRAINING_GROUPS, Script, dispatch
from stacked_hourglass import eva as hourglass_eva
from stacked_hourglass import train as hourglass_train
from stitched import train as stitched_train
from twod_threed import train as twod_threed_train

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
    "3d_pose_gan": Script(
        help="WGAN-GP 3D pose prior on Human3.6M-format 3D poses (generator + critic)",
        run=pose_gan_train.train, add_options=pose_gan_train.add_options,
        check=pose_gan_train.check_options, training=True,
        groups=tuple(group for group in TRAINING_GROUPS if group != "compile")),  # its steps run the players unwrapped
}


def main(argv: list[str] | None = None) -> int:
    return dispatch("train", SCRIPTS, argv)


if __name__ == "__main__":
    sys.exit(main())
