"""Pose sequences and the clips cut from them, as whole-dataset tensors, and the padded batches of clips.

A `SequenceSet` holds every frame of many sequences in one (N, F) tensor (sequences stored one after the other,
frames in order) with per-sequence offsets, lengths, names ('S9/Walking 1/54138969') and action labels. A
`ClipSet` names windows of it: (start row, frames) per clip, every `frame_step`-th frame of the window taken.
`clip_frames = 0` makes one clip per sequence (variable lengths); otherwise windows of `clip_frames` source frames
every `stride` frames (a sequence shorter than a window gives no clip). Batches are padded to the longest clip with
their lengths, for `pack_padded_sequence`: the models never read a padded frame.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from utils.errors import InputError


@dataclass
class SequenceSet:
    """features (N, F) per frame; starts / lengths (S,) rows of each sequence; names (S,); labels (S,) int64;
    first_frames (S,) the frame number of each sequence's first row in its source file; up_camera (S, 3) the world's
    up axis in each sequence's camera frame, where known (ground truth), for augmentation; frame_spacing: source
    frames between consecutive rows (1: every frame; 8: a file of every 8th frame)."""

    features: torch.Tensor
    starts: torch.Tensor
    lengths: torch.Tensor
    names: np.ndarray
    labels: torch.Tensor
    first_frames: torch.Tensor
    up_camera: torch.Tensor | None = None
    frame_spacing: int = 1

    def __len__(self) -> int:
        return len(self.names)

    @property
    def feature_dim(self) -> int:
        return self.features.shape[1]


def sequence_set(features: list[np.ndarray | torch.Tensor], names: list[str], labels: list[int],
                 first_frames: list[int] | None = None, up_camera: torch.Tensor | None = None,
                 frame_spacing: int = 1) -> SequenceSet:
    """Join per-sequence (T_s, F) arrays into one SequenceSet."""
    if not features:
        raise InputError("no pose sequences to cut clips from")
    tensors = [torch.as_tensor(np.asarray(f), dtype=torch.float32).reshape(len(f), -1) for f in features]
    lengths = torch.tensor([len(t) for t in tensors], dtype=torch.long)
    starts = torch.cumsum(lengths, 0) - lengths
    first = torch.tensor(first_frames if first_frames is not None else [0] * len(tensors), dtype=torch.long)
    return SequenceSet(torch.cat(tensors), starts, lengths, np.asarray(names, dtype=str),
                       torch.tensor(labels, dtype=torch.long), first, up_camera, frame_spacing)


@dataclass
class ClipSet:
    """Clips of a SequenceSet: sequence (C,) index; offset (C,) first frame within the sequence; frames (C,) source
    frames covered; every `frame_step`-th of them is read."""

    sequences: SequenceSet
    sequence: torch.Tensor
    offset: torch.Tensor
    frames: torch.Tensor
    frame_step: int

    def __len__(self) -> int:
        return len(self.sequence)

    @property
    def labels(self) -> torch.Tensor:
        """(C,) action index of each clip."""
        return self.sequences.labels[self.sequence]

    @property
    def up_camera(self) -> torch.Tensor | None:
        """(C, 3) the world's up axis in each clip's camera frame, or None."""
        up = self.sequences.up_camera
        return None if up is None else up[self.sequence]

    @property
    def steps(self) -> torch.Tensor:
        """(C,) time steps a model sees per clip: ceil(frames / frame_step)."""
        return -(-self.frames // self.frame_step)

    def names(self) -> np.ndarray:
        """(C,) 'S9/Walking 1/54138969/000150+100': sequence, first source frame, source frames covered."""
        spacing = self.sequences.frame_spacing
        first = (self.sequences.first_frames[self.sequence] + self.offset * spacing).tolist()
        return np.array([f"{self.sequences.names[s]}/{int(f):06d}+{int(n) * spacing}"
                         for s, f, n in zip(self.sequence.tolist(), first, self.frames.tolist())])

    def batch(self, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Clips `index` (B,) -> (features (B, T_max, F) zero-padded after each clip's end, lengths (B,) steps)."""
        steps = self.steps[index]  # (B,)
        t = torch.arange(int(steps.max()) if len(index) else 0)  # (T_max,)
        valid = t[None] < steps[:, None]  # (B, T_max)
        rows = (self.sequences.starts[self.sequence[index]] + self.offset[index])[:, None] + t[None] * self.frame_step
        features = self.sequences.features[torch.where(valid, rows, 0)] * valid[..., None]  # (B, T_max, F)
        return features, steps


def cut_spaced_clips(sequences: SequenceSet, clip_frames: int, stride: int, frame_step: int = 1) -> ClipSet:
    """`cut_clips` in source frames whatever the set's `frame_spacing` s: a model of clips of `clip_frames` source
    frames read every `frame_step`-th reads a set of every s-th frame as windows of ceil(clip_frames / s) rows
    every `frame_step / s`-th (which must be whole), every max(stride / s, 1) rows."""
    spacing = sequences.frame_spacing
    if spacing == 1:
        return cut_clips(sequences, clip_frames, stride, frame_step)
    if frame_step % spacing:
        raise InputError(f"the poses hold every {spacing}th frame; a model reading every {frame_step}th frame of "
                         f"its clips cannot read them (train it with --frame_step a multiple of {spacing})")
    return cut_clips(sequences, -(-clip_frames // spacing), max(stride // spacing, 1), frame_step // spacing)


def cut_clips(sequences: SequenceSet, clip_frames: int, stride: int, frame_step: int = 1) -> ClipSet:
    """Windows of `clip_frames` rows every `stride` rows (clip_frames 0: whole sequences), read every
    `frame_step`-th row."""
    if frame_step < 1 or clip_frames < 0 or (clip_frames and stride < 1):
        raise ValueError(f"clip_frames {clip_frames} >= 0, stride {stride} and frame_step {frame_step} >= 1 expected")
    if clip_frames == 0:
        index = torch.arange(len(sequences))
        return ClipSet(sequences, index, torch.zeros_like(index), sequences.lengths.clone(), frame_step)
    counts = torch.clamp((sequences.lengths - clip_frames) // stride + 1, min=0)  # (S,) windows per sequence
    sequence = torch.repeat_interleave(torch.arange(len(sequences)), counts)  # (C,)
    first_clip = torch.cumsum(counts, 0) - counts
    offset = (torch.arange(len(sequence)) - first_clip[sequence]) * stride
    if len(sequence) == 0:
        raise InputError(f"no sequence is {clip_frames} frames long (the longest has "
                         f"{int(sequences.lengths.max())}): lower --clip_frames")
    return ClipSet(sequences, sequence, offset, torch.full_like(sequence, clip_frames), frame_step)
