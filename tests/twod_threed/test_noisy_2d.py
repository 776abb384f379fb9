"""python -m twod_threed.noisy_2d: a noisy copy of a VideoPose3D 2D file, metadata kept, noise as asked."""
from __future__ import annotations

import numpy as np

from twod_threed.noisy_2d import main
from utils.npz import load_npz


def test_noisy_copy_keeps_the_layout_and_adds_the_asked_noise(tmp_path, capsys):
    rng = np.random.default_rng(0)
    clean = {"S9": {"Walking 1": [rng.uniform(0, 1000, (4000, 17, 2)).astype(np.float32) for _ in range(4)]}}
    metadata = {"num_joints": 17, "layout_name": "h36m"}
    source, output = tmp_path / "data_2d_h36m_gt.npz", tmp_path / "noisy.npz"
    np.savez(source, positions_2d=np.array(clean, dtype=object), metadata=np.array(metadata, dtype=object))
    assert main(["--input", str(source), "--output", str(output), "--sigma_px", "6", "--seed", "1"]) == 0
    written = load_npz(output)
    assert written["metadata"].item() == metadata
    noisy = written["positions_2d"].item()["S9"]["Walking 1"]
    assert len(noisy) == 4 and noisy[2].shape == (4000, 17, 2) and noisy[2].dtype == np.float32
    noise = np.concatenate([(n - c).ravel() for n, c in zip(noisy, clean["S9"]["Walking 1"])])
    assert abs(noise.mean()) < 0.05 and abs(noise.std() - 6.0) < 0.05  # 544,000 draws of N(0, 6^2)
    assert not np.allclose(noisy[0], noisy[1] - clean["S9"]["Walking 1"][1] + clean["S9"]["Walking 1"][0])


def test_a_file_without_positions_2d_is_one_line(tmp_path, capsys):
    np.savez(tmp_path / "other.npz", poses=np.zeros((2, 17, 2)))
    assert main(["--input", str(tmp_path / "other.npz"), "--output", str(tmp_path / "o.npz")]) == 1
    assert "missing the key 'positions_2d'" in capsys.readouterr().err
