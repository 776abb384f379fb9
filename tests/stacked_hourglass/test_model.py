import dataclasses

import pytest
import torch

from stacked_hourglass.model import HourglassConfig, HourglassNet, count_parameters, normalise_input

TINY = HourglassConfig(stacks=2, blocks=1, features=16, input_res=64, attention_heads=2)


def test_published_parameter_counts():
    assert count_parameters(HourglassNet(HourglassConfig())) == 6_730_912  # stacks=2, blocks=1, features=256


def test_options_change_the_network():
    base = count_parameters(HourglassNet(TINY))
    assert count_parameters(HourglassNet(dataclasses.replace(TINY, features=32))) > base
    assert count_parameters(HourglassNet(dataclasses.replace(TINY, stacks=3))) > base
    assert count_parameters(HourglassNet(dataclasses.replace(TINY, blocks=2))) > base
    assert count_parameters(HourglassNet(dataclasses.replace(TINY, batch_norm_affine=False))) < base
    norms = [m for m in HourglassNet(dataclasses.replace(TINY, use_layer_norm=True)).modules()
             if isinstance(m, (torch.nn.BatchNorm2d, torch.nn.GroupNorm))]
    assert norms and all(isinstance(m, torch.nn.GroupNorm) and m.num_groups == 1 for m in norms)
    bn = HourglassNet(dataclasses.replace(TINY, batch_norm_momentum=0.5)).stem[1]
    assert bn.momentum == 0.5
    torch.manual_seed(0)
    plain = HourglassNet(TINY).heads[0].weight.detach().clone()
    torch.manual_seed(0)
    scaled = HourglassNet(dataclasses.replace(TINY, scale_weight_factor=0.5)).heads[0].weight
    torch.testing.assert_close(scaled, 0.5 * plain)


CONFIGS = {
    "default": TINY,
    "one_stack": dataclasses.replace(TINY, stacks=1),
    "blocks2": dataclasses.replace(TINY, blocks=2),
    "no_intermediate": dataclasses.replace(TINY, intermediate_supervision=False),
    "scaled_weights": dataclasses.replace(TINY, scale_weight_factor=0.1),
    "layer_norm": dataclasses.replace(TINY, use_layer_norm=True),
    "no_affine": dataclasses.replace(TINY, batch_norm_affine=False),
    "momentum": dataclasses.replace(TINY, batch_norm_momentum=0.9),
    "visibility": dataclasses.replace(TINY, predict_joint_visibility=True),
    "attention": dataclasses.replace(TINY, attention=True),
    "input128": dataclasses.replace(TINY, input_res=128, stacks=1),
}


@pytest.mark.parametrize("name", CONFIGS)
def test_forward_backward(name):
    config = CONFIGS[name]
    model = HourglassNet(config).to(memory_format=torch.channels_last)
    images = torch.randn(2, 3, config.input_res, config.input_res).to(memory_format=torch.channels_last)
    output = model(images)
    assert len(output["heatmaps"]) == config.stacks
    assert all(h.shape == (2, 16, config.heatmap_res, config.heatmap_res) for h in output["heatmaps"])
    loss = sum(h.square().mean() for h in output["heatmaps"])
    if config.predict_joint_visibility:
        assert [v.shape for v in output["visibility_logits"]] == [(2, 16)] * config.stacks
        loss = loss + sum(v.square().mean() for v in output["visibility_logits"])
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


def test_attention_sits_at_the_lowest_resolution():
    model = HourglassNet(dataclasses.replace(TINY, attention=True, input_res=128))
    seen = []
    attention = [m for m in model.modules() if type(m).__name__ == "SpatialSelfAttention"]
    assert len(attention) == TINY.stacks
    attention[0].register_forward_hook(lambda module, inputs, output: seen.append(output.shape))
    model(torch.randn(2, 3, 128, 128))
    assert seen == [(2, 16, 2, 2)]  # 128 px input -> 32 px maps -> 2 px after the 4 halvings  # 64 px input -> 16 px maps -> 4 halvings


def test_bf16_autocast_forward():
    model = HourglassNet(TINY).to(memory_format=torch.channels_last)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        heatmaps = model(torch.randn(2, 3, 64, 64))["heatmaps"][-1]
    assert heatmaps.dtype == torch.bfloat16 and torch.isfinite(heatmaps.float()).all()


def test_normalise_input_by_hand():
    images = torch.tensor([0, 255, 51], dtype=torch.uint8).view(1, 3, 1, 1)
    mean, std = torch.tensor([0.5, 0.5, 0.2]), torch.tensor([0.25, 0.5, 0.1])
    out = normalise_input(images, mean, std, colour_gain=torch.tensor([[1.0, 1.0, 2.0]]))
    torch.testing.assert_close(out.flatten(), torch.tensor([-2.0, 1.0, 2.0]))


def test_early_pool_runs_the_stem_residuals_at_heatmap_resolution():
    early = HourglassNet(dataclasses.replace(TINY, early_pool=True))
    assert count_parameters(early) == count_parameters(HourglassNet(TINY))  # same weights, other order
    assert isinstance(early.stem[3], torch.nn.MaxPool2d)
    assert not isinstance(HourglassNet(TINY).stem[3], torch.nn.MaxPool2d)
    seen = {}
    early.stem[4].register_forward_hook(lambda module, inputs, output: seen.update(shape=inputs[0].shape))
    output = early(torch.randn(2, 3, 64, 64))
    assert seen["shape"][-2:] == (16, 16)  # the first residual already sees 64 / 4
    assert output["heatmaps"][-1].shape == (2, 16, 16, 16)
    output["heatmaps"][-1].sum().backward()
    assert all(p.grad is not None for p in early.parameters())
