"""The stacked hourglass network (Newell et al. 2016): RGB crop -> per-joint heatmaps at 1/4 resolution.

Layout of the common PyTorch port (stacks=2, blocks=1, features=256: 6,730,912 parameters):
  stem    conv7x7/2 (3->64), BN, ReLU, residual 64->128, maxpool/2, residual 128->F, residual F->F
          (`early_pool`: the maxpool comes first, as in ResNet's stem, so every residual runs at heatmap resolution;
          the residual at half the input resolution is most of a small network's work)
  stack   hourglass (depth 4, residual skip per level) -> `blocks` residuals -> 1x1 conv, BN, ReLU -> 1x1 head (J)
          between stacks: next input = x + conv1x1(features) + conv1x1(heatmaps)
Residuals are pre-activation bottlenecks (BN-ReLU-conv1x1, BN-ReLU-conv3x3, BN-ReLU-conv1x1, F/2 middle channels).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class HourglassConfig:
    """Everything that decides the network's shape and normalisation; saved in every checkpoint."""

    stacks: int = 2
    blocks: int = 1  # residuals after each hourglass (and per hourglass level)
    features: int = 256  # channels through the hourglasses; bottleneck middle = features // 2
    early_pool: bool = False  # max-pool right after the 7x7 conv (ResNet's stem): all residuals at heatmap resolution
    num_joints: int = 16
    depth: int = 4  # down-sampling levels per hourglass
    input_res: int = 256  # square input side, px; heatmaps are input_res // 4
    intermediate_supervision: bool = True  # a loss on every stack's heatmaps, not only the last
    scale_weight_factor: float = 1.0  # every weight tensor is multiplied by this at initialisation
    use_layer_norm: bool = False  # GroupNorm(1, C) (layer norm over C, H, W) instead of batch norm
    batch_norm_affine: bool = True
    batch_norm_momentum: float = 0.1
    predict_joint_visibility: bool = False  # an extra head: per-joint visibility logits from each stack
    attention: bool = False  # self-attention between positions at each hourglass's lowest resolution
    attention_heads: int = 4

    def __post_init__(self) -> None:
        assert self.stacks >= 1 and self.blocks >= 1 and self.depth >= 1, self
        assert self.features % 2 == 0 and self.features >= 8, f"features must be even and >= 8, got {self.features}"
        assert self.input_res % (4 * 2 ** self.depth) == 0, \
            f"input_res must be a multiple of {4 * 2 ** self.depth} (stride 4, then {self.depth} halvings)"
        assert not self.attention or self.features % self.attention_heads == 0, "features % attention_heads != 0"

    @property
    def heatmap_res(self) -> int:
        return self.input_res // 4


def shape_options_problem(opts) -> str | None:
    """A usage message when the command's network shape options (--input_res, --features, --stacks, and --blocks
    where the command has it) cannot build a HourglassConfig, else None: checked before any work."""
    if opts.input_res % 64:
        return f"--input_res must be a multiple of 64 (stride 4, then 4 halvings), got {opts.input_res}"
    if opts.features < 8 or opts.features % 2:
        return f"--features must be an even number >= 8, got {opts.features}"
    if opts.stacks < 1 or getattr(opts, "blocks", 1) < 1:
        return "--stacks and --blocks must be >= 1"
    return None


def norm_layer(channels: int, config: HourglassConfig) -> nn.Module:
    if config.use_layer_norm:
        return nn.GroupNorm(1, channels, affine=config.batch_norm_affine)
    return nn.BatchNorm2d(channels, momentum=config.batch_norm_momentum, affine=config.batch_norm_affine)


class Residual(nn.Module):
    """Pre-activation bottleneck: in -> out channels, out // 2 in the middle; 1x1 conv skip when in != out."""

    def __init__(self, in_channels: int, out_channels: int, config: HourglassConfig):
        super().__init__()
        middle = out_channels // 2
        self.branch = nn.Sequential(
            norm_layer(in_channels, config), nn.ReLU(inplace=True), nn.Conv2d(in_channels, middle, 1),
            norm_layer(middle, config), nn.ReLU(inplace=True), nn.Conv2d(middle, middle, 3, padding=1),
            norm_layer(middle, config), nn.ReLU(inplace=True), nn.Conv2d(middle, out_channels, 1))
        self.skip = nn.Conv2d(in_channels, out_channels, 1) if in_channels != out_channels else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, in, H, W) -> (B, out, H, W)
        return self.skip(x) + self.branch(x)


def residuals(in_channels: int, out_channels: int, count: int, config: HourglassConfig) -> nn.Sequential:
    layers = [Residual(in_channels, out_channels, config)]
    layers += [Residual(out_channels, out_channels, config) for _ in range(count - 1)]
    return nn.Sequential(*layers)


class SpatialSelfAttention(nn.Module):
    """Multi-head self-attention between all positions of a (B, C, H, W) map, pre-norm, residual."""

    def __init__(self, channels: int, heads: int):
        super().__init__()
        self.heads = heads
        self.norm = nn.GroupNorm(1, channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.out = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, channels, height, width = x.shape
        qkv = self.qkv(self.norm(x)).reshape(batch, 3, self.heads, channels // self.heads, height * width)
        q, k, v = qkv.transpose(-1, -2).unbind(1)  # each (B, heads, HW, C/heads)
        attended = F.scaled_dot_product_attention(q, k, v)  # (B, heads, HW, C/heads)
        attended = attended.transpose(-1, -2).reshape(batch, channels, height, width)
        return x + self.out(attended)


class Hourglass(nn.Module):
    """One hourglass level: skip branch at this resolution + (maxpool, residuals, inner level, residuals, upsample).
    The innermost level has an extra residual stack (and self-attention when configured)."""

    def __init__(self, depth: int, config: HourglassConfig):
        super().__init__()
        features, blocks = config.features, config.blocks
        self.skip = residuals(features, features, blocks, config)
        self.down = residuals(features, features, blocks, config)
        if depth > 1:
            self.inner: nn.Module = Hourglass(depth - 1, config)
        else:
            bottom = [residuals(features, features, blocks, config)]
            if config.attention:
                bottom.append(SpatialSelfAttention(features, config.attention_heads))
            self.inner = nn.Sequential(*bottom)
        self.up = residuals(features, features, blocks, config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, F, H, W) -> (B, F, H, W)
        lower = self.up(self.inner(self.down(F.max_pool2d(x, 2))))  # (B, F, H/2, W/2)
        return self.skip(x) + F.interpolate(lower, scale_factor=2.0, mode="nearest")


class HourglassOutput(dict):
    """`heatmaps`: list of (B, J, H/4, W/4) per stack; `visibility_logits`: list of (B, J) (when predicted)."""


class HourglassNet(nn.Module):
    def __init__(self, config: HourglassConfig):
        super().__init__()
        self.config = config
        features, joints = config.features, config.num_joints
        first = [Residual(64, 128, config), nn.MaxPool2d(2)]
        self.stem = nn.Sequential(
            nn.Conv2d(3, 64, 7, stride=2, padding=3), norm_layer(64, config), nn.ReLU(inplace=True),
            *(reversed(first) if config.early_pool else first),
            Residual(128, features, config),
            Residual(features, features, config))
        self.hourglasses = nn.ModuleList(Hourglass(config.depth, config) for _ in range(config.stacks))
        self.features = nn.ModuleList(
            nn.Sequential(residuals(features, features, config.blocks, config), nn.Conv2d(features, features, 1),
                          norm_layer(features, config), nn.ReLU(inplace=True)) for _ in range(config.stacks))
        self.heads = nn.ModuleList(nn.Conv2d(features, joints, 1) for _ in range(config.stacks))
        self.remap_features = nn.ModuleList(nn.Conv2d(features, features, 1) for _ in range(config.stacks - 1))
        self.remap_heatmaps = nn.ModuleList(nn.Conv2d(joints, features, 1) for _ in range(config.stacks - 1))
        self.visibility_heads = nn.ModuleList(
            nn.Linear(features, joints) for _ in range(config.stacks if config.predict_joint_visibility else 0))
        for head in self.heads:  # near-zero initial heatmaps (as Simple Baselines / MMPose heads): no early phase
            nn.init.normal_(head.weight, std=0.001)  # spent shrinking large random outputs
            nn.init.zeros_(head.bias)
        if config.scale_weight_factor != 1.0:
            with torch.no_grad():
                for name, parameter in self.named_parameters():
                    if name.endswith("weight"):
                        parameter.mul_(config.scale_weight_factor)

    def forward(self, images: torch.Tensor) -> HourglassOutput:
        """images: (B, 3, R, R) normalised RGB -> HourglassOutput (heatmaps per stack, (B, J, R/4, R/4))."""
        x = self.stem(images)  # (B, F, R/4, R/4)
        heatmaps, visibility = [], []
        for stack in range(self.config.stacks):
            features = self.features[stack](self.hourglasses[stack](x))  # (B, F, R/4, R/4)
            stack_heatmaps = self.heads[stack](features)  # (B, J, R/4, R/4)
            heatmaps.append(stack_heatmaps)
            if self.config.predict_joint_visibility:
                visibility.append(self.visibility_heads[stack](features.mean((2, 3))))  # (B, J)
            if stack < self.config.stacks - 1:
                x = x + self.remap_features[stack](features) + self.remap_heatmaps[stack](stack_heatmaps)
        output = HourglassOutput(heatmaps=heatmaps)
        if visibility:
            output["visibility_logits"] = visibility
        return output


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def normalise_input(images: torch.Tensor, mean_rgb: torch.Tensor, std_rgb: torch.Tensor,
                    colour_gain: torch.Tensor | None = None) -> torch.Tensor:
    """uint8 RGB images (B, 3, H, W) in [0, 255] -> float network input: (image / 255 * gain - mean) / std.

    mean_rgb, std_rgb: (3,) in [0, 1] (the dataset's statistics, stored in checkpoints); colour_gain: (B, 3) or None.
    Channels-last input (what the data loader gives) gives channels-last output.
    """
    assert images.dim() == 4 and images.shape[1] == 3, f"expected (B, 3, H, W), got {tuple(images.shape)}"
    batch, _, height, width = images.shape
    scale = (1.0 / (255.0 * std_rgb.float().to(images.device))).view(1, 3)
    if colour_gain is not None:
        scale = scale * colour_gain.float().to(images.device).view(-1, 3)  # (B, 3)
    shift = (mean_rgb.float() / std_rgb.float()).to(images.device).view(1, 3)
    pixels = images.permute(0, 2, 3, 1)  # (B, H, W, 3)
    if not pixels.is_contiguous():
        return torch.addcmul(-shift.view(1, 3, 1, 1), images.float(), scale.view(-1, 3, 1, 1))
    # Channels-last memory: rows of W*3 interleaved values, with the per-channel factors tiled along a row, so the
    # arithmetic runs over long contiguous rows instead of 3-element pixels.
    rows = torch.addcmul(-shift.repeat(1, width).view(1, 1, 3 * width), pixels.reshape(batch, height, 3 * width).float(),
                         scale.repeat(1, width).view(-1, 1, 3 * width))
    return rows.view(batch, height, width, 3).permute(0, 3, 1, 2)
