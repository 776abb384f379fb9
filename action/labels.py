"""The 15 Human3.6M actions as class labels, read from the sequence names of the files ('Walking 1' -> Walking)."""
from __future__ import annotations

import numpy as np

from utils.errors import InputError

# Class index = position in this tuple (alphabetical, the order of the synthetic generator's ACTIONS).
ACTIONS: tuple[str, ...] = ("Directions", "Discussion", "Eating", "Greeting", "Phoning", "Photo", "Posing",
                            "Purchases", "Sitting", "SittingDown", "Smoking", "Waiting", "WalkDog", "Walking",
                            "WalkTogether")
# Other spellings of the real data set's file names (detections, some subjects' takes).
ALIASES: dict[str, str] = {"TakingPhoto": "Photo", "WalkingDog": "WalkDog"}


def action_name(sequence_action: str) -> str:
    """The action of a file's sequence name: 'Walking 1' -> 'Walking', 'WalkingDog' -> 'WalkDog'."""
    base = sequence_action.strip().split(" ")[0]
    return ALIASES.get(base, base)


def action_index(sequence_action: str, where: str = "") -> int:
    """Class index of a sequence name; InputError naming `where` for a name that is none of the 15 actions."""
    name = action_name(sequence_action)
    if name not in ACTIONS:
        raise InputError(f"{where or 'sequence'}: '{sequence_action}' is not one of the 15 Human3.6M actions "
                         f"({', '.join(ACTIONS)})")
    return ACTIONS.index(name)


def action_indices(sequence_actions, where: str = "") -> np.ndarray:
    """(N,) int64 class indices of sequence names."""
    return np.array([action_index(a, where) for a in sequence_actions], dtype=np.int64)
