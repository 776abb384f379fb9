"""`python train.py NAME [options]`: train a network (checkpoints, TensorBoard logs)."""
from __future__ import annotations

import sys

from options import Script, dispatch

SCRIPTS: dict[str, Script] = {}


def main(argv: list[str] | None = None) -> int:
    return dispatch("train", SCRIPTS, argv)


if __name__ == "__main__":
    sys.exit(main())
