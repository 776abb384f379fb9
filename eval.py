"""`python eval.py NAME [options]`: score predictions against ground truth."""
from __future__ import annotations

import sys

from action import evaluate as action_evaluate
from bottom_up import coco_eval
from options import Script, dispatch
from stacked_hourglass import pckh_eval
from twod_threed import evaluate as twod_threed_evaluate
from twod_threed import humaneva_eval

SCRIPTS: dict[str, Script] = {
    "coco_AP": Script(
        help="COCO keypoint AP / AR (pycocotools OKS) of a COCO results JSON against a COCO ground-truth file",
        run=coco_eval.run_coco_ap, add_options=coco_eval.add_options, check=coco_eval.check_options,
        groups=("output",)),
    "h36m_MPJPE": Script(
        help="MPJPE, P-MPJPE, N-MPJPE (and MPJVE for sequences) of 3D predictions per Human3.6M action",
        run=twod_threed_evaluate.run_h36m_mpjpe, add_options=twod_threed_evaluate.add_options,
        check=twod_threed_evaluate.check_options, groups=("data", "output")),
    "humaneva_MPJPE": Script(
        help="MPJPE and P-MPJPE (Protocol 2) of HumanEva-I predictions per action (Walk, Jog, Box) and subject",
        run=humaneva_eval.run_humaneva_mpjpe, add_options=humaneva_eval.add_options,
        check=humaneva_eval.check_options, groups=("output",)),
    "mpii_PCKh": Script(
        help="PCKh@0.5 table, PCKh@0.1, AUC and PCKh(t) plots of MPII-order 2D predictions",
        run=pckh_eval.run_pckh, add_options=pckh_eval.add_options, check=pckh_eval.check_options,
        groups=("data", "output")),
    "action_accuracy": Script(
        help="top-1 / top-5 action accuracy per action and overall, confusion matrix (PNG + JSON) of clip predictions",
        run=action_evaluate.run_action_accuracy, add_options=action_evaluate.add_options,
        check=action_evaluate.check_options, groups=("output",)),
}


def main(argv: list[str] | None = None) -> int:
    return dispatch("eval", SCRIPTS, argv)


if __name__ == "__main__":
    sys.exit(main())
