"""Same seed -> same bytes (whatever the number of worker processes); another seed -> other data."""
import hashlib
from pathlib import Path

from synthetic.generate import generate_dataset
from tests.synthetic.conftest import MICRO


def _hashes(root: Path) -> dict[str, str]:
    return {str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*")) if path.is_file()}


def test_same_seed_same_bytes_and_other_seed_other_bytes(tmp_path):
    generate_dataset(tmp_path / "a", size=MICRO, seed=5, workers=1, progress=False)
    generate_dataset(tmp_path / "b", size=MICRO, seed=5, workers=2, progress=False)
    generate_dataset(tmp_path / "c", size=MICRO, seed=6, workers=1, progress=False)
    first, second, other = _hashes(tmp_path / "a"), _hashes(tmp_path / "b"), _hashes(tmp_path / "c")
    assert len(first) > 20 and first == second
    changed = [name for name in first if first[name] != other.get(name)]
    for name in ("mpii/mpii_annotations.json", "mpii/images/000000001.jpg", "h36m/data_3d_h36m.npz",
                 "h36m/cameras.h5", "h36m/S1/MyPoses/3D_positions/Walking.h5"):
        assert name in changed, name


class _StalledExecutor:
    """Worker processes that never answer."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def submit(self, function, *args):
        from concurrent.futures import Future

        return Future()

    def shutdown(self, wait=True, cancel_futures=False):
        return None


def test_stalled_workers_fall_back_to_this_process(tmp_path, monkeypatch, capsys):
    import synthetic.generate as generate

    monkeypatch.setattr(generate, "_executor", lambda workers: _StalledExecutor())
    monkeypatch.setattr(generate, "STALL_SECONDS", 0.2)
    generate_dataset(tmp_path / "stalled", size=MICRO, seed=5, workers=2, progress=False)
    generate_dataset(tmp_path / "reference", size=MICRO, seed=5, workers=1, progress=False)
    assert "stalled or died" in capsys.readouterr().err
    assert _hashes(tmp_path / "stalled") == _hashes(tmp_path / "reference")
