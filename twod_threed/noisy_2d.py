"""`python -m twod_threed.noisy_2d --input data_2d_h36m_gt.npz --output data_2d_h36m_noisy.npz --sigma_px 6`.

A VideoPose3D 2D file with independent Gaussian noise (sigma px per coordinate, every joint of every frame) added:
a stand-in for a detector's frame-to-frame jitter, to compare lifters on imperfect 2D with `--input_2d` / `--input`.
Each (subject, action, camera) sequence draws from its own stream keyed by the seed and its names (deterministic).
"""
from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np

from twod_threed.h36m_files import videopose3d_table
from utils.atomic import save_npz_atomic
from utils.cli import Parser, one_line_errors


def noisy_keypoints(keypoints_px: np.ndarray, sigma_px: float, seed: int, key: str) -> np.ndarray:
    """(T, J, 2) px + N(0, sigma_px^2) per coordinate, from the stream of (seed, key); float32."""
    stream = int.from_bytes(hashlib.sha1(f"{seed}/{key}".encode()).digest()[:8], "little")
    noise = np.random.default_rng(stream).normal(0.0, sigma_px, size=keypoints_px.shape)
    return (np.asarray(keypoints_px, dtype=np.float64) + noise).astype(np.float32)


def write_noisy(source: Path, output: Path, sigma_px: float, seed: int) -> int:
    """Write the noisy copy (metadata kept); returns the number of sequences."""
    table, fields = videopose3d_table(source, "positions_2d", "data_2d_*.npz")
    noisy = {subject: {action: [noisy_keypoints(k, sigma_px, seed, f"{subject}/{action}/{camera}")
                                for camera, k in enumerate(per_camera)]
                       for action, per_camera in actions.items()}
             for subject, actions in table.items()}
    members = {"positions_2d": np.array(noisy, dtype=object)}
    metadata = fields.get("metadata")
    if metadata is not None:
        members["metadata"] = metadata
    output.parent.mkdir(parents=True, exist_ok=True)
    save_npz_atomic(output, **members)
    return sum(len(per_camera) for actions in noisy.values() for per_camera in actions.values())


@one_line_errors("noisy_2d")
def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m twod_threed.noisy_2d", description=__doc__.split("\n\n")[1])
    parser.add_argument("--input", required=True, help="VideoPose3D 2D file (positions_2d, metadata)")
    parser.add_argument("--output", required=True, help="the noisy copy to write")
    parser.add_argument("--sigma_px", type=float, default=6.0, help="noise standard deviation per coordinate (px)")
    parser.add_argument("--seed", type=int, default=0)
    opts = parser.parse_args(argv)
    count = write_noisy(Path(opts.input), Path(opts.output), opts.sigma_px, opts.seed)
    print(f"{opts.output}: {count} sequences, Gaussian noise sigma {opts.sigma_px:g} px")
    return 0


if __name__ == "__main__":
    sys.exit(main())
