"""The temporal lifter (VideoPose3D, Pavllo et al. 2019): dilated 1D convolutions over a sequence of 2D poses.

Input: (B, T, J_in x 2) normalised 2D joints per frame (the frame-wise lifter's input, one row per frame). Output:
(B, T - R + 1, J_out x 3) normalised root-relative 3D joints, one per window of R = `receptive_field` frames:
the window's centre frame, or with `causal` its last frame (the network then never sees a later frame).
Filter widths w_1..w_n give dilations 1, w_1, w_1 w_2, ...; R = w_1 x ... x w_n (3 x 3 x 3 = 27, 3^4 = 81, 3^5 = 243).
Each block is a dilated convolution and a 1x1 convolution (BN, ReLU, dropout after each) with a residual connection
that crops its input to the block's output frames (the centre, or with `causal` the latest ones).
On exactly R frames (a training window) the network runs VideoPose3D's single-frame form: the same weights as
undilated convolutions with stride w_i, computing only the frames the one output needs (tested to agree).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

RECEPTIVE_FIELDS = (3, 9, 27, 81, 243)  # 3^k: filter widths of 3 throughout


@dataclass
class TemporalLifterConfig:
    """Shape of the temporal lifter. `filter_widths` (3, 3, 3) = 27 frames; VideoPose3D: 1024 channels, dropout 0.25."""

    input_size: int = 32  # 16 joints x (x, y)
    output_size: int = 48  # 16 joints x (x, y, z)
    filter_widths: tuple[int, ...] = (3, 3, 3)
    channels: int = 1024
    dropout: float = 0.25
    causal: bool = False

    @property
    def receptive_field(self) -> int:
        return receptive_field(self.filter_widths)

    @property
    def past_frames(self) -> int:
        """Frames before the predicted one that the window holds (R - 1 when causal, else (R - 1) / 2)."""
        return target_offset(self.receptive_field, self.causal)


def receptive_field(filter_widths: tuple[int, ...] | list[int]) -> int:
    """Frames one output sees: 1 + sum_i (w_i - 1) x dilation_i, dilation_i = w_1 x ... x w_(i-1) (= prod w_i)."""
    frames, dilation = 1, 1
    for width in filter_widths:
        frames += (width - 1) * dilation
        dilation *= width
    return frames


def target_offset(receptive_field_frames: int, causal: bool) -> int:
    """Index, inside a window of R frames, of the frame the output belongs to: R - 1 (causal) or (R - 1) / 2."""
    return receptive_field_frames - 1 if causal else (receptive_field_frames - 1) // 2


def filter_widths_for(receptive_field_frames: int) -> tuple[int, ...]:
    """243 -> (3, 3, 3, 3, 3); a receptive field must be a power of 3 (at least 3)."""
    count = round(math.log(receptive_field_frames, 3))
    if receptive_field_frames < 3 or 3 ** count != receptive_field_frames:
        raise ValueError(f"receptive field {receptive_field_frames} is not a power of 3 (one of {RECEPTIVE_FIELDS})")
    return (3,) * count


class TemporalBlock(nn.Module):
    """Dilated conv (width w, dilation d) + BN + ReLU + dropout, 1x1 conv + BN + ReLU + dropout, plus the cropped
    input: T frames in, T - (w - 1) d out."""

    def __init__(self, channels: int, width: int, dilation: int, dropout: float, causal: bool):
        super().__init__()
        self.crop = (width - 1) * dilation  # frames lost
        self.skip_start = self.crop if causal else self.crop // 2  # where the residual's frames start
        self.layers = nn.Sequential(
            nn.Conv1d(channels, channels, width, dilation=dilation, bias=False), nn.BatchNorm1d(channels, momentum=0.1),
            nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Conv1d(channels, channels, 1, bias=False), nn.BatchNorm1d(channels, momentum=0.1),
            nn.ReLU(inplace=True), nn.Dropout(dropout))

        self.width, self.causal = width, causal

    def forward(self, x: torch.Tensor, strided: bool = False) -> torch.Tensor:
        if strided:  # the frames of one output only: T = w x T_out in, T_out out
            residual = x[:, :, (self.width - 1 if self.causal else self.width // 2)::self.width]  # (B, C, T / w)
            convolved = nn.functional.conv1d(x, self.layers[0].weight, stride=self.width)  # (B, C, T / w)
            return residual + self.layers[1:](convolved)
        frames_out = x.shape[2] - self.crop
        residual = x[:, :, self.skip_start:self.skip_start + frames_out]  # (B, C, T - crop)
        return residual + self.layers(x)  # (B, C, T - crop)


class TemporalLifter(nn.Module):
    """Conv(width w_1) + BN + ReLU + dropout; one TemporalBlock per further width; 1x1 conv to the 3D joints."""

    def __init__(self, config: TemporalLifterConfig):
        super().__init__()
        self.config = config
        widths, channels = tuple(config.filter_widths), config.channels
        assert widths and all(w % 2 == 1 for w in widths), f"filter widths must be odd, got {widths}"
        self.expand = nn.Sequential(nn.Conv1d(config.input_size, channels, widths[0], bias=False),
                                    nn.BatchNorm1d(channels, momentum=0.1), nn.ReLU(inplace=True),
                                    nn.Dropout(config.dropout))
        blocks, dilation = [], widths[0]
        for width in widths[1:]:
            blocks.append(TemporalBlock(channels, width, dilation, config.dropout, config.causal))
            dilation *= width
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Conv1d(channels, config.output_size, 1)

    def forward(self, joints_2d: torch.Tensor) -> torch.Tensor:
        assert joints_2d.dim() == 3 and joints_2d.shape[2] == self.config.input_size, tuple(joints_2d.shape)
        assert joints_2d.shape[1] >= self.config.receptive_field, \
            f"{joints_2d.shape[1]} frames, fewer than the receptive field {self.config.receptive_field}"
        x = joints_2d.transpose(1, 2)  # (B, J_in x 2, T)
        strided = x.shape[2] == self.config.receptive_field
        if strided:
            width = self.config.filter_widths[0]
            features = nn.functional.conv1d(x, self.expand[0].weight, stride=width)  # (B, C, R / w_1)
            features = self.expand[1:](features)
        else:
            features = self.expand(x)  # (B, C, T - w_1 + 1)
        for block in self.blocks:
            features = block(features, strided)  # (B, C, T - R + 1) at the end
        return self.head(features).transpose(1, 2)  # (B, T - R + 1, output_size)


def window_rows(sequence_index: torch.Tensor, frames: torch.Tensor, receptive_field_frames: int,
                causal: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """For rows of many sequences stored one sequence after another (frames 0..L-1 in order): the sequences' first
    row (S,) and length (S,), and the window offsets (R,) relative to a row's frame. A row's window is
    first[s] + clamp(frame + offsets, 0, L_s - 1): frames beyond either end repeat the end frame (VideoPose3D's
    edge padding)."""
    assert sequence_index.shape == frames.shape and sequence_index.dim() == 1
    count = int(sequence_index.max()) + 1 if len(sequence_index) else 0
    lengths = torch.bincount(sequence_index, minlength=count)  # (S,)
    first = torch.cumsum(lengths, 0) - lengths  # (S,)
    expected = torch.arange(len(frames)) - first[sequence_index]
    if not torch.equal(expected, frames):
        raise ValueError("rows are not stored one whole sequence after another with frames 0, 1, ... in order")
    offsets = torch.arange(receptive_field_frames) - target_offset(receptive_field_frames, causal)  # (R,)
    return first, lengths, offsets


def gather_windows(values: torch.Tensor, rows: torch.Tensor, sequence_index: torch.Tensor, frames: torch.Tensor,
                   first: torch.Tensor, lengths: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    """values (N, ...) of all rows -> (B, R, ...) the windows around `rows` (B,) (see `window_rows`)."""
    seq = sequence_index[rows]  # (B,)
    frame = (frames[rows][:, None] + offsets[None]).clamp_min(0)  # (B, R)
    frame = torch.minimum(frame, lengths[seq][:, None] - 1)
    return values[first[seq][:, None] + frame]  # (B, R, ...)


def pad_sequence(values: torch.Tensor, receptive_field_frames: int, causal: bool) -> torch.Tensor:
    """(L, D) one sequence -> (L + R - 1, D) with end frames repeated, so the network's L outputs are its L frames."""
    before = target_offset(receptive_field_frames, causal)
    after = receptive_field_frames - 1 - before
    return torch.cat([values[:1].expand(before, -1), values, values[-1:].expand(after, -1)])


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
