import os
import pickle
from dataclasses import dataclass

import numpy as np
import pytest
import torch

from utils.checkpoints import (CheckpointError, CheckpointKeeper, config_from_dict, config_to_dict,
                               load_checkpoint, rng_state, save_checkpoint, set_rng_state)


@dataclass
class TinyConfig:
    width: int = 4
    depth: int = 2


def payload():
    model = torch.nn.Linear(3, 2)
    return {"kind": "tiny", "model_config": config_to_dict(TinyConfig(width=8)), "model_state": model.state_dict(),
            "normalisation": {"mean": torch.zeros(3)}, "epoch": 3, "rng": rng_state()}


def test_round_trip_is_self_describing(tmp_path):
    path = save_checkpoint(tmp_path / "a.pt", payload())
    loaded = load_checkpoint(path, kind="tiny")
    assert config_from_dict(TinyConfig, loaded["model_config"]) == TinyConfig(width=8)
    assert loaded["epoch"] == 3 and torch.equal(loaded["normalisation"]["mean"], torch.zeros(3))
    assert not list(tmp_path.glob(".*.tmp")), "temp file left behind"


def test_rng_state_restores_all_generators():
    state = rng_state()
    first = (np.random.rand(), torch.rand(1).item(), __import__("random").random())
    set_rng_state(state)
    assert (np.random.rand(), torch.rand(1).item(), __import__("random").random()) == first


def test_truncated_file_gets_a_clear_error(tmp_path):
    path = save_checkpoint(tmp_path / "a.pt", payload())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="a.pt"):
        load_checkpoint(path)


class Exploit:
    def __reduce__(self):
        return (os.system, ("touch EXPLOITED",))


def test_pickled_code_is_refused_not_executed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.pt"
    torch.save({"format": "stitchpose-checkpoint-v1", "model_state": Exploit()}, path)
    with pytest.raises(CheckpointError, match="evil.pt"):
        load_checkpoint(path)
    assert not (tmp_path / "EXPLOITED").exists()
    plain = tmp_path / "plain.pkl"
    plain.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(CheckpointError):
        load_checkpoint(plain)


def test_foreign_and_wrong_kind(tmp_path):
    torch.save({"state_dict": {}}, tmp_path / "foreign.pt")
    with pytest.raises(CheckpointError, match="not a stitchpose checkpoint"):
        load_checkpoint(tmp_path / "foreign.pt")
    save_checkpoint(tmp_path / "a.pt", payload())
    with pytest.raises(CheckpointError, match="'tiny' model, expected a 'lifter'"):
        load_checkpoint(tmp_path / "a.pt", kind="lifter")
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "missing.pt")


def test_unknown_config_field_is_named():
    with pytest.raises(CheckpointError, match="height"):
        config_from_dict(TinyConfig, {"width": 1, "height": 2})


def test_failed_write_keeps_the_previous_file(tmp_path):
    path = save_checkpoint(tmp_path / "last.pt", payload())
    before = path.read_bytes()
    with pytest.raises(Exception):
        save_checkpoint(path, {"model_state": lambda: None})  # cannot be serialised
    assert path.read_bytes() == before
    assert not list(tmp_path.glob(".*.tmp"))


def test_keeper_tracks_best(tmp_path):
    keeper = CheckpointKeeper(tmp_path, higher_is_better=True)
    assert keeper.save(payload(), metric=0.5)
    assert not keeper.save({**payload(), "epoch": 4}, metric=0.4)
    assert load_checkpoint(keeper.best_path)["epoch"] == 3
    assert load_checkpoint(keeper.last_path)["epoch"] == 4
    assert load_checkpoint(keeper.last_path)["best_metric"] == 0.5
