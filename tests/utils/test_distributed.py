"""Distributed set-up: launcher detection, and the shared loop under torchrun (DDP, gloo) and horovodrun on CPU.

The multi-process runs train tests/distributed_worker.py with 2 processes of 4 samples each and compare with one
process of 8 samples: with mean losses, averaged gradients make the two the same computation.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests import distributed_worker as worker
from utils.checkpoints import load_checkpoint
from utils.distributed import DistContext, init_distributed, launched_by
from utils.errors import InputError

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKER = REPO_ROOT / "tests" / "distributed_worker.py"
# Per process: batch 4, --lr 0.005 scaled by 2 processes; clipping acts on the averaged gradient.
DISTRIBUTED_ARGS = ["--epochs", "2", "--batch_size", "4", "--lr", "0.005", "--scale_lr", "--grad_clip", "0.5",
                    "--checkpoint_every", "2"]
SINGLE_ARGS = ["--epochs", "2", "--batch_size", "8", "--lr", "0.01", "--grad_clip", "0.5", "--checkpoint_every", "2"]
LAUNCHER_TIMEOUT_S = 120


def launch(command: list[str], tmp_path: Path, name: str, *args: str) -> subprocess.CompletedProcess:
    argv = [*command, str(WORKER), "--out", str(tmp_path / name), "--checkpoint_dir", str(tmp_path / "checkpoints"),
            "--exp", name, *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, text=True, timeout=LAUNCHER_TIMEOUT_S, env=env)


def torchrun(tmp_path: Path, name: str, *args: str) -> subprocess.CompletedProcess:
    return launch([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"],
                  tmp_path, name, *args)


def results(tmp_path: Path, name: str, world_size: int = 2) -> list[dict]:
    return [torch.load(tmp_path / name / f"rank{rank}.pt", weights_only=True) for rank in range(world_size)]


def assert_params_close(first: dict, second: dict, atol: float) -> None:
    assert first.keys() == second.keys()
    for key in first:
        torch.testing.assert_close(first[key], second[key], atol=atol, rtol=0.0, msg=f"parameter {key} differs")


def assert_matches_single_process(ranks: list[dict], single: dict) -> None:
    assert_params_close(ranks[0]["params"], ranks[1]["params"], atol=0.0)  # identical across ranks
    assert_params_close(ranks[0]["params"], single["params"], atol=1e-5)
    assert ranks[0]["metrics"] == ranks[1]["metrics"]  # rank 0 validates, every rank gets its result
    assert ranks[0]["metrics"]["mse"] == pytest.approx(single["metrics"]["mse"], rel=1e-4)
    assert ranks[0]["lr"] == ranks[1]["lr"] == pytest.approx(0.01)  # --scale_lr
    for step, single_indices in enumerate(single["seen"]):  # each step: the two shards make the global batch
        assert ranks[0]["seen"][step] + ranks[1]["seen"][step] == single_indices


@pytest.fixture(scope="module")
def single_run(tmp_path_factory) -> dict:
    tmp_path = tmp_path_factory.mktemp("single")
    argv = ["--out", str(tmp_path / "out"), "--checkpoint_dir", str(tmp_path / "checkpoints"), *SINGLE_ARGS]
    assert worker.main(argv) == 0
    return torch.load(tmp_path / "out" / "rank0.pt", weights_only=True)


# -- one process -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("variables, engine", [
    ({}, "single"),
    ({"RANK": "0", "WORLD_SIZE": "2", "TORCHELASTIC_RUN_ID": "x"}, "ddp"),
    ({"RANK": "1", "WORLD_SIZE": "2"}, "ddp"),
    ({"HOROVOD_RANK": "0", "HOROVOD_SIZE": "2"}, "horovod"),
    ({"OMPI_COMM_WORLD_RANK": "0"}, "horovod"),
])
def test_launcher_is_detected_from_the_environment(monkeypatch, variables, engine):
    for name in ("RANK", "WORLD_SIZE", "TORCHELASTIC_RUN_ID", "HOROVOD_RANK", "OMPI_COMM_WORLD_RANK", "PMI_RANK"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert launched_by() == engine


def test_a_single_process_needs_nothing(monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "TORCHELASTIC_RUN_ID", "HOROVOD_RANK", "OMPI_COMM_WORLD_RANK", "PMI_RANK"):
        monkeypatch.delenv(name, raising=False)
    context = init_distributed("cpu")
    assert context == DistContext() and context.is_main and not context.is_distributed
    values = torch.tensor([1.0, 2.0])
    assert torch.equal(context.all_reduce_sum(values), values)
    assert context.broadcast_object({"mse": 1.5}) == {"mse": 1.5}
    model = torch.nn.Linear(2, 2)
    assert context.wrap_model(model, torch.device("cpu")) is model
    context.barrier()
    context.shutdown()


def test_cuda_device_gets_the_local_rank_and_a_clear_error_without_cuda(monkeypatch):
    selected = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "set_device", selected.append)
    assert DistContext().device("cuda") == torch.device("cuda", 0)
    assert DistContext("ddp", rank=3, world_size=4, local_rank=1).device("cuda") == torch.device("cuda", 1)
    assert DistContext("ddp", rank=3, world_size=4, local_rank=1).device("cuda:0") == torch.device("cuda", 0)
    assert DistContext().device("cpu") == torch.device("cpu")
    assert selected == [torch.device("cuda", 0), torch.device("cuda", 1), torch.device("cuda", 0)]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(InputError, match="--device cuda: this torch sees no CUDA device"):
        DistContext().device("cuda")


def test_horovod_launch_without_horovod_says_what_to_do(monkeypatch):
    try:
        import horovod.torch  # noqa: F401
        pytest.skip("horovod is installed")
    except ImportError:
        pass
    monkeypatch.setenv("HOROVOD_RANK", "0")
    with pytest.raises(RuntimeError, match="make horovod"):
        init_distributed("cpu")


# -- torchrun: DDP with gloo on 2 CPU processes ------------------------------------------------------------------
@pytest.fixture(scope="module")
def ddp_runs(tmp_path_factory) -> tuple:
    """Two launches (to keep the test time down): one stopped by a NaN loss on rank 1 at step 5, with `last.pt`
    from step 4; then the same command resumed from it, which must end where one process of batch 8 ends."""
    tmp_path = tmp_path_factory.mktemp("ddp")
    stopped = torchrun(tmp_path, "cut", *DISTRIBUTED_ARGS, "--nan_at_step", "5", "--nan_rank", "1")
    last = tmp_path / "checkpoints" / "toy_cut" / "last.pt"
    kept = load_checkpoint(last) if last.is_file() else None
    resumed = torchrun(tmp_path, "cut", *DISTRIBUTED_ARGS, "--load", str(last)) if kept is not None else None
    return tmp_path, stopped, kept, resumed


@pytest.mark.distributed
def test_ddp_nan_on_one_rank_stops_both_and_keeps_the_last_good_checkpoint(ddp_runs):
    _, stopped, kept, _ = ddp_runs
    assert stopped.returncode != 0
    assert "the loss became non-finite on another process" in stopped.stdout  # rank 0's log line
    assert stopped.stderr.count("train.py toy: error:") == 2  # both processes stop, neither hangs
    assert stopped.stdout.count("run folder") == 1 and "(ddp, 2 process(es), learning rate x2)" in stopped.stdout
    assert kept is not None and (kept["global_step"], kept["world_size"]) == (4, 2)


@pytest.mark.distributed
def test_ddp_two_processes_resumed_match_one_process_with_the_same_global_batch(ddp_runs, single_run):
    tmp_path, _, _, resumed = ddp_runs
    assert resumed is not None and resumed.returncode == 0, resumed and resumed.stderr[-3000:]
    ranks = results(tmp_path, "cut")
    assert [r["engine"] for r in ranks] == ["ddp", "ddp"]
    assert "resuming at epoch 1, after step 4" in resumed.stdout
    single_from_step_4 = {**single_run, "seen": single_run["seen"][4:]}
    assert_matches_single_process(ranks, single_from_step_4)
    # Only rank 0 logs and writes checkpoints.
    assert resumed.stdout.count("run folder") == 1
    log = (tmp_path / "checkpoints" / "toy_cut" / "log.txt").read_text()
    assert log.count("epoch 2/2") == 1


# -- horovodrun (Gloo) on 2 CPU processes: runs wherever horovod imports ----------------------------------------
@pytest.mark.distributed
def test_horovod_two_processes_match_one_process_with_the_same_global_batch(tmp_path, single_run):
    pytest.importorskip("horovod.torch", reason="horovod is not installed here (`make horovod` builds it)")
    horovodrun = shutil.which("horovodrun", path=str(Path(sys.executable).parent)) or shutil.which("horovodrun")
    assert horovodrun, "horovod imports but its launcher horovodrun is not on PATH"
    result = launch([horovodrun, "-np", "2", "-H", "localhost:2", "--gloo", sys.executable], tmp_path, "hvd",
                    *DISTRIBUTED_ARGS)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    ranks = results(tmp_path, "hvd")
    assert [r["engine"] for r in ranks] == ["horovod", "horovod"]
    assert_matches_single_process(ranks, single_run)
    assert load_checkpoint(tmp_path / "checkpoints" / "toy_hvd" / "last.pt")["world_size"] == 2
