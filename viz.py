"""`python viz.py NAME [options]`: draw pictures of poses, predictions and networks (PNG)."""
from __future__ import annotations

import sys

from generative_models import viz_samples as gan_viz
from options import Script, dispatch
from stacked_hourglass import viz as hourglass_viz
from stitched import video_viz
from stitched import viz as stitched_viz
from twod_threed import viz as twod_threed_viz

SALIENCY_GROUPS = ("data", "output", "load", "device", "workers")  # one person at a time: no --batch_size
SCRIPTS: dict[str, Script] = {
    **{name: Script(help=stitched_viz.HELP[name], run=stitched_viz.run, add_options=stitched_viz.options_for(name),
                    check=stitched_viz.check_options, groups=("output",)) for name in stitched_viz.LAYOUTS},
    "saliency_and_prob_maps": Script(
        help="per joint: input crop, hourglass probability map and saliency map (gradient of the peak)",
        run=hourglass_viz.run, add_options=hourglass_viz.options_for(with_skeleton=False),
        check=hourglass_viz.check_options, groups=SALIENCY_GROUPS),
    "saliency_and_prob_maps_with_skeleton": Script(
        help="saliency_and_prob_maps with the predicted skeleton drawn and the joint ringed",
        run=hourglass_viz.run, add_options=hourglass_viz.options_for(with_skeleton=True),
        check=hourglass_viz.check_options, groups=SALIENCY_GROUPS),
    "orthog_augmentation": Script(
        help="one Human3.6M example under the orthogonal augmentation: 2D input, 3D truth, lifter's 3D prediction",
        run=twod_threed_viz.run, add_options=twod_threed_viz.add_options, check=twod_threed_viz.check_options,
        groups=("data", "output", "load", "device", "seed")),
    "video_overlay_3d": Script(
        help="an mp4: the 2D skeleton over each frame of a video and the 3D pose beside it (frame rate kept)",
        run=video_viz.run, add_options=video_viz.add_options, check=video_viz.check_options,
        groups=("output",)),
    "gan_samples": Script(
        help="a grid of 3D poses drawn by the pose prior's generator (--load a 3d_pose_gan checkpoint)",
        run=gan_viz.run, add_options=gan_viz.add_options, check=gan_viz.check_options,
        groups=("output", "load", "device", "seed")),
}


def main(argv: list[str] | None = None) -> int:
    return dispatch("viz", SCRIPTS, argv)


if __name__ == "__main__":
    sys.exit(main())
