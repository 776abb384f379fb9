"""`python run.py NAME [options]`: run a trained network on data and write its predictions."""
from __future__ import annotations

import sys

from options import Script, dispatch
from stacked_hourglass import run as hourglass_run

SCRIPTS: dict[str, Script] = {
    "hourglass_mpii": Script(
        help="2D joints with a trained stacked hourglass (.mat/.npz for eval.py mpii_PCKh)",
        run=hourglass_run.run, add_options=hourglass_run.add_options, check=hourglass_run.check_options),
}


def main(argv: list[str] | None = None) -> int:
    return dispatch("run", SCRIPTS, argv)


if __name__ == "__main__":
    sys.exit(main())
