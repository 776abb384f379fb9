"""The building block of both GAN players: a fully connected residual network.

Linear(in -> width), then `num_blocks` residual blocks of [Linear, norm, activation] x 2 with a skip connection,
then Linear(width -> out). `norm` is "none" (what a WGAN-GP critic needs: the gradient penalty is per sample, and
batch norm would couple samples), "layer" or "batch".
"""
from __future__ import annotations

import torch
from torch import nn

NORMS = ("none", "layer", "batch")
ACTIVATIONS = ("relu", "leaky_relu")


def _norm(kind: str, width: int) -> nn.Module:
    if kind == "none":
        return nn.Identity()
    if kind == "layer":
        return nn.LayerNorm(width)
    if kind == "batch":
        return nn.BatchNorm1d(width)
    raise ValueError(f"unknown norm '{kind}' (expected one of {NORMS})")


def _activation(kind: str) -> nn.Module:
    if kind == "relu":
        return nn.ReLU()
    if kind == "leaky_relu":
        return nn.LeakyReLU(0.2)
    raise ValueError(f"unknown activation '{kind}' (expected one of {ACTIVATIONS})")


class ResidualBlock(nn.Module):
    """x + f(x), f = [Linear, norm, activation, dropout] x 2; keeps the width."""

    def __init__(self, width: int, norm: str = "none", activation: str = "relu", dropout: float = 0.0):
        super().__init__()
        layers: list[nn.Module] = []
        for _ in range(2):
            layers += [nn.Linear(width, width), _norm(norm, width), _activation(activation)]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)  # (B, width)


class ResidualFC(nn.Module):
    """(B, in_features) -> (B, out_features) through `num_blocks` residual blocks of `width` units."""

    def __init__(self, in_features: int, out_features: int, width: int = 256, num_blocks: int = 2,
                 norm: str = "none", activation: str = "relu", dropout: float = 0.0):
        super().__init__()
        self.stem = nn.Sequential(nn.Linear(in_features, width), _norm(norm, width), _activation(activation))
        self.blocks = nn.Sequential(*(ResidualBlock(width, norm, activation, dropout) for _ in range(num_blocks)))
        self.head = nn.Linear(width, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hidden = self.blocks(self.stem(x))  # (B, width)
        return self.head(hidden)  # (B, out_features)
