"""`python viz.py NAME [options]`: draw pictures of poses, predictions and networks (PNG)."""
from __future__ import annotations

import sys

from options import Script, dispatch

SCRIPTS: dict[str, Script] = {}


def main(argv: list[str] | None = None) -> int:
    return dispatch("viz", SCRIPTS, argv)


if __name__ == "__main__":
    sys.exit(main())
