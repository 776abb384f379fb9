"""Data order: a seeded permutation per epoch, split across processes, that can start part-way (for resume)."""
from __future__ import annotations

from typing import Iterator

import torch
from torch.utils.data import Sampler


def epoch_permutation(num_samples: int, seed: int, epoch: int, shuffle: bool = True) -> torch.Tensor:
    """The sample order of one epoch: the same for every process, a function of (seed, epoch) only."""
    if not shuffle:
        return torch.arange(num_samples)
    generator = torch.Generator().manual_seed(seed * 100_003 + epoch)
    return torch.randperm(num_samples, generator=generator)


class EpochSampler(Sampler[int]):
    """Indices for this process's share of one epoch, in batches of whole steps.

    All processes take the same number of samples per epoch (the tail that does not fill a global batch is
    dropped when `drop_last`, else padded by wrapping around), so every process runs the same number of steps.
    `start_step` skips steps already done, for resuming inside an epoch.
    """

    def __init__(self, num_samples: int, batch_size: int, seed: int = 0, shuffle: bool = True,
                 rank: int = 0, world_size: int = 1, drop_last: bool = True):
        assert num_samples > 0, "empty dataset"
        self.num_samples, self.batch_size, self.seed, self.shuffle = num_samples, batch_size, seed, shuffle
        self.rank, self.world_size, self.drop_last = rank, world_size, drop_last
        self.epoch, self.start_step = 0, 0

    def set_epoch(self, epoch: int, start_step: int = 0) -> None:
        self.epoch, self.start_step = epoch, start_step

    def steps_per_epoch(self) -> int:
        global_batch = self.batch_size * self.world_size
        if self.drop_last and self.num_samples >= global_batch:
            return self.num_samples // global_batch
        return -(-self.num_samples // global_batch)

    def epoch_indices(self) -> torch.Tensor:
        """(steps, batch_size) indices of this process for the current epoch, before skipping."""
        order = epoch_permutation(self.num_samples, self.seed, self.epoch, self.shuffle)
        total = self.steps_per_epoch() * self.batch_size * self.world_size
        if total > len(order):
            order = order.repeat(-(-total // len(order)))
        order = order[:total].view(self.steps_per_epoch(), self.world_size, self.batch_size)
        return order[:, self.rank]

    def batches(self) -> Iterator[torch.Tensor]:
        """Index batches of the current epoch from `start_step` on (for in-memory tensors)."""
        yield from self.epoch_indices()[self.start_step:]

    def __iter__(self) -> Iterator[int]:
        return iter(self.epoch_indices()[self.start_step:].reshape(-1).tolist())

    def __len__(self) -> int:
        return (self.steps_per_epoch() - self.start_step) * self.batch_size
