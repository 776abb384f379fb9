"""The repository runs from its root and installs nothing of its own: a stray `utils.py` in the working folder does
not shadow the project's modules, pyproject lists dependencies only, and caches stay out of site-packages."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from stacked_hourglass.prepare import CacheSpec, cache_path
from stacked_hourglass.toy_data import write_toy_mpii
from utils import paths

REPO_ROOT = Path(__file__).resolve().parents[1]
# Each entry point with one of its scripts, whose --help builds that script's parser (all modules imported).
ENTRY_POINTS = {"train.py": "hourglass_mpii", "run.py": "stitched_mpii", "eval.py": "mpii_PCKh", "viz.py": "2d_overlay"}


def run_by_path(script: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO_ROOT / script), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_entry_points_run_by_path_beside_a_stray_utils_module(tmp_path):
    (tmp_path / "utils.py").write_text("raise ImportError('the stray utils.py of the working folder was imported')\n")
    (tmp_path / "options.py").write_text("raise ImportError('the stray options.py was imported')\n")
    for script, name in ENTRY_POINTS.items():
        help_text = run_by_path(script, name, "--help", cwd=tmp_path)
        assert help_text.returncode == 0 and f"{script} {name}" in help_text.stdout, (script, help_text.stderr[-2000:])
    demo = run_by_path("demo.py", "--help", cwd=tmp_path)
    assert demo.returncode == 0 and "--quick" in demo.stdout, demo.stderr[-2000:]


def test_pyproject_declares_dependencies_and_nothing_to_install():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    assert "project" not in config and "build-system" not in config and "setuptools" not in config.get("tool", {})
    run = config["dependency-groups"]["run"]
    assert "numpy>=2" in run  # np.trapezoid
    torch = [requirement for requirement in run if requirement.startswith("torch")]
    assert torch and "==" not in torch[0], "pyproject states the range of torch; the Makefile pins the build"
    assert config["tool"]["pytest"]["ini_options"]["pythonpath"] == ["."]
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert "torch==2.13.0" in makefile and "pip install -e" not in makefile and "--group dev" in makefile


def test_caches_follow_stitchpose_cache_else_the_repository(tmp_path, monkeypatch):
    monkeypatch.delenv(paths.CACHE_ENV, raising=False)
    assert paths.cache_root() == REPO_ROOT / ".cache"
    monkeypatch.setenv(paths.CACHE_ENV, str(tmp_path / "elsewhere"))
    assert paths.cache_dir("twod_threed") == tmp_path / "elsewhere" / "twod_threed"
    toy = write_toy_mpii(tmp_path / "toy", images=2, validation_images=1)
    assert cache_path(toy, "train", CacheSpec()).parent == tmp_path / "elsewhere" / "hourglass"


def test_a_checkout_inside_site_packages_caches_in_the_home_folder(monkeypatch, tmp_path):
    monkeypatch.delenv(paths.CACHE_ENV, raising=False)
    monkeypatch.setattr(paths, "REPO_ROOT", tmp_path / "lib" / "site-packages" / "stitchpose")
    assert paths.cache_root() == Path.home() / ".cache" / "stitchpose"
