"""run.py export_onnx: the file onnxruntime runs equals the PyTorch module it was exported from (batch norms folded)
within 1e-4, at a batch size other than the example's (the batch axis is dynamic); for the hourglass and the lifter
also the network as trained (unfolded)."""
import importlib.util

import numpy as np
import pytest
import torch

import run as run_command
from stitched.checkpoint import checkpoint_fields, load_stitched
from stitched.export import exportable, onnxruntime_outputs
from utils.checkpoints import save_checkpoint

pytestmark = pytest.mark.slow


def spread_out(stitched_file, output):
    """The stitched fixture with larger heatmap-head weights: an untrained head (std 0.001) puts every joint near the
    crop centre, and the lifter's per-pose normalisation divides by that tiny spread, magnifying float rounding."""
    network = load_stitched(stitched_file).model
    torch.manual_seed(0)
    with torch.no_grad():
        network.hourglass.heads[-1].weight.normal_(std=0.05)
    save_checkpoint(output, {**checkpoint_fields(network), "model_state": network.state_dict()})
    return output


@pytest.mark.parametrize("kind", ["hourglass", "lifter", "stitched"])
def test_onnxruntime_equals_pytorch(stitched_checkpoint, tmp_path, kind):
    if importlib.util.find_spec("onnxruntime") is None or importlib.util.find_spec("onnxscript") is None:
        pytest.skip("onnxruntime/onnxscript are not installed (the 'export' group of pyproject.toml; make setup)")
    checkpoint = stitched_checkpoint.parent / f"{kind}.pt"
    if kind == "stitched":
        checkpoint = spread_out(checkpoint, tmp_path / "stitched.pt")
    output = tmp_path / f"{kind}.onnx"
    assert run_command.main(["export_onnx", "--load", str(checkpoint), "--output", str(output)]) == 0
    for fuse_bn in (True, False):
        module, inputs, input_names, _ = exportable(checkpoint, fuse_bn=fuse_bn, batch=3)
        with torch.no_grad():
            expected = module(*inputs)
        expected = expected if isinstance(expected, tuple) else (expected,)
        found = onnxruntime_outputs(output, inputs, input_names)
        assert len(found) == len(expected) and found[0].shape[0] == 3
        for onnx_output, torch_output in zip(found, expected):
            assert onnx_output.shape == tuple(torch_output.shape)
            assert np.abs(onnx_output - torch_output.numpy()).max() < 1e-4


def test_export_without_the_packages_says_what_to_install(stitched_checkpoint, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "onnxscript" else object())
    assert run_command.main(["export_onnx", "--load", str(stitched_checkpoint.parent / "lifter.pt"),
                             "--output", str(tmp_path / "x.onnx")]) == 1
    assert "needs onnxscript" in capsys.readouterr().err
