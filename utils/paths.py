"""Where stitchpose keeps what it can rebuild (caches), and how its own paths are shown to users.

The repository runs from its root and installs nothing of its own, so caches default to the checkout's `.cache/`;
`$STITCHPOSE_CACHE` moves all of them at once (CI, a shared disk). A checkout that finds itself inside an installed
environment (site-packages) caches under `~/.cache/stitchpose` instead, so no cache ever lands there.
"""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
CACHE_ENV = "STITCHPOSE_CACHE"
# Shown in help texts instead of a machine's absolute path.
CACHE_DESCRIPTION = f"${CACHE_ENV}, else the repository's .cache/"


def cache_root() -> Path:
    """The folder that holds every cache (`synthetic/`, `hourglass/`, `twod_threed/`, `stitched/`)."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    if "site-packages" in REPO_ROOT.parts or "dist-packages" in REPO_ROOT.parts:
        return Path.home() / ".cache" / "stitchpose"
    return REPO_ROOT / ".cache"


def cache_dir(name: str) -> Path:
    """One component's cache folder: `cache_root() / name` (not created here)."""
    return cache_root() / name
