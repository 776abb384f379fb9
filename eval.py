"""`python eval.py NAME [options]`: score predictions against ground truth."""
from __future__ import annotations

import sys

from options import Script, dispatch
from stacked_hourglass import pckh_eval
from twod_threed import evaluate as twod_threed_evaluate
from twod_threed import humaneva_eval

SCRIPTS: dict[str, Script] = {
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
}


def main(argv: list[str] | None = None) -> int:
    return dispatch("eval", SCRIPTS, argv)


if __name__ == "__main__":
    sys.exit(main())
