"""The shared training loop on a tiny regression (tests/distributed_worker.py): resume, NaN stops, amp, clipping,
AMSGrad, the epoch sampler."""
from __future__ import annotations

import random
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from options import parse_script_options
from tests import distributed_worker as worker
from utils.checkpoints import load_checkpoint
from utils.sampling import EpochSampler
from utils.runs import RunSettings, start_run
from utils.training import LoopSettings, Trainer, TrainingDiverged, build_optimizer

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKER = REPO_ROOT / "tests" / "distributed_worker.py"
STEPS_PER_EPOCH = 8  # 64 samples, batch 8


def run_in_process(tmp_path: Path, *args: str, name: str = "run", status: int = 0) -> dict | None:
    """Train the tiny regression in this process; returns what rank 0 wrote (None when it stopped early)."""
    out = tmp_path / name
    argv = ["--out", str(out), "--checkpoint_dir", str(tmp_path / "checkpoints"), "--exp", name, *args]
    assert worker.main(argv) == status
    return torch.load(out / "rank0.pt", weights_only=True) if status == 0 else None


def run_subprocess(tmp_path: Path, *args: str, name: str) -> subprocess.CompletedProcess:
    command = [sys.executable, str(WORKER), "--out", str(tmp_path / name), "--checkpoint_dir",
               str(tmp_path / "checkpoints"), "--exp", name, *args]
    return subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)


def assert_same_params(first: dict, second: dict, atol: float = 0.0) -> None:
    assert first.keys() == second.keys()
    for key in first:
        torch.testing.assert_close(first[key], second[key], atol=atol, rtol=0.0, msg=f"parameter {key} differs")


# -- resume without loss -----------------------------------------------------------------------------------------
@pytest.mark.slow
def test_sigkilled_runs_resume_to_the_same_weights_as_an_uninterrupted_run(tmp_path):
    # Dropout and input noise make every step draw random numbers: resume must reproduce those draws too.
    common = ["--deterministic", "--epochs", "2", "--checkpoint_every", "3", "--dropout", "0.3", "--noise", "0.1"]
    try:
        uninterrupted = run_in_process(tmp_path, *common, name="whole")
    finally:
        torch.use_deterministic_algorithms(False)

    # Killed at global step 5: `last` holds step 3 (mid-epoch 1).
    first = run_subprocess(tmp_path, *common, "--kill_at_step", "5", name="cut")
    assert first.returncode == -signal.SIGKILL, first.stderr
    last = tmp_path / "checkpoints" / "toy_cut" / "last.pt"
    payload = load_checkpoint(last, kind="toy")
    assert (payload["epoch"], payload["step_in_epoch"], payload["global_step"]) == (0, 3, 3)
    assert not list(last.parent.glob(".*.tmp")), "a temporary checkpoint file was left behind"

    # Resumed, and killed again at step 11: `last` holds the end of epoch 1 (step 8); resumed again to the end.
    second = run_subprocess(tmp_path, *common, "--kill_at_step", "11", "--load", str(last), name="cut")
    assert second.returncode == -signal.SIGKILL, second.stderr
    payload = load_checkpoint(last, kind="toy")
    assert (payload["epoch"], payload["step_in_epoch"], payload["global_step"]) == (1, 0, 8)
    third = run_subprocess(tmp_path, *common, "--load", str(last), name="cut")
    assert third.returncode == 0, third.stderr
    assert "resuming at epoch 2, after step 0" in third.stdout

    resumed = torch.load(tmp_path / "cut" / "rank0.pt", weights_only=True)
    assert_same_params(uninterrupted["params"], resumed["params"])
    assert resumed["seen"] == uninterrupted["seen"][8:]
    assert resumed["metrics"] == uninterrupted["metrics"]


def test_resume_mid_epoch_runs_exactly_the_remaining_steps(tmp_path):
    whole = run_in_process(tmp_path, "--epochs", "2", "--checkpoint_every", "3", name="whole")
    # Stops before step 6 of epoch 1 is taken: `last` holds step 3.
    run_in_process(tmp_path, "--epochs", "2", "--checkpoint_every", "3", "--nan_at_step", "6", name="cut", status=1)
    last = tmp_path / "checkpoints" / "toy_cut" / "last.pt"
    assert load_checkpoint(last)["step_in_epoch"] == 3
    resumed = run_in_process(tmp_path, "--epochs", "2", "--checkpoint_every", "3", "--load", str(last), name="cut")
    assert len(whole["seen"]) == 2 * STEPS_PER_EPOCH
    assert resumed["seen"] == whole["seen"][3:]
    assert_same_params(whole["params"], resumed["params"])


# -- NaN / inf ---------------------------------------------------------------------------------------------------
def test_nan_loss_stops_with_a_clear_message_and_keeps_the_last_good_checkpoint(tmp_path, capsys):
    run_in_process(tmp_path, "--epochs", "2", "--checkpoint_every", "2", "--nan_at_step", "5", name="nan", status=1)
    message = capsys.readouterr().err
    assert message.count("train.py toy: error:") == 1
    assert "non-finite" in message and "step 5 of epoch 1" in message and "last.pt" in message and "--lr" in message
    payload = load_checkpoint(tmp_path / "checkpoints" / "toy_nan" / "last.pt", kind="toy")
    assert payload["global_step"] == 4
    assert all(torch.isfinite(value).all() for value in payload["model_state"].values())


def test_save_refuses_non_finite_weights(tmp_path):
    opts = parse_script_options("train", "toy", worker.SCRIPT, ["--out", str(tmp_path / "out"), "--checkpoint_dir",
                                                                  str(tmp_path / "checkpoints")])
    run = start_run(RunSettings.from_options(opts), kind="toy")
    model = worker.TinyRegressor(4, 0.0)
    settings = LoopSettings(1, "mse", False, checkpoint_fields={"kind": "toy", "model_config": {}})
    trainer = Trainer(run, model, build_optimizer(model.parameters(), "adam", 1e-3), loss_fn=None,
                      sampler=EpochSampler(8, 4), make_batches=None, validate=None, settings=settings)
    trainer.save()
    good = load_checkpoint(tmp_path / "checkpoints" / "toy_default" / "last.pt")["model_state"]
    with torch.no_grad():
        model.layers[0].weight[0, 0] = float("inf")
    with pytest.raises(TrainingDiverged, match="layers.0.weight"):
        trainer.save()
    kept = load_checkpoint(tmp_path / "checkpoints" / "toy_default" / "last.pt")["model_state"]
    assert_same_params(good, kept)
    run.close()


def test_request_stop_ends_the_epoch_after_the_current_step_and_makes_it_the_last(tmp_path):
    result = run_in_process(tmp_path, "--epochs", "3", "--stop_at_step", "3", name="stop")
    assert len(result["seen"]) == 3
    payload = load_checkpoint(tmp_path / "checkpoints" / "toy_stop" / "last.pt")
    assert (payload["epoch"], payload["step_in_epoch"], payload["global_step"]) == (1, 0, 3)
    log = (tmp_path / "checkpoints" / "toy_stop" / "log.txt").read_text()
    assert "stop requested: epoch 1 ends after step 3 and is the last" in log


# -- amp, clipping, optimizers, lr -------------------------------------------------------------------------------
@pytest.mark.parametrize("native_bf16", [True, False], ids=["native_bf16", "no_bf16"])
def test_amp_runs_bfloat16_only_on_a_cpu_with_native_bf16(tmp_path, monkeypatch, native_bf16):
    from utils import precision

    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: native_bf16)
    result = run_in_process(tmp_path, "--epochs", "1", "--amp", name="amp")
    assert result["output_dtypes"] == ["torch.bfloat16" if native_bf16 else "torch.float32"]
    assert all(torch.isfinite(value).all() for value in result["params"].values())
    forced = run_in_process(tmp_path, "--epochs", "1", "--amp", "--amp_dtype", "bf16", name="forced")
    assert forced["output_dtypes"] == ["torch.bfloat16"]
    plain = run_in_process(tmp_path, "--epochs", "1", name="plain")
    assert plain["output_dtypes"] == ["torch.float32"]


def test_grad_clip_bounds_the_global_gradient_norm(tmp_path):
    free = run_in_process(tmp_path, "--epochs", "1", name="free")
    assert max(free["grad_norms"]) > 0.5
    clipped = run_in_process(tmp_path, "--epochs", "1", "--grad_clip", "0.5", name="clipped")
    assert max(clipped["grad_norms"]) <= 0.5 + 1e-5


def test_use_amsprop_selects_adam_with_amsgrad(tmp_path):
    result = run_in_process(tmp_path, "--epochs", "1", "--optimizer", "rmsprop", "--use_amsprop", name="ams")
    assert (result["optimizer"], result["amsgrad"]) == ("Adam", True)
    parameters = [torch.nn.Parameter(torch.zeros(2))]
    assert isinstance(build_optimizer(parameters, "rmsprop", 1e-3), torch.optim.RMSprop)
    assert build_optimizer(parameters, "adam", 1e-3).param_groups[0]["amsgrad"] is False
    with pytest.raises(ValueError, match="unknown optimizer 'sgd'"):
        build_optimizer(parameters, "sgd", 1e-3)


def test_learning_rate_default_and_scale_lr_in_one_process(tmp_path):
    assert run_in_process(tmp_path, "--epochs", "1", name="default")["lr"] == pytest.approx(1e-2)
    assert run_in_process(tmp_path, "--epochs", "1", "--lr", "0.003", "--scale_lr", name="scaled")["lr"] == \
        pytest.approx(0.003)


# -- the epoch sampler -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("num_samples, drop_last", [(64, True), (70, True), (70, False), (5, True)])
def test_epoch_sampler_shards_are_disjoint_and_cover_each_global_batch(num_samples, drop_last):
    single = EpochSampler(num_samples, 8, seed=3, drop_last=drop_last)
    shards = [EpochSampler(num_samples, 4, seed=3, rank=rank, world_size=2, drop_last=drop_last) for rank in (0, 1)]
    for epoch in (0, 1):
        for sampler in (single, *shards):
            sampler.set_epoch(epoch)
        assert shards[0].steps_per_epoch() == shards[1].steps_per_epoch() == single.steps_per_epoch()
        together = torch.cat([shards[0].epoch_indices(), shards[1].epoch_indices()], dim=1)  # (steps, 8)
        assert torch.equal(together, single.epoch_indices())
        if drop_last and num_samples >= 8:
            assert len(set(together.flatten().tolist())) == together.numel()  # no sample twice in an epoch
            assert together.numel() == num_samples // 8 * 8
        else:
            assert set(together.flatten().tolist()) == set(range(num_samples))  # padded by wrapping around
    assert not torch.equal(EpochSampler(64, 8, seed=3).epoch_indices(), single.epoch_indices())  # epoch 1 != 0


def test_epoch_sampler_start_step_skips_whole_steps():
    sampler = EpochSampler(64, 4, seed=1, rank=1, world_size=2)
    sampler.set_epoch(2)
    full = sampler.epoch_indices()
    sampler.set_epoch(2, start_step=5)
    assert torch.equal(torch.stack(list(sampler.batches())), full[5:])
    assert list(sampler) == full[5:].flatten().tolist()
    assert len(sampler) == (8 - 5) * 4


def test_epoch_sampler_without_shuffle_is_in_order():
    sampler = EpochSampler(10, 5, shuffle=False)
    assert sampler.epoch_indices().tolist() == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]


# -- per-step seeds ----------------------------------------------------------------------------------------------
def test_step_seeds_are_distinct_and_reseeding_repeats_the_draws():
    from utils.seeding import seed_step, step_seed

    seeds = {step_seed(seed, rank, epoch, step) for seed in (0, 1) for rank in range(4) for epoch in range(5)
             for step in range(50)}
    assert len(seeds) == 2 * 4 * 5 * 50 and all(0 <= s < 2**63 for s in seeds)
    seed_step(0, 1, 2, 3)
    first = (torch.rand(3), np.random.rand(), random.random())
    torch.rand(5)
    seed_step(0, 1, 2, 3)
    again = (torch.rand(3), np.random.rand(), random.random())
    assert torch.equal(first[0], again[0]) and first[1:] == again[1:]


def test_a_new_run_does_not_replace_an_earlier_one(tmp_path, capsys):
    first = run_in_process(tmp_path, "--epochs", "1", name="same")
    folder = tmp_path / "checkpoints" / "toy_same"
    kept = (folder / "best.pt").read_bytes()
    run_in_process(tmp_path, "--epochs", "1", "--lr", "0.5", name="same", status=1)
    error = capsys.readouterr().err
    assert f"{folder} already holds a run (last.pt)" in error
    assert f"--load {folder / 'last.pt'}" in error and "--overwrite" in error
    assert (folder / "best.pt").read_bytes() == kept  # nothing of the earlier run was touched
    again = run_in_process(tmp_path, "--epochs", "1", "--overwrite", name="same")
    assert_same_params(first["params"], again["params"])  # afresh: the same seed gives the same run


@pytest.mark.slow
def test_compile_trains_the_same_network(tmp_path):
    from utils.compiling import compile_problem

    if compile_problem(torch.device("cpu")):
        pytest.skip(compile_problem(torch.device("cpu")))
    eager = run_in_process(tmp_path, "--epochs", "1", name="eager")
    compiled = run_in_process(tmp_path, "--epochs", "1", "--compile", name="compiled")
    assert_same_params(eager["params"], compiled["params"], atol=1e-5)
