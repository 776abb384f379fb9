"""pytorch-pose (bearpaw) checkpoints -> stitchpose hourglass checkpoints: exact heatmaps, both file formats, the
mean file, every --load, and clear errors."""
import numpy as np
import pytest
import scipy.io
import torch

import run as run_command
import train as train_command
from stacked_hourglass.checkpoint import load_hourglass
from stacked_hourglass.convert_checkpoint import PYTORCH_POSE_MPII_MEAN_RGB, convert_bearpaw, main
from stacked_hourglass.model import HourglassConfig, HourglassNet, count_parameters, normalise_input
from utils.errors import InputError

BN = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")


def bottleneck_names(prefix: str, in_channels: int, out_channels: int) -> list[str]:
    """pytorch-pose's Bottleneck: bn1 conv1 bn2 conv2 bn3 conv3 (+ downsample.0 when the channels change)."""
    names = []
    for i in (1, 2, 3):
        names += [f"{prefix}.bn{i}.{p}" for p in BN] + [f"{prefix}.conv{i}.{p}" for p in ("weight", "bias")]
    return names + ([f"{prefix}.downsample.0.{p}" for p in ("weight", "bias")] if in_channels != out_channels else [])


def bearpaw_names(stacks: int, blocks: int, features: int, depth: int = 4) -> list[str]:
    """The state-dict keys of pytorch-pose's HourglassNet, written from its module structure (models/hourglass.py):
    conv1 bn1 layer1-3, hg[s].hg[level][branch][block] (branch 3 only at level 0), res, fc, score, fc_, score_."""
    names = ["conv1.weight", "conv1.bias", *(f"bn1.{p}" for p in BN), *bottleneck_names("layer1.0", 64, 128),
             *bottleneck_names("layer2.0", 128, features), *bottleneck_names("layer3.0", features, features)]
    for s in range(stacks):
        for level in range(depth):
            for branch in range(4 if level == 0 else 3):
                names += [n for b in range(blocks) for n in bottleneck_names(f"hg.{s}.hg.{level}.{branch}.{b}",
                                                                              features, features)]
        names += [n for b in range(blocks) for n in bottleneck_names(f"res.{s}.{b}", features, features)]
        names += [f"fc.{s}.0.weight", f"fc.{s}.0.bias", *(f"fc.{s}.1.{p}" for p in BN), f"score.{s}.weight",
                  f"score.{s}.bias"]
        if s < stacks - 1:
            names += [f"fc_.{s}.weight", f"fc_.{s}.bias", f"score_.{s}.weight", f"score_.{s}.bias"]
    return names


def test_key_names_of_pytorch_pose_cover_the_network_for_any_stacks_and_blocks():
    from stacked_hourglass.convert_checkpoint import our_key

    for stacks, blocks in ((1, 1), (2, 1), (3, 2)):
        config = HourglassConfig(stacks=stacks, blocks=blocks, features=32)
        names = bearpaw_names(stacks, blocks, 32)
        mapped = [our_key(name, 4) for name in names]
        assert len(set(mapped)) == len(names)
        assert set(mapped) == set(HourglassNet(config).state_dict())
    assert len(bearpaw_names(2, 1, 256)) == 684  # the specimen's count


def write_bearpaw(path, stacks=2, blocks=2, features=16, zip_format=True, seed=0):
    """A pytorch-pose checkpoint of a small random network, tensors of the shapes pytorch-pose's code gives."""
    from stacked_hourglass.convert_checkpoint import our_key

    torch.manual_seed(seed)
    ours = HourglassNet(HourglassConfig(stacks=stacks, blocks=blocks, features=features)).state_dict()
    state = {f"module.{name}": torch.randn_like(ours[our_key(name, 4)].float()).to(ours[our_key(name, 4)].dtype)
             for name in bearpaw_names(stacks, blocks, features)}
    for name in state:
        if name.endswith("running_var"):
            state[name] = state[name].abs() + 0.5
    payload = {"epoch": 7, "arch": "hg", "state_dict": state, "best_acc": 0.5, "optimizer": {}}
    torch.save(payload, path, _use_new_zipfile_serialization=zip_format)
    return path


def test_specimen_checkpoint_reproduces_pytorch_pose_heatmaps(specimens, tmp_path, capsys):
    """The converted network, fed the reference image through this project's normalisation, gives pytorch-pose's
    own heatmaps (both stacks) within 1e-4; the input itself matches pytorch-pose's to float32 rounding."""
    peers = specimens / "peers"
    out = tmp_path / "bearpaw.pt"
    assert main(["--bearpaw", str(peers / "bearpaw_hg_s2_b1_model_best.pth.tar"), "--output", str(out)]) == 0
    log = capsys.readouterr().out
    assert "6,730,912 parameters" in log and "the default, pytorch-pose's MPII mean" in log
    model, config, extras = load_hourglass(out)
    assert config == HourglassConfig(stacks=2, blocks=1, features=256) and count_parameters(model) == 6_730_912
    torch.testing.assert_close(extras["std_rgb"], torch.ones(3))
    with np.load(peers / "bearpaw_hg_s2_b1_reference.npz") as reference:
        image = torch.from_numpy(reference["image_rgb_uint8"]).permute(2, 0, 1)[None].contiguous(
            memory_format=torch.channels_last)
        network_input = normalise_input(image, extras["mean_rgb"], extras["std_rgb"])
        np.testing.assert_allclose(network_input.numpy(), reference["input"], rtol=0, atol=1e-6)
        with torch.no_grad():
            heatmaps = model(network_input)["heatmaps"]
        for stack in (0, 1):
            np.testing.assert_allclose(heatmaps[stack].numpy(), reference[f"heatmaps_stack{stack}"], rtol=0, atol=1e-4)


@pytest.mark.parametrize("zip_format", [True, False], ids=["zip", "legacy"])
def test_both_file_formats_and_the_mean_file(tmp_path, zip_format):
    source = write_bearpaw(tmp_path / "model_best.pth.tar", zip_format=zip_format)
    mean_file = tmp_path / "mean.pth.tar"
    torch.save({"mean": torch.tensor([0.1, 0.2, 0.3]), "std": torch.tensor([0.2, 0.2, 0.2])}, mean_file,
               _use_new_zipfile_serialization=zip_format)
    convert_bearpaw(source, tmp_path / "out.pt", mean_file)
    model, config, extras = load_hourglass(tmp_path / "out.pt")
    assert (config.stacks, config.blocks, config.features, config.num_joints) == (2, 2, 16, 16)
    torch.testing.assert_close(extras["mean_rgb"], torch.tensor([0.1, 0.2, 0.3]))  # the std is not pytorch-pose's
    torch.testing.assert_close(extras["std_rgb"], torch.ones(3))  # normalisation: it divides by nothing
    state = torch.load(source, weights_only=True)["state_dict"]
    torch.testing.assert_close(model.state_dict()["heads.1.weight"], state["module.score.1.weight"])
    torch.testing.assert_close(model.state_dict()["hourglasses.0.inner.inner.inner.inner.0.1.branch.5.weight"],
                               state["module.hg.0.hg.0.3.1.conv2.weight"])
    convert_bearpaw(source, tmp_path / "default.pt")
    torch.testing.assert_close(load_hourglass(tmp_path / "default.pt").extras["mean_rgb"],
                               torch.tensor(PYTORCH_POSE_MPII_MEAN_RGB))


def test_bad_files_are_named(tmp_path, capsys):
    text = tmp_path / "notes.pth.tar"
    text.write_text("not a checkpoint")
    no_state = tmp_path / "no_state.pth.tar"
    torch.save({"epoch": 3, "weights": [1, 2]}, no_state)
    partial = tmp_path / "partial.pth.tar"
    payload = torch.load(write_bearpaw(tmp_path / "full.pth.tar"), weights_only=True)
    del payload["state_dict"]["module.res.1.0.conv2.weight"]
    torch.save(payload, partial)
    bad_mean = tmp_path / "mean.pth.tar"
    torch.save({"mean": torch.zeros(4)}, bad_mean)
    cases = [(["--bearpaw", str(tmp_path / "absent.pth.tar")], "pytorch-pose checkpoint not found"),
             (["--bearpaw", str(text)], "cannot be read as a pytorch-pose checkpoint"),
             (["--bearpaw", str(no_state)], "expected a dict with 'state_dict' of tensors"),
             (["--bearpaw", str(partial)], "1 tensors missing (first: ['features.1.0.0.branch.5.weight'])"),
             (["--bearpaw", str(tmp_path / "full.pth.tar"), "--mean", str(bad_mean)], "expected a dict with 'mean', 3")]
    for argv, message in cases:
        assert main([*argv, "--output", str(tmp_path / "out.pt")]) == 1
        assert message in capsys.readouterr().err, message
    assert not (tmp_path / "out.pt").exists()


@pytest.mark.slow
def test_every_load_accepts_a_converted_checkpoint(toy_mpii, tmp_path):
    converted = convert_bearpaw(write_bearpaw(tmp_path / "model_best.pth.tar", stacks=1, blocks=1, features=16),
                                tmp_path / "converted.pt")
    output = tmp_path / "predictions"
    assert run_command.main(["hourglass_mpii", "--load", str(converted), "--data_dir", str(toy_mpii),
                             "--output_dir", str(output)]) == 0
    assert scipy.io.loadmat(output / "preds_valid.mat")["preds"].shape == (4, 16, 2)
    argv = ["hourglass_mpii", "--data_dir", str(toy_mpii), "--checkpoint_dir", str(tmp_path / "runs"),
            "--cache_dir", str(tmp_path / "cache"), "--exp", "fine_tune", "--batch_size", "4", "--epochs", "1",
            "--load", str(converted)]
    assert train_command.main(argv) == 0  # fine-tunes from the converted weights, from epoch 0
    tuned = load_hourglass(tmp_path / "runs" / "hourglass_mpii_fine_tune" / "last.pt")
    assert tuned.extras["epoch"] == 1
    torch.testing.assert_close(tuned.extras["mean_rgb"], torch.tensor(PYTORCH_POSE_MPII_MEAN_RGB))
