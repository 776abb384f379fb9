"""Hostile and broken input, failed writes and leftovers: each gets one line naming the file or option and the
cause, never a traceback, a hang or a lost earlier result (the matrix of docs in the closing note, as tests).

Small data only: a toy MPII folder, tiny untrained checkpoints, a fake Human3.6M folder, all in tmp_path."""
from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import h5py
import numpy as np
import pytest
import scipy.io
import torch

import eval as eval_entry
import run as run_entry
import train as train_entry
from stacked_hourglass.annotations import load_split, read_h5_records, read_json_records, read_standard_mat
from stacked_hourglass.images import read_image
from stacked_hourglass.prepare import prepare_split, CacheSpec
from stacked_hourglass.toy_data import write_toy_mpii
from tests.fixtures_checkpoints import write_stage_checkpoints
from tests.twod_threed.fake_h36m import write_fake_h36m
from twod_threed.data import read_cameras
from utils.atomic import atomic_path, remove_orphan_temps, save_npz_atomic, save_torch_atomic
from utils.cameras import Camera, save_h36m_cameras
from utils.checkpoints import CheckpointError, CheckpointKeeper, load_checkpoint, save_checkpoint
from utils.errors import InputError, OutputError
from options import parse_script_options
from utils.run_lock import RunLock, RunLockedError
from utils.run_logging import RunLogger
from utils.runs import RunSettings, start_run

REPO_ROOT = Path(__file__).resolve().parents[1]


# -- helpers -----------------------------------------------------------------------------------------------------
def one_line_error(main, argv: list[str], capsys) -> str:
    """Run an entry point that must fail on bad input: status 1, one 'error:' line on stderr, no traceback."""
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    lines = [line for line in err.replace("\r", "\n").splitlines() if line.strip() and "%|" not in line]  # no bars
    assert len(lines) == 1 and ": error: " in lines[0], err
    return lines[0]


def usage_error(main, argv: list[str], capsys) -> str:
    """A refused option: argparse's usage line and one error line, status 2."""
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> Path:
    return write_toy_mpii(tmp_path_factory.mktemp("toy_mpii"), images=6, validation_images=2, size=(96, 72))


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> tuple[Path, Path]:
    return write_stage_checkpoints(tmp_path_factory.mktemp("stages"))


def png_header(width: int, height: int) -> bytes:
    """A PNG whose header announces width x height px (no image data: enough for header readers)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) + \
        chunk(b"IEND", b"")


def json_records(toy: Path, edit) -> Path:
    """A copy of the toy dataset whose annotation list is changed by `edit(records)`."""
    records = json.loads((toy / "mpii_annotations.json").read_text())
    edit(records)
    path = toy.parent / f"edited_{os.getpid()}_{id(edit)}.json"
    path.write_text(json.dumps(records))
    return path


# -- 1. no code from data files ----------------------------------------------------------------------------------
def test_crafted_npz_input_runs_nothing_and_gets_one_line(tmp_path, checkpoints, capsys):
    marker = tmp_path / "marker"

    class Crafted:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    payload = np.empty((), dtype=object)
    payload[()] = Crafted()
    np.savez(tmp_path / "poses.npz", positions_2d=payload)
    line = one_line_error(run_entry.main, ["2d3d_h36m", "--load", str(checkpoints[1]), "--input",
                                           str(tmp_path / "poses.npz"), "--output_dir", str(tmp_path / "out")], capsys)
    assert "posix.system" in line or "os.system" in line
    assert not marker.exists()


# -- 2. failed writes: one line, the last checkpoint kept, no half-written files --------------------------------
def test_checkpoint_write_failure_names_the_file_and_keeps_the_last_checkpoint(tmp_path, monkeypatch):
    keeper = CheckpointKeeper(tmp_path, higher_is_better=True)
    keeper.save({"model_config": {}, "model_state": {"w": torch.ones(3)}, "epoch": 1})

    def full_disk(payload, path):
        Path(path).write_bytes(b"half a checkpoint")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", full_disk)
    with pytest.raises(OutputError, match=r"last\.pt: cannot be written \(No space left on device\)"):
        keeper.save({"model_config": {}, "model_state": {"w": torch.zeros(3)}, "epoch": 2})
    monkeypatch.undo()
    kept = load_checkpoint(tmp_path / "last.pt")
    assert kept["epoch"] == 1 and torch.equal(kept["model_state"]["w"], torch.ones(3))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt"]  # no temporary file left


def test_tensorboard_write_failure_raises_instead_of_hanging(tmp_path, monkeypatch):
    import tensorboardX.record_writer as record_writer

    logger = RunLogger(tmp_path / "tb", tmp_path / "log.txt")
    logger.scalars({"loss": 1.0}, 0)

    def full_disk(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(record_writer.RecordWriter, "write", full_disk)
    with pytest.raises(OutputError, match=r"tb: cannot write TensorBoard events \(No space left on device\)"):
        for step in range(1, 10_000):  # more events than the writer's queue holds: the old hang
            logger.scalars({"loss": 1.0}, step)
    logger.close()  # returns: the writer thread is stopped, not waited on forever


def test_log_file_write_failure_is_one_error(tmp_path):
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    logger = RunLogger(None, "/dev/full")
    try:
        with pytest.raises(OutputError, match=r"/dev/full: cannot write the run's log \(No space left on device\)"):
            logger.info("a line that cannot be written")
    finally:
        with contextlib.suppress(OutputError):  # the unwritten line is still buffered
            logger.close()


def test_outputs_are_written_atomically(tmp_path, monkeypatch):
    target = tmp_path / "preds.npz"
    save_npz_atomic(target, preds=np.ones(3))
    monkeypatch.setattr(np, "savez", lambda stream, **arrays: (stream.write(b"half"), 1 / 0))
    with pytest.raises(ZeroDivisionError):
        save_npz_atomic(target, preds=np.zeros(3))
    monkeypatch.undo()
    with np.load(target) as data:
        np.testing.assert_array_equal(data["preds"], np.ones(3))
    assert [p.name for p in tmp_path.iterdir()] == ["preds.npz"]


def test_orphan_temporary_files_of_a_killed_save_are_removed_on_the_next_start(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    run_dir = tmp_path / "checkpoints" / "toy_orphans"
    run_dir.mkdir(parents=True)
    orphan = run_dir / f".last.pt.{dead.pid}.x1y2z3.tmp"
    orphan.write_bytes(b"half a checkpoint")
    live = run_dir / f".best.pt.{os.getpid()}.a1b2c3.tmp"  # a writer that still lives: kept
    live.write_bytes(b"being written")
    run = start_run(RunSettings("toy", exp="orphans", checkpoint_dir=str(tmp_path / "checkpoints")), "toy")
    run.close()
    assert not orphan.exists() and live.exists()


def test_crop_cache_orphans_are_removed(tmp_path, toy):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    cache = tmp_path / "cache"
    spec = CacheSpec(crop_res=24, margin=1.5)
    path = prepare_split(toy, "valid", spec, cache)
    orphan = path.parent / f".{path.name}.{dead.pid}.q1w2e3.tmp"
    orphan.write_bytes(b"half a cache")
    assert prepare_split(toy, "valid", spec, cache) == path
    assert not orphan.exists()


# -- 3. one live run per folder -----------------------------------------------------------------------------------
def test_a_second_live_run_in_the_same_folder_is_refused_naming_the_holder(tmp_path):
    run_dir = tmp_path / "toy_shared"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from utils.run_lock import RunLock; "
                               f"RunLock({str(run_dir)!r}).acquire(); print('held', flush=True); time.sleep(60)"],
                              cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RunLockedError, match=rf"\(pid={holder.pid} host="):
            RunLock(run_dir).acquire()
        with pytest.raises(InputError, match=rf"{run_dir} is in use by another run \(pid={holder.pid} "):
            start_run(RunSettings("toy", exp="shared", checkpoint_dir=str(tmp_path)), "toy")
    finally:
        holder.kill()
        holder.wait()
    # The holder is gone (SIGKILL: no clean-up): its lock is stale and taken over.
    run = start_run(RunSettings("toy", exp="shared", checkpoint_dir=str(tmp_path)), "toy")
    assert (run_dir / ".lock").read_text().startswith(f"pid={os.getpid()} ")
    run.close()


def test_a_lock_file_left_by_a_dead_run_is_taken_over(tmp_path):
    (tmp_path / ".lock").write_text("pid=999999999 host=elsewhere\n")
    lock = RunLock(tmp_path).acquire()
    assert (tmp_path / ".lock").read_text().startswith(f"pid={os.getpid()} ")
    lock.release()


# -- 4. output locations checked before the work -----------------------------------------------------------------
def test_output_dir_under_a_file_fails_before_any_work(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    # The prediction file does not exist: the output folder is checked first, so that is what is reported.
    line = one_line_error(eval_entry.main, ["mpii_PCKh", "--prediction_files", str(tmp_path / "missing.mat"),
                                            "--output_dir", str(blocker / "out")], capsys)
    assert f"--output_dir {blocker / 'out'}: {blocker} is a file, not a folder" in line


def test_unwritable_checkpoint_dir_fails_before_any_work(tmp_path, capsys):
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    locked = tmp_path / "read_only"
    locked.mkdir(mode=0o500)
    line = one_line_error(train_entry.main, ["2d3d_h36m", "--data_dir", str(tmp_path / "no_data"),
                                             "--checkpoint_dir", str(locked / "runs")], capsys)
    assert "--checkpoint_dir" in line and "is not writable" in line


def test_checkpoint_dir_under_a_file_fails_before_any_work(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    line = one_line_error(train_entry.main, ["2d3d_h36m", "--data_dir", str(tmp_path / "no_data"),
                                             "--checkpoint_dir", str(blocker)], capsys)
    assert f"--checkpoint_dir {blocker}: {blocker} is a file, not a folder" in line


# -- 5. NaN / inf / zero caught when read ----------------------------------------------------------------------------
@pytest.mark.parametrize("field, value, expected", [
    ("joint_self", lambda r: r["joint_self"][0].__setitem__(0, float("nan")), "record 0 field 'joint_self' holds NaN"),
    ("objpos", lambda r: r.__setitem__("objpos", [float("nan"), 1.0]), "record 0 field 'objpos' holds NaN"),
    ("scale_provided", lambda r: r.__setitem__("scale_provided", float("inf")),
     "record 0 field 'scale_provided' holds NaN/inf"),
    ("scale_provided", lambda r: r.__setitem__("scale_provided", float("nan")),
     "record 0 field 'scale_provided' holds NaN/inf"),
    ("headboxes", lambda r: r.__setitem__("headboxes", [[1.0, 1.0], [1.0, 1.0]]),
     "field 'headboxes' has a zero-size head box (record 0)"),
    ("headboxes", lambda r: r.__setitem__("headboxes", [[float("nan"), 1.0], [2.0, 2.0]]),
     "record 0 field 'headboxes' holds NaN"),
    ("headboxes", lambda r: r.__setitem__("headboxes", [1.0, 2.0, 3.0]), "'headboxes' has shape (3,), expected (2, 2)"),
])
def test_bad_values_in_mpii_records_are_named(toy, field, value, expected):
    path = json_records(toy, lambda records: value(records[0]))
    with pytest.raises(InputError) as error:
        read_json_records(path)
    assert str(path) in str(error.value) and expected in str(error.value)


def valid_h5_copy(toy: Path, tmp_path: Path, **changes) -> Path:
    path = tmp_path / "valid.h5"
    with h5py.File(toy / "annot" / "valid.h5", "r") as source, h5py.File(path, "w") as target:
        for key in source:
            target[key] = changes.pop(key)(source[key][()]) if key in changes else source[key][()]
        for key, make in changes.items():
            target[key] = make(None)
    return path


@pytest.mark.parametrize("changes, expected", [
    ({"normalize": lambda v: np.where(np.arange(len(v)) == 1, np.nan, v)},
     "field 'normalize' holds 1 NaN/inf value(s) (first: person 1)"),
    ({"normalize": lambda v: np.zeros_like(v)}, "field 'normalize' must be positive, person 0"),
    ({"center": lambda v: np.full_like(v, np.nan)}, "field 'center' holds"),
    ({"scale": lambda v: np.zeros_like(v)}, "field 'scale' must be positive"),
    ({"visible": lambda v: np.ones((len(v), 3))}, "field 'visible' has shape"),
])
def test_bad_values_in_valid_h5_are_named(toy, tmp_path, changes, expected):
    path = valid_h5_copy(toy, tmp_path, **changes)
    with pytest.raises(InputError) as error:
        read_h5_records(path)
    assert str(path) in str(error.value) and expected in str(error.value)


def test_zero_head_boxes_of_the_standard_mat_are_refused(toy, tmp_path):
    data = scipy.io.loadmat(toy / "detections_our_format.mat")
    data["headboxes_src"][..., 1] = 5.0  # person 1: both corners at (5, 5)
    path = tmp_path / "detections_our_format.mat"
    scipy.io.savemat(path, {k: v for k, v in data.items() if not k.startswith("__")})
    with pytest.raises(InputError, match=r"'headboxes_src' has a zero-size head box \(person 1\)"):
        read_standard_mat(path, require_head_size=True)


@pytest.mark.parametrize("field, value, expected", [
    ("R", np.full((3, 3), np.nan), "'/subject1/camera1/R' holds NaN/inf"),
    ("f", np.zeros(2), "'/subject1/camera1/f' (focal length, px) must be positive"),
])
def test_bad_cameras_are_named(tmp_path, field, value, expected):
    good = dict(R=np.eye(3), T=np.zeros(3), f=np.full(2, 1000.0), c=np.full(2, 500.0), k=np.zeros(3), p=np.zeros(2))
    save_h36m_cameras(tmp_path / "cameras.h5", {(1, "54138969"): Camera(**{**good, field: value}, name="54138969")})
    with pytest.raises(InputError) as error:
        read_cameras(tmp_path / "cameras.h5", (1,))
    assert str(tmp_path / "cameras.h5") in str(error.value) and expected in str(error.value)


def test_nan_weights_in_a_checkpoint_are_named(tmp_path, checkpoints):
    payload = load_checkpoint(checkpoints[1])
    name = next(iter(payload["model_state"]))
    payload["model_state"][name][...] = float("nan")
    save_checkpoint(tmp_path / "nan.pt", {k: v for k, v in payload.items() if k != "format"})
    with pytest.raises(CheckpointError, match=rf"nan\.pt: model_state holds NaN/inf values in 1 tensor\(s\) "
                                              rf"\(first: {name}\)"):
        load_checkpoint(tmp_path / "nan.pt")


def test_non_finite_loss_before_any_checkpoint_does_not_claim_one(tmp_path, capsys):
    from tests import distributed_worker as worker

    argv = ["--out", str(tmp_path / "out"), "--checkpoint_dir", str(tmp_path / "checkpoints"), "--exp", "early",
            "--epochs", "1", "--nan_at_step", "1"]
    assert worker.main(argv) == 1
    err = capsys.readouterr().err
    assert "No checkpoint was written before it" in err and "last good checkpoint" not in err
    assert not (tmp_path / "checkpoints" / "toy_early" / "last.pt").exists()


# -- 6. one line for every bad input -------------------------------------------------------------------------------
def test_images_named_like_images_that_are_not_files_or_too_large(tmp_path, checkpoints, capsys):
    images = tmp_path / "images"
    images.mkdir()
    os.mkfifo(images / "pipe.jpg")  # reading it would block forever
    common = ["hourglass_mpii", "--load", str(checkpoints[0]), "--output_dir", str(tmp_path / "out")]
    line = one_line_error(run_entry.main, [*common, "--image_dir", str(images)], capsys)
    assert f"{images / 'pipe.jpg'}: is a FIFO (named pipe), not an image file" in line
    (images / "pipe.jpg").unlink()
    (images / "folder.jpg").mkdir()
    line = one_line_error(run_entry.main, [*common, "--image_dir", str(images)], capsys)
    assert f"{images / 'folder.jpg'}: is a folder, not an image file" in line
    (images / "folder.jpg").rmdir()
    (images / "huge.png").write_bytes(png_header(20_000, 10_000))  # 200 megapixels
    line = one_line_error(run_entry.main, [*common, "--image_dir", str(images)], capsys)
    assert str(images / "huge.png") in line and "decompression bomb" in line
    with pytest.raises(InputError, match="decompression bomb"):
        read_image(images / "huge.png")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_corrupt_and_mislabelled_files_get_one_line(tmp_path, toy, checkpoints, capsys):
    text = tmp_path / "text"
    text.write_text("just some text\n")
    for suffix in (".h5", ".pt", ".npz", ".mat"):
        shutil.copy(text, tmp_path / f"text{suffix}")
    out = ["--output_dir", str(tmp_path / "out")]
    preds = tmp_path / "preds.mat"
    scipy.io.savemat(preds, {"preds": np.zeros((2, 16, 2))})
    cases = [
        (eval_entry.main, ["mpii_PCKh", "--prediction_files", str(preds), "--gt", str(tmp_path / "text.h5"), *out],
         "text.h5: cannot be read as HDF5"),
        (eval_entry.main, ["mpii_PCKh", "--prediction_files", str(tmp_path / "text.mat"), "--gt",
                           str(toy / "detections_our_format.mat"), *out], "text.mat: cannot be read as a MATLAB"),
        (run_entry.main, ["2d3d_h36m", "--load", str(tmp_path / "text.pt"), "--input", str(preds), *out],
         "text.pt: cannot be read as a stitchpose checkpoint"),
        (run_entry.main, ["2d3d_h36m", "--load", str(checkpoints[1]), "--input", str(tmp_path / "text.npz"), *out],
         "text.npz: not an .npz file"),
    ]
    for main, argv, expected in cases:
        assert expected in one_line_error(main, argv, capsys)


def test_corrupt_pose_h5_gets_one_line(tmp_path, capsys):
    folder = write_fake_h36m(tmp_path / "h36m", subjects=(1, 9), frames=8, layout="baseline")
    victim = next((folder / "S1" / "MyPoses" / "3D_positions").glob("*.h5"))
    victim.write_text("not HDF5")
    line = one_line_error(train_entry.main, ["2d3d_h36m", "--data_dir", str(folder), "--train_subjects", "1",
                                             "--test_subjects", "9", "--epochs", "1",
                                             "--checkpoint_dir", str(tmp_path / "runs")], capsys)
    assert str(victim) in line


@pytest.mark.parametrize("values", [np.full((2, 16, 2), "abc"), np.array([{"a": 1}, None], dtype=object)])
def test_string_or_object_predictions_get_one_line(tmp_path, toy, values, capsys):
    path = tmp_path / "preds.npz"
    np.savez(path, preds=values)
    line = one_line_error(eval_entry.main, ["mpii_PCKh", "--prediction_files", str(path), "--gt",
                                            str(toy / "detections_our_format.mat"),
                                            "--output_dir", str(tmp_path / "out")], capsys)
    assert str(path) in line


def test_string_3d_predictions_get_one_line(tmp_path, capsys):
    path = tmp_path / "preds_3d.npz"
    np.savez(path, poses_3d=np.full((2, 17, 3), "x"), ground_truth_3d=np.zeros((2, 17, 3)))
    line = one_line_error(eval_entry.main, ["h36m_MPJPE", "--predictions", str(path),
                                            "--output_dir", str(tmp_path / "out")], capsys)
    assert f"{path}: field 'poses_3d' is not an array of numbers" in line


def test_checkpoint_whose_config_does_not_match_its_weights(tmp_path, checkpoints, capsys):
    payload = load_checkpoint(checkpoints[1])
    payload["model_config"]["linear_size"] = 64  # the weights are of a 32-wide lifter
    save_checkpoint(tmp_path / "edited.pt", {k: v for k, v in payload.items() if k != "format"})
    inputs = tmp_path / "poses.npz"
    np.savez(inputs, poses_2d=np.zeros((2, 16, 2)))
    line = one_line_error(run_entry.main, ["2d3d_h36m", "--load", str(tmp_path / "edited.pt"), "--input",
                                           str(inputs), "--output_dir", str(tmp_path / "out")], capsys)
    assert "edited.pt: the weights (model_state) do not match the network its model_config describes" in line


@pytest.mark.parametrize("argv, expected", [
    (["2d3d_h36m", "--lr", "nan"], "--lr must be a finite number, got nan"),
    (["2d3d_h36m", "--lr", "inf"], "--lr must be a finite number, got inf"),
    (["2d3d_h36m", "--device", "foo"], "--device 'foo' is not a torch device"),
    (["hourglass_mpii", "--valid_limit", "-1"], "--valid_limit must be positive, got -1"),
    (["hourglass_mpii", "--input_res", "0"], "--input_res must be positive, got 0"),
    (["hourglass_mpii", "--sigma", "0"], "--sigma must be positive, got 0.0"),
    (["hourglass_mpii", "--cache_res", "-5"], "--cache_res must be positive, got -5"),
    (["2d3d_h36m", "--checkpoint_every", "-1"], "--checkpoint_every must be >= 0, got -1"),
    (["2d3d_h36m", "--exp", "../elsewhere"], "--exp '../elsewhere' must be a plain name"),
    (["2d3d_h36m", "--exp", "a/b"], "--exp 'a/b' must be a plain name"),
])
def test_bad_option_values_are_refused_before_any_work(argv, expected, capsys):
    assert expected in usage_error(train_entry.main, argv, capsys)


# -- 7. quietly wrong results -------------------------------------------------------------------------------------
def test_metres_scored_as_mm_are_flagged(tmp_path, capsys):
    rng = np.random.default_rng(0)
    truth_mm = rng.normal(0, 300, size=(5, 17, 3))
    path = tmp_path / "metres.npz"
    np.savez(path, poses_3d=truth_mm / 1000.0, ground_truth_3d=truth_mm)
    assert eval_entry.main(["h36m_MPJPE", "--predictions", str(path), "--output_dir", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "1000x smaller than the ground truth" in out and "are they in metres?" in out
    np.savez(path, poses_3d=truth_mm + 1.0, ground_truth_3d=truth_mm)
    assert eval_entry.main(["h36m_MPJPE", "--predictions", str(path), "--output_dir", str(tmp_path / "out")]) == 0
    assert "are they in metres?" not in capsys.readouterr().out


def test_fewer_rows_than_the_ground_truth_are_counted(tmp_path, capsys):
    names = np.array([f"S9/Walking/54138969/{i:06d}" for i in range(6)])
    truth = np.random.default_rng(1).normal(0, 300, size=(6, 17, 3))
    np.savez(tmp_path / "gt.npz", poses_3d=truth, names=names)
    np.savez(tmp_path / "preds.npz", poses_3d=truth[:4], names=names[:4])
    assert eval_entry.main(["h36m_MPJPE", "--predictions", str(tmp_path / "preds.npz"), "--ground_truth",
                            str(tmp_path / "gt.npz"), "--output_dir", str(tmp_path / "out")]) == 0
    assert "scoring 4 of the 6 ground-truth rows" in capsys.readouterr().out


def test_same_named_prediction_files_get_distinct_models_and_reports(tmp_path, toy, capsys):
    truth = scipy.io.loadmat(toy / "detections_our_format.mat")["pos_gt_src"].transpose(2, 0, 1)
    for folder, shift in (("a", 0.0), ("b", 50.0)):
        (tmp_path / folder).mkdir()
        scipy.io.savemat(tmp_path / folder / "preds.mat", {"preds": truth + shift})
    files = [str(tmp_path / "a" / "preds.mat"), str(tmp_path / "b" / "preds.mat")]
    reports = eval_entry.SCRIPTS["mpii_PCKh"].run(parse_script_options(
        "eval", "mpii_PCKh", eval_entry.SCRIPTS["mpii_PCKh"],
        ["--prediction_files", *files, "--gt", str(toy / "detections_our_format.mat"),
         "--output_dir", str(tmp_path / "out")]))
    assert list(reports) == ["a_preds", "b_preds"]
    assert reports["a_preds"]["Mean"] == 100.0 and reports["b_preds"]["Mean"] < 100.0
    assert {p.name for p in (tmp_path / "out").glob("*.json")} == {"a_preds_pckh.json", "b_preds_pckh.json"}
    assert "--model_names x x: the names must differ" in usage_error(
        eval_entry.main, ["mpii_PCKh", "--prediction_files", *files, "--model_names", "x", "x"], capsys)
    assert "--model_names '../x' must be a plain name" in usage_error(
        eval_entry.main, ["mpii_PCKh", "--prediction_files", files[0], "--model_names", "../x"], capsys)


# -- 8. paths stay where they belong ------------------------------------------------------------------------------
@pytest.mark.parametrize("name, problem", [("../outside.jpg", "leaves the folder ('..')"),
                                           ("/etc/passwd", "is an absolute path"),
                                           ("sub/../../outside.jpg", "leaves the folder ('..')")])
def test_annotation_image_paths_outside_the_image_folder_are_refused(tmp_path, toy, name, problem):
    data = tmp_path / "data"
    shutil.copytree(toy, data)
    records = json.loads((data / "mpii_annotations.json").read_text())
    records[1]["img_paths"] = name
    (data / "mpii_annotations.json").write_text(json.dumps(records))
    (data / "annot" / "valid.h5").unlink()
    with pytest.raises(InputError) as error:
        load_split(data, "all")
    assert f"img_paths of record 1 ('{name}') {problem}" in str(error.value)
    assert "--allow_outside_paths" in str(error.value)
    assert load_split(data, "all", allow_outside_paths=True).image_names[1] == name


def test_symbolic_links_in_a_run_folder_are_not_written_through(tmp_path):
    run_dir = tmp_path / "toy_linked"
    run_dir.mkdir()
    target = tmp_path / "somebody_elses_file"
    target.write_text("precious\n")
    (run_dir / "log.txt").symlink_to(target)
    with pytest.raises(InputError, match=r"log\.txt: is a symbolic link"):
        start_run(RunSettings("toy", exp="linked", checkpoint_dir=str(tmp_path)), "toy")
    assert target.read_text() == "precious\n"


def test_checkpoints_and_outputs_follow_the_umask(tmp_path):
    previous = os.umask(0o022)
    try:
        save_torch_atomic({"w": torch.ones(1)}, tmp_path / "last.pt")
        save_npz_atomic(tmp_path / "preds.npz", preds=np.ones(1))
        os.umask(0o077)
        save_torch_atomic({"w": torch.ones(1)}, tmp_path / "private.pt")
    finally:
        os.umask(previous)
    assert (tmp_path / "last.pt").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "preds.npz").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "private.pt").stat().st_mode & 0o777 == 0o600


# -- 9. leftovers ------------------------------------------------------------------------------------------------------
def test_pool_workers_end_when_their_parent_is_killed(tmp_path):
    script = ("import os, sys, time; from synthetic.generate import _executor; "
              "executor = _executor(2); pids = {executor.submit(os.getpid).result() for _ in range(8)}; "
              "futures = [executor.submit(time.sleep, 0.2) for _ in range(4)]; [f.result() for f in futures]; "
              "pids |= set(executor._processes); print(' '.join(map(str, sorted(pids))), flush=True); time.sleep(120)")
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    workers = [int(pid) for pid in parent.stdout.readline().split()]
    assert len(workers) == 2
    parent.send_signal(signal.SIGKILL)
    parent.wait()

    def alive(pid: int) -> bool:
        try:
            return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] not in "ZX"
        except (FileNotFoundError, IndexError):
            return False

    deadline_polls = 200  # the workers look every second; polled every 0.1 s
    while any(alive(pid) for pid in workers) and deadline_polls:
        subprocess.run(["sleep", "0.1"])
        deadline_polls -= 1
    assert not any(alive(pid) for pid in workers)


def test_caches_are_listed_and_cleared(tmp_path, monkeypatch, capsys):
    from utils import paths

    monkeypatch.setenv(paths.CACHE_ENV, str(tmp_path))
    (tmp_path / "twod_threed").mkdir()
    (tmp_path / "twod_threed" / "pairs.pt").write_bytes(b"x" * 2_000_000)
    (tmp_path / "hourglass").mkdir()
    (tmp_path / "hourglass" / "crops.h5").write_bytes(b"x" * 500_000)
    assert paths.main([]) == 0
    listing = capsys.readouterr().out
    assert "2.0 MB" in listing and "0.5 MB" in listing and "2.5 MB  in all" in listing
    assert paths.main(["--clear", "twod_threed"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hourglass"]
    assert paths.main(["--clear"]) == 0
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(SystemExit, match="no cache named ../x"):
        paths.clear_caches(["../x"])


def test_atomic_temporary_files_carry_the_writer_pid(tmp_path):
    with atomic_path(tmp_path / "file.bin") as temp:
        assert temp.name.startswith(f".file.bin.{os.getpid()}.") and temp.name.endswith(".tmp")
        assert remove_orphan_temps(tmp_path) == []  # its writer lives
        temp.write_bytes(b"done")
    assert (tmp_path / "file.bin").read_bytes() == b"done"


def test_an_input_error_in_a_data_loader_worker_is_still_one_line(tmp_path, toy, checkpoints, capsys):
    data = tmp_path / "data"
    shutil.copytree(toy, data)
    victim = sorted((data / "images").iterdir())[0]
    victim.unlink()
    os.mkfifo(victim)  # read by a worker process
    line = one_line_error(run_entry.main, ["hourglass_mpii", "--load", str(checkpoints[0]), "--data_dir", str(data),
                                           "--split", "all", "--workers", "1", "--output_dir", str(tmp_path / "out")],
                          capsys)
    assert line == f"run.py hourglass_mpii: error: {victim}: is a FIFO (named pipe), not an image file"


def test_a_training_run_whose_disk_fills_ends_in_one_line_and_keeps_its_checkpoint(tmp_path, monkeypatch, capsys):
    import tensorboardX.record_writer as record_writer
    from tests import distributed_worker as worker

    common = ["--out", str(tmp_path / "out"), "--checkpoint_dir", str(tmp_path / "checkpoints"), "--exp", "full"]
    assert worker.main([*common, "--epochs", "1"]) == 0
    last = tmp_path / "checkpoints" / "toy_full" / "last.pt"
    saved = load_checkpoint(last)
    capsys.readouterr()

    write, writes = record_writer.RecordWriter.write, []

    def fills_up(self, data):  # the disk fills after a few events of the resumed run
        writes.append(len(data))
        if len(writes) > 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return write(self, data)

    monkeypatch.setattr(record_writer.RecordWriter, "write", fills_up)
    assert worker.main([*common, "--epochs", "3", "--load", str(last)]) == 1  # used to hang here
    err = capsys.readouterr().err
    assert "Traceback" not in err
    tb_dir = last.parent / "tb"
    assert f"train.py toy: error: {tb_dir}: cannot write TensorBoard events (No space left on device)" in err
    kept = load_checkpoint(last)  # the last complete checkpoint: epoch 1's, or a later complete one
    assert kept["epoch"] >= saved["epoch"] and all(torch.isfinite(v).all() for v in kept["model_state"].values())
    assert not list(last.parent.glob(".*.tmp"))
