"""default_data_dir (generate once, reuse, survive a race), the command line and the contact sheet."""
import json
import threading

import cv2
import pytest

import synthetic
import synthetic.generate
from synthetic.__main__ import main as synthetic_main
from synthetic.contact_sheet import main as contact_sheet_main
from tests.synthetic.conftest import MICRO


@pytest.fixture()
def micro_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("STITCHPOSE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setitem(synthetic.generate.SIZES, "micro", MICRO)
    return tmp_path / "cache"


def test_default_data_dir_generates_once_and_reuses(micro_cache, capsys):
    root = synthetic.default_data_dir("micro", seed=3)
    assert root == micro_cache / "synthetic" / "micro_seed3"
    info = json.loads((root / "info.json").read_text())
    assert info["size"] == "micro" and info["seed"] == 3 and info["version"] == synthetic.GENERATOR_VERSION
    stamp = (root / "info.json").stat().st_mtime_ns
    first = capsys.readouterr().err
    assert "generating" in first and str(root) in first
    assert synthetic.default_data_dir("micro", seed=3) == root
    assert (root / "info.json").stat().st_mtime_ns == stamp
    message = capsys.readouterr().err
    assert message == ""  # reused, and the path was already said once in this process
    assert not [p for p in root.parent.iterdir() if ".tmp-" in p.name]


def test_racing_callers_share_one_copy(micro_cache):
    results, errors = [], []

    def call():
        try:
            results.append(synthetic.default_data_dir("micro", seed=4))
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(set(results)) == 1
    assert (results[0] / "mpii" / "mpii_annotations.json").is_file()


def test_stale_version_is_regenerated(micro_cache):
    root = synthetic.default_data_dir("micro", seed=5)
    info = json.loads((root / "info.json").read_text())
    (root / "info.json").write_text(json.dumps({**info, "version": "0.0"}))
    assert synthetic.default_data_dir("micro", seed=5) == root
    assert json.loads((root / "info.json").read_text())["version"] == synthetic.GENERATOR_VERSION


def test_command_line_writes_a_dataset_and_refuses_a_full_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(synthetic.generate.SIZES, "tiny", MICRO)  # keep the test fast
    out = tmp_path / "data"
    assert synthetic_main(["--out", str(out), "--size", "tiny", "--seed", "2", "--workers", "1"]) == 0
    assert "wrote the tiny synthetic dataset" in capsys.readouterr().out
    assert (out / "info.json").is_file() and (out / "h36m" / "frames.json").is_file()
    assert synthetic_main(["--out", str(out), "--size", "tiny", "--workers", "1"]) == 2
    assert "not empty" in capsys.readouterr().err
    assert synthetic_main(["--out", str(out), "--size", "tiny", "--workers", "1", "--overwrite"]) == 0


def test_contact_sheet(tiny_dataset, tmp_path):
    out = tmp_path / "sheet.png"
    assert contact_sheet_main(["--data_dir", str(tiny_dataset), "--out", str(out), "--mpii", "4", "--h36m", "4"]) == 0
    sheet = cv2.imread(str(out))
    assert sheet.shape == (2 * 270, 4 * 360, 3)
    assert contact_sheet_main(["--data_dir", str(tmp_path), "--out", str(out)]) == 2


def test_importing_the_package_is_light():
    import subprocess
    import sys

    code = "import synthetic, sys; print(sorted(m for m in ('numpy', 'cv2', 'h5py', 'torch') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_leftovers_of_a_killed_generator_are_removed(micro_cache):
    leftover = micro_cache / "synthetic" / ".micro_seed6.tmp-999999"
    (leftover / "mpii").mkdir(parents=True)
    root = synthetic.default_data_dir("micro", seed=6)
    assert not leftover.exists() and (root / "info.json").is_file()
