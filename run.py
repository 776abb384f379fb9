"""`python run.py NAME [options]`: run a trained network on data and write its predictions."""
from __future__ import annotations

import sys

from action import run as action_run
from bottom_up import run as bottom_up_run
from options import Script, dispatch
from stacked_hourglass import eva as hourglass_eva
from stacked_hourglass import run as hourglass_run
from stitched import export as onnx_export
from stitched import run as stitched_run
from stitched import video_run
from twod_threed import run as twod_threed_run

# Networks run over image crops: the people of a dataset or an image folder, on a device, in batches.
IMAGE_MODEL_GROUPS = ("data", "output", "load", "device", "batches", "workers", "precision", "compile", "fuse_bn")
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
        help="2D joints with a trained stacked hourglass (.mat/.npz for eval.py mpii_PCKh); --video for a video",
        **video_run.or_video("hourglass", hourglass_run.run, hourglass_run.add_options, hourglass_run.check_options),
        groups=IMAGE_MODEL_GROUPS),
    "hourglass_coco": Script(
        help="every person's 2D keypoints in whole images with the bottom-up hourglass (COCO results JSON, boxes)",
        run=bottom_up_run.run, add_options=bottom_up_run.add_options, check=bottom_up_run.check_options,
        groups=("data", "output", "load", "device")),
    "hourglass_eva": Script(
        help="2D joints of HumanEva-I frames with a clip hourglass, in VideoPose3D's 2D layout (feeds 2d3d_eva)",
        run=hourglass_eva.run, add_options=hourglass_eva.add_run_options, check=hourglass_eva.check_run_options,
        groups=("data", "output", "load", "device")),
    "stitched_mpii": Script(
        help="RGB images (or --video) -> 2D joints (px) and root-relative 3D joints (mm) with the stitched network",
        **video_run.or_video("stitched", stitched_run.run, stitched_run.add_options, stitched_run.check_options),
        groups=IMAGE_MODEL_GROUPS),
    "export_onnx": Script(
        help="a hourglass, lifter or stitched checkpoint as ONNX (dynamic batch, batch norms folded), checked "
             "with onnxruntime", run=onnx_export.run, add_options=onnx_export.add_options,
        check=onnx_export.check_options, groups=("load",)),
    "action_h36m": Script(
        help="action scores of every clip of Human3.6M-format pose sequences (ground truth or a predictions file)",
        run=action_run.run, add_options=action_run.add_options, check=action_run.check_options,
        groups=("data", "output", "load", "device", "batches")),
}


def main(argv: list[str] | None = None) -> int:
    return dispatch("run", SCRIPTS, argv)


if __name__ == "__main__":
    sys.exit(main())
