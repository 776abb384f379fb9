"""Where stitchpose keeps what it can rebuild (caches), and how its own paths are shown to users.

The repository runs from its root and installs nothing of its own, so caches default to the checkout's `.cache/`;
`$STITCHPOSE_CACHE` moves all of them at once (CI, a shared disk). A checkout that finds itself inside an installed
environment (site-packages) caches under `~/.cache/stitchpose` instead, so no cache ever lands there.
`python -m utils.paths` lists the caches with their sizes; `--clear [NAME ...]` removes them (`make clean-cache`).
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


def folder_size_bytes(folder: Path) -> int:
    """Bytes held by the regular files under `folder` (links not followed)."""
    return sum(entry.stat().st_size for entry in folder.rglob("*") if entry.is_file() and not entry.is_symlink())


def cache_sizes() -> dict[str, int]:
    """{cache name: bytes} of every folder in `cache_root()`."""
    root = cache_root()
    if not root.is_dir():
        return {}
    return {entry.name: folder_size_bytes(entry) for entry in sorted(root.iterdir()) if entry.is_dir()}


def clear_caches(names: list[str] | None = None) -> list[Path]:
    """Remove the named caches (all when None): everything in them is rebuilt on first use. Returns what went."""
    import shutil

    root = cache_root()
    chosen = sorted(cache_sizes()) if names is None else names
    unknown = [name for name in chosen if not (root / name).is_dir() or "/" in name or name in (".", "..")]
    if unknown:
        raise SystemExit(f"no cache named {', '.join(unknown)} in {root} (there are: {', '.join(cache_sizes())})")
    for name in chosen:
        shutil.rmtree(root / name)
    return [root / name for name in chosen]


def main(argv: list[str] | None = None) -> int:
    """`python -m utils.paths [--clear [NAME ...]]`: list the caches and their sizes, or remove them."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m utils.paths", allow_abbrev=False,
                                     description=f"list stitchpose's caches ({CACHE_DESCRIPTION}) and their sizes")
    parser.add_argument("--clear", nargs="*", metavar="NAME", default=None,
                        help="remove these caches (all without a name); they are rebuilt on first use")
    opts = parser.parse_args(argv)
    if opts.clear is not None:
        for path in clear_caches(opts.clear or None):
            print(f"removed {path}")
        return 0
    sizes = cache_sizes()
    for name, size in sizes.items():
        print(f"{size / 1e6:10.1f} MB  {cache_root() / name}")
    print(f"{sum(sizes.values()) / 1e6:10.1f} MB  in all ({cache_root()})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
