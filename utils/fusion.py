"""Batch-norm folding for inference: a batch norm right after a convolution or a linear layer is an affine map per
channel, so in eval mode it merges into that layer's weights and bias (as fast pose systems deploy their networks).

    y = gamma * (W x + b - mean) / sqrt(var + eps) + beta = (s W) x + s (b - mean) + beta,  s = gamma / sqrt(var + eps)

Only pairs that follow each other inside an `nn.Sequential` are folded (Conv2d -> BatchNorm2d, Linear ->
BatchNorm1d); a batch norm after a sum or before its layer (the hourglass's pre-activation residuals begin with one)
has no layer to go into and stays. The folded network computes the same function up to float rounding.
"""
from __future__ import annotations

import copy

from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval, fuse_linear_bn_eval

FOLDABLE = ((nn.Conv2d, nn.BatchNorm2d, fuse_conv_bn_eval), (nn.Linear, nn.BatchNorm1d, fuse_linear_bn_eval))


def _fuse_sequential(sequence: nn.Sequential) -> int:
    """Fold in place the foldable pairs of one Sequential's direct children; returns how many."""
    names = list(sequence._modules)
    folded = 0
    for first, second in zip(names, names[1:]):
        layer, norm = sequence._modules[first], sequence._modules[second]
        for layer_type, norm_type, fuse in FOLDABLE:
            if type(layer) is layer_type and type(norm) is norm_type and norm.track_running_stats:
                sequence._modules[first] = fuse(layer, norm)
                sequence._modules[second] = nn.Identity()
                folded += 1
    return folded


def fuse_batch_norms(model: nn.Module) -> nn.Module:
    """A copy of `model` in eval mode with every batch norm that directly follows a convolution or linear layer in
    a Sequential folded into it (see the module docstring). `model.folded_batch_norms` says how many were folded."""
    fused = copy.deepcopy(model).eval()
    count = sum(_fuse_sequential(module) for module in list(fused.modules()) if isinstance(module, nn.Sequential))
    fused.folded_batch_norms = count
    return fused
