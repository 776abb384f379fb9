"""`python run.py NAME [options]`: run a trained network on data and write its predictions."""
from __future__ import annotations

import sys

from options import Script, dispatch
from stacked_hourglass import eva as hourglass_eva
from stacked_hourglass import run as hourglass_run
from stitched import run as stitched_run
from twod_threed import run as twod_threed_run

# Networks run over image crops: the people of a dataset or an image folder, on a device, in batches.
IMAGE_MODEL_GROUPS = ("data", "output", "load", "device", "batches", "workers", "precision", "compile")
SCRIPTS: dict[str, Script] = {
    "2d3d_h36m": Script(
        help="lift 2D poses (npz/json, H36M or MPII order) to root-relative 3D poses with a lifter checkpoint",
        run=twod_threed_run.run_lifter, add_options=twod_threed_run.add_options,
        check=twod_threed_run.check_options, groups=("output", "load", "device", "batches")),
    "2d3d_eva": Script(
        help="lift HumanEva-I 2D poses (VideoPose3D layout) to root-relative 3D with a lifter checkpoint",
        run=twod_threed_run.run_lifter_eva, add_options=twod_threed_run.add_eva_options,
        check=twod_threed_run.check_options, groups=("data", "output", "load", "device", "batches")),
    "hourglass_mpii": Script(
        help="2D joints with a trained stacked hourglass (.mat/.npz for eval.py mpii_PCKh)",
        run=hourglass_run.run, add_options=hourglass_run.add_options, check=hourglass_run.check_options,
        groups=IMAGE_MODEL_GROUPS),
    "hourglass_eva": Script(
        help="2D joints of HumanEva-I frames with a clip hourglass, in VideoPose3D's 2D layout (feeds 2d3d_eva)",
        run=hourglass_eva.run, add_options=hourglass_eva.add_run_options, check=hourglass_eva.check_run_options,
        groups=("data", "output", "load", "device")),
    "stitched_mpii": Script(
        help="RGB images -> 2D joints (px) and root-relative 3D joints (mm) with the stitched network",
        run=stitched_run.run, add_options=stitched_run.add_options, check=stitched_run.check_options,
        groups=IMAGE_MODEL_GROUPS),
}


def main(argv: list[str] | None = None) -> int:
    return dispatch("run", SCRIPTS, argv)


if __name__ == "__main__":
    sys.exit(main())
