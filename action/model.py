"""The action recogniser: per-frame pose features -> standardised (optionally PCA-projected) -> an LSTM or a causal
temporal convolution over the clip -> action scores.

Padding never reaches the scores: the LSTM reads packed sequences (`pack_padded_sequence`) and scores its last
valid step; the convolution is causal (a step sees only itself and earlier steps) and its outputs are averaged
over the valid steps only. The feature statistics and the PCA basis are buffers of the model, so a checkpoint
alone rebuilds it.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

TEMPORAL_MODELS = ("lstm", "tcn")


@dataclass
class ActionConfig:
    input_dim: int = 48  # per-frame features (48: H36M16_3D mm, 30: hip-relative H36M16_2D px)
    num_classes: int = 15
    temporal: str = "lstm"  # "lstm" | "tcn"
    hidden_size: int = 128
    num_layers: int = 2
    dropout: float = 0.2
    pca_components: int = 0  # 0: the standardised features themselves
    kernel_size: int = 3  # tcn: kernel of each causal convolution (dilations 1, 2, 4, ...)


class CausalConvBlock(nn.Module):
    """Residual block: causal dilated Conv1d -> ReLU -> dropout (left padding only)."""

    def __init__(self, channels: int, kernel_size: int, dilation: int, dropout: float):
        super().__init__()
        self.left_pad = (kernel_size - 1) * dilation
        self.conv = nn.Conv1d(channels, channels, kernel_size, dilation=dilation)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, T)
        return x + self.dropout(torch.relu(self.conv(nn.functional.pad(x, (self.left_pad, 0)))))


class ActionRecognizer(nn.Module):
    def __init__(self, config: ActionConfig):
        super().__init__()
        self.config = config
        features = config.pca_components or config.input_dim
        self.register_buffer("feature_mean", torch.zeros(config.input_dim))
        self.register_buffer("feature_std", torch.ones(config.input_dim))
        self.register_buffer("pca_basis", torch.eye(config.input_dim)[:, :features].clone())  # (F, K)
        if config.temporal == "lstm":
            self.lstm = nn.LSTM(features, config.hidden_size, config.num_layers, batch_first=True,
                                dropout=config.dropout if config.num_layers > 1 else 0.0)
        elif config.temporal == "tcn":
            self.project = nn.Conv1d(features, config.hidden_size, 1)
            self.blocks = nn.Sequential(*(CausalConvBlock(config.hidden_size, config.kernel_size, 2 ** i,
                                                          config.dropout) for i in range(config.num_layers)))
        else:
            raise ValueError(f"temporal model '{config.temporal}', expected one of {TEMPORAL_MODELS}")
        self.dropout = nn.Dropout(config.dropout)
        self.classify = nn.Linear(config.hidden_size, config.num_classes)

    def set_statistics(self, features: torch.Tensor) -> None:
        """Standardisation (and, with pca_components, the principal axes) of training frames (N, F)."""
        mean, std = features.double().mean(0), features.double().std(0).clamp_min(1e-6)
        self.feature_mean.copy_(mean.float())
        self.feature_std.copy_(std.float())
        if self.config.pca_components:
            standardised = (features.double() - mean) / std
            _, _, vt = torch.linalg.svd(standardised - standardised.mean(0), full_matrices=False)
            self.pca_basis.copy_(vt[:self.config.pca_components].T.float())  # (F, K)

    def frame_features(self, features: torch.Tensor) -> torch.Tensor:
        """(B, T, F) raw -> (B, T, K) standardised and projected."""
        return ((features - self.feature_mean) / self.feature_std) @ self.pca_basis

    def forward(self, features: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """features (B, T, F) zero-padded after each clip's `lengths` (B,) steps -> logits (B, num_classes)."""
        x = self.frame_features(features)  # (B, T, K)
        if self.config.temporal == "lstm":
            packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
            _, (hidden, _) = self.lstm(packed)
            summary = hidden[-1]  # (B, H) state after each clip's last valid step
        else:
            y = self.blocks(self.project(x.transpose(1, 2)))  # (B, H, T), causal
            valid = (torch.arange(x.shape[1], device=x.device)[None] < lengths.to(x.device)[:, None]).to(y.dtype)
            summary = (y * valid[:, None]).sum(2) / valid.sum(1, keepdim=True)  # (B, H) mean over valid steps
        return self.classify(self.dropout(summary))


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
