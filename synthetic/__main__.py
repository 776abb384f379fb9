"""`python -m synthetic --out DIR --size small|medium|large --seed N [--clips]`: write a synthetic dataset.

Without --out the dataset goes to the shared cache that every command uses (see `synthetic.default_data_dir`).
`--clips` writes the dataset's additive clips split instead (consecutive rendered frames, `synthetic.clip_split`):
into the cache beside the dataset, or with --out into DIR, made from the dataset of the cache.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from utils.cli import Parser


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m synthetic", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder (created; must be empty or absent). Default: the shared cache")
    parser.add_argument("--size", default="small", choices=("tiny", "small", "medium", "large"),
                        help="how much to generate (see synthetic/README.md)")
    parser.add_argument("--seed", type=int, default=0, help="random seed; equal seeds give identical files")
    parser.add_argument("--workers", type=int, default=2, help="processes drawing images")
    parser.add_argument("--clips", action="store_true",
                        help="write the clips split (one clip of consecutive frames per sequence, one camera)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing synthetic dataset in --out (a folder with info.json)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.out is None:
        from synthetic.cache import clips_data_dir, default_data_dir

        (clips_data_dir if args.clips else default_data_dir)(args.size, args.seed)
        return 0
    out = args.out
    if out.exists() and any(out.iterdir()):
        if not (args.overwrite and (out / "info.json").is_file()):
            print(f"error: {out} is not empty. Choose a new folder, or pass --overwrite to replace a synthetic "
                  "dataset written there before.", file=sys.stderr)
            return 2
        shutil.rmtree(out)
    from synthetic.generate import generate_dataset

    start = time.perf_counter()
    if args.clips:
        from synthetic.cache import default_data_dir
        from synthetic.clip_split import generate_clips

        info = generate_clips(out, default_data_dir(args.size, args.seed), size=args.size, seed=args.seed,
                              workers=args.workers)
    else:
        info = generate_dataset(out, size=args.size, seed=args.seed, workers=args.workers)
    counts = ", ".join(f"{key} {value}" for key, value in info["counts"].items())
    what = "dataset clips split" if args.clips else "dataset"
    print(f"wrote the {args.size} synthetic {what} (seed {args.seed}) to {out} in "
          f"{time.perf_counter() - start:.1f} s: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
