"""`python train.py NAME [options]`: train a network (checkpoints, TensorBoard logs)."""
from __future__ import annotations

import sys

from options import Script, dispatch
from stacked_hourglass import train as hourglass_train

SCRIPTS: dict[str, Script] = {
    "hourglass_mpii": Script(
        help="stacked hourglass on MPII-format data (RGB -> 2D heatmaps)",
        run=hourglass_train.train, add_options=hourglass_train.add_options,
        check=hourglass_train.check_options, training=True),
}


def main(argv: list[str] | None = None) -> int:
    return dispatch("train", SCRIPTS, argv)


if __name__ == "__main__":
    sys.exit(main())
