"""Rows of two pose files paired up: by image or frame name (people of one image told apart by box centre), or by
order when a file has no names (see `align`)."""
from __future__ import annotations

import numpy as np

from stitched.pose_files import Poses2D, Poses3D
from utils.errors import InputError
from utils.run_logging import get_logger


def align(table: Poses2D | Poses3D, names: np.ndarray | None, count: int,
          centres: np.ndarray | None = None) -> Poses2D | Poses3D:
    """The rows of `table` for `count` wanted rows named `names`: by name (several people of one image told apart
    by the nearest box centre, else in order of appearance); by order when either side has no names, or when no
    name is shared and the counts agree (e.g. a lifter run on a predictions file writes row numbers as names)."""
    by_order = np.arange(count)
    if table.names is None or names is None:
        if len(table) != count:
            raise InputError(f"{table.source}: {len(table)} rows for {count} poses, and no names to pair them by; "
                             f"the rows must correspond one to one")
        return table.rows(by_order)
    names, available = np.asarray(names).astype(str), table.names.astype(str)
    if len(available) == count and (available == names).all():
        return table.rows(by_order)
    rows_of: dict[str, list[int]] = {}
    for row, name in enumerate(available):
        rows_of.setdefault(name, []).append(row)
    if not any(name in rows_of for name in names):
        if len(table) == count:
            get_logger().info(f"{table.source}: no names in common with the other file; rows paired by order")
            return table.rows(by_order)
        raise InputError(f"{table.source}: none of its {len(table)} names match (first wanted: '{names[0]}', "
                         f"first there: '{available[0]}')")
    table_centres = getattr(table, "centre_px", None)
    rows, missing, seen = [], [], {}
    for i, name in enumerate(names):
        candidates = rows_of.get(name)
        if not candidates:
            missing.append(name)
            continue
        if len(candidates) > 1 and centres is not None and table_centres is not None:
            distance = np.linalg.norm(table_centres[candidates] - centres[i], axis=-1)
            rows.append(candidates[int(np.argmin(distance))])
        else:
            seen[name] = seen.get(name, -1) + 1
            rows.append(candidates[min(seen[name], len(candidates) - 1)])
    if missing:
        raise InputError(f"{table.source}: no rows for {len(missing)} of {count} names (first: '{missing[0]}')")
    return table.rows(np.asarray(rows))
