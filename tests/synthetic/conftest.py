"""A faster micro size of the generator (the tiny dataset, made once per session, is tests/conftest.py's)."""
from __future__ import annotations

from synthetic.generate import SizeConfig

# Smaller than "tiny": enough for byte-level determinism and cache checks in about a second.
MICRO = SizeConfig("micro", 3, 2, (12, 16), 1, 1, actions=("Directions", "Walking"), render_subjects=(11,),
                   render_takes=1)
