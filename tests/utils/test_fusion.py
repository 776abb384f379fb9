"""Batch-norm folding: the folded hourglass and lifter compute what the originals compute, with fewer batch norms."""
import torch
from torch import nn

from stacked_hourglass.model import HourglassConfig, HourglassNet
from twod_threed.model import Lifter, LifterConfig
from utils.fusion import fuse_batch_norms


def randomise_statistics(model: nn.Module) -> None:
    """Non-trivial running statistics and affine parameters, so that a wrong fold shows."""
    generator = torch.Generator().manual_seed(0)
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            size = module.num_features
            module.running_mean.copy_(torch.randn(size, generator=generator))
            module.running_var.copy_(torch.rand(size, generator=generator) + 0.5)
            if module.affine:
                module.weight.data.copy_(torch.randn(size, generator=generator))
                module.bias.data.copy_(torch.randn(size, generator=generator))


def batch_norms(model: nn.Module) -> int:
    return sum(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())


def test_a_single_fold_is_the_formula():
    conv, norm = nn.Conv2d(2, 3, 1), nn.BatchNorm2d(3, eps=0.0)
    norm.running_mean.copy_(torch.tensor([1.0, 2.0, 3.0]))
    norm.running_var.copy_(torch.tensor([4.0, 1.0, 0.25]))
    norm.weight.data.copy_(torch.tensor([2.0, 1.0, 1.0]))
    norm.bias.data.copy_(torch.tensor([0.0, 1.0, -1.0]))
    fused = fuse_batch_norms(nn.Sequential(conv, norm))
    # s = gamma / sqrt(var) = (1, 1, 2): weight rows scaled by s, bias s (b - mean) + beta.
    assert torch.allclose(fused[0].weight, conv.weight * torch.tensor([1.0, 1.0, 2.0]).view(3, 1, 1, 1))
    assert torch.allclose(fused[0].bias, (conv.bias - torch.tensor([1.0, 2.0, 3.0])) * torch.tensor([1.0, 1.0, 2.0])
                          + torch.tensor([0.0, 1.0, -1.0]))
    assert isinstance(fused[1], nn.Identity) and fused.folded_batch_norms == 1


def test_folded_hourglass_and_lifter_match_within_1e_4():
    torch.manual_seed(0)
    hourglass = HourglassNet(HourglassConfig(stacks=2, features=16, depth=2, input_res=64)).eval()
    randomise_statistics(hourglass)
    fused = fuse_batch_norms(hourglass)
    images = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        for plain, folded in zip(hourglass(images)["heatmaps"], fused(images)["heatmaps"]):
            assert (plain - folded).abs().max() < 1e-4
    # stem conv + BN, two per residual (after its 1x1 and 3x3 convs), one per stack's feature conv
    assert fused.folded_batch_norms > 0 and batch_norms(fused) == batch_norms(hourglass) - fused.folded_batch_norms
    lifter = Lifter(LifterConfig(linear_size=32, num_stage=2)).eval()
    randomise_statistics(lifter)
    fused_lifter = fuse_batch_norms(lifter)
    assert fused_lifter.folded_batch_norms == 5 and batch_norms(fused_lifter) == 0
    inputs = torch.randn(8, 32)
    with torch.no_grad():
        assert (lifter(inputs) - fused_lifter(inputs)).abs().max() < 1e-4
    assert hourglass.training is False and batch_norms(hourglass) > 0  # the original is left as it was
