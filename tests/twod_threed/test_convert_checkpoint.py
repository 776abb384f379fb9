"""A released 3d_pose_baseline_pytorch (weigq) lifter -> this project's lifter checkpoint."""
from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from tests.twod_threed.fake_h36m import write_fake_h36m
from twod_threed.checkpoint import load_lifter
from twod_threed.convert_checkpoint import DIM_USE_3D, convert_weigq, lifter_state, main
from twod_threed.data import load_pose_pairs
from twod_threed.model import count_parameters
from twod_threed.normalization import dataset_statistics
from utils.errors import InputError
from utils.npz import load_npz
from utils.peer_files import load_peer_torch_file


@pytest.fixture(scope="module")
def peers(specimens):
    return specimens / "peers"


@pytest.fixture(scope="module")
def small_h36m(tmp_path_factory):
    return write_fake_h36m(tmp_path_factory.mktemp("h36m"), subjects=(1, 5), frames=10, layout="baseline")


@pytest.fixture(scope="module")
def converted(peers, small_h36m, tmp_path_factory):
    output = tmp_path_factory.mktemp("converted") / "weigq.pt"
    assert main(["--weigq", str(peers / "weigq_ckpt_best.pth.tar"), "--stat_3d", str(peers / "weigq_stat_3d.pth.tar"),
                 "--data_dir", str(small_h36m), "--train_subjects", "1", "5", "--output", str(output)]) == 0
    return output


def test_the_converted_lifter_reproduces_the_released_model(converted, peers):
    model, config, extras = load_lifter(converted)
    reference = load_npz(peers / "weigq_reference.npz")
    assert count_parameters(model) == 4_291_632 and config.max_norm == 0.0
    with torch.no_grad():
        output = model(torch.as_tensor(reference["input_normalised"]))  # (8, 48)
        output_mm = extras["normaliser"].denormalise_3d(output).reshape(-1, 48)
    np.testing.assert_allclose(output.numpy(), reference["output_normalised"], atol=1e-4, rtol=0)
    np.testing.assert_allclose(output_mm.numpy(), reference["output_mm"], atol=1e-4, rtol=0)


def test_imported_weights_are_kept_as_released(peers, small_h36m, tmp_path):
    """No max-norm projection on load or after: rows made 3x longer than the bound stay exactly as released."""
    released = load_peer_torch_file(peers / "weigq_ckpt_best.pth.tar", "a checkpoint")
    state = {k: v * 3 if k.endswith("weight") else v for k, v in released["state_dict"].items()}
    torch.save({**released, "state_dict": state}, tmp_path / "long_rows.pth.tar")
    assert state["linear_stages.0.w1.weight"].norm(dim=1).min() > 1.0  # this project's max_norm default is 1
    convert_weigq(tmp_path / "long_rows.pth.tar", peers / "weigq_stat_3d.pth.tar", small_h36m, tmp_path / "o.pt",
                  (1, 5))
    model, _, _ = load_lifter(tmp_path / "o.pt")
    model.apply_max_norm()  # what training does after every step: off for an imported lifter
    pairs = {"w1.weight": model.stem[0].weight, "linear_stages.1.w2.weight": model.blocks[1].layers[4].weight,
             "linear_stages.0.batch_norm2.running_var": model.blocks[0].layers[5].running_var,
             "w2.bias": model.head.bias}
    for key, value in pairs.items():
        assert torch.equal(value, state[key]), key


def test_statistics_come_from_stat_3d_and_the_training_2d(converted, peers, small_h36m):
    normaliser = load_lifter(converted).extras["normaliser"]
    stat_3d = load_peer_torch_file(peers / "weigq_stat_3d.pth.tar", "stat_3d")
    np.testing.assert_allclose(normaliser.mean_3d.numpy(), stat_3d["mean"][stat_3d["dim_use"]], rtol=1e-6)
    np.testing.assert_allclose(normaliser.std_3d.numpy(), stat_3d["std"][stat_3d["dim_use"]], rtol=1e-6)
    assert np.array_equal(stat_3d["dim_use"], DIM_USE_3D) and normaliser.mode == "dataset"
    pairs = load_pose_pairs(small_h36m, (1, 5), cache=False)
    stats = dataset_statistics(pairs.joints_2d_px, pairs.root_relative_mm, "dataset")
    torch.testing.assert_close(normaliser.mean_2d, stats["mean_2d"])
    torch.testing.assert_close(normaliser.std_2d, stats["std_2d"])


def test_without_data_dir_the_command_says_what_it_needs(peers, tmp_path, capsys):
    assert main(["--weigq", str(peers / "weigq_ckpt_best.pth.tar"), "--stat_3d", str(peers / "weigq_stat_3d.pth.tar"),
                 "--output", str(tmp_path / "out.pt")]) == 1
    assert "--data_dir is required: 3d_pose_baseline_pytorch ships no 2D statistics" in capsys.readouterr().err
    assert not (tmp_path / "out.pt").exists()


class _TouchOnLoad:
    """Unpickling this would create `path` (what a crafted file could do with any callable)."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


def test_peer_files_refuse_anything_but_tensors_literals_and_numpy(tmp_path):
    marker = tmp_path / "marker"
    torch.save({"mean": np.zeros(96), "hook": _TouchOnLoad(marker)}, tmp_path / "crafted.pth.tar",
               _use_new_zipfile_serialization=False)
    with pytest.raises(InputError, match="crafted.pth.tar: cannot be read as stat_3d.*open"):
        load_peer_torch_file(tmp_path / "crafted.pth.tar", "stat_3d")
    assert not marker.exists()
    torch.save({"mean": np.arange(3.0), "err": np.float64(44.5)}, tmp_path / "numpy.pth.tar")
    loaded = load_peer_torch_file(tmp_path / "numpy.pth.tar", "stat_3d")
    assert loaded["mean"].tolist() == [0.0, 1.0, 2.0] and loaded["err"] == 44.5


def test_numpy_1_files_load_under_numpy_2(tmp_path):
    """2018-era files name numpy.core.multiarray (NumPy 1's module); the allow-list knows both names."""
    buffer = io.BytesIO()
    torch.save({"mean": np.arange(3.0), "dim_use": np.arange(2), "err": np.float64(44.5), "w": torch.ones(2)}, buffer,
               _use_new_zipfile_serialization=False)  # the legacy format, pickle protocol 2 (GLOBAL by name)
    assert buffer.getvalue().count(b"numpy._core.multiarray") > 0
    numpy_1 = buffer.getvalue().replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    (tmp_path / "old.pth.tar").write_bytes(numpy_1)
    loaded = load_peer_torch_file(tmp_path / "old.pth.tar", "stat_3d")
    assert loaded["mean"].tolist() == [0.0, 1.0, 2.0] and loaded["dim_use"].dtype == np.int64
    assert loaded["err"] == 44.5 and torch.equal(loaded["w"], torch.ones(2))


def test_foreign_keys_and_bad_statistics_are_named(peers, small_h36m, tmp_path):
    state = load_peer_torch_file(peers / "weigq_ckpt_best.pth.tar", "a checkpoint")["state_dict"]
    with pytest.raises(InputError, match="key 'encoder.weight' is not one of"):
        lifter_state({**state, "encoder.weight": torch.zeros(1)}, tmp_path / "ckpt")
    torch.save({"mean": np.zeros(96), "std": np.ones(96), "dim_use": np.arange(48)}, tmp_path / "stat.pth.tar")
    with pytest.raises(InputError, match="stat.pth.tar: 'dim_use' is \\[0, 1, 2"):
        convert_weigq(peers / "weigq_ckpt_best.pth.tar", tmp_path / "stat.pth.tar", small_h36m, tmp_path / "o.pt",
                      (1, 5))
