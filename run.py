"""`python run.py NAME [options]`: run a trained network on data and write its predictions."""
from __future__ import annotations

import sys

from options import Script, dispatch

SCRIPTS: dict[str, Script] = {}


def main(argv: list[str] | None = None) -> int:
    return dispatch("run", SCRIPTS, argv)


if __name__ == "__main__":
    sys.exit(main())
