"""Seeding and determinism."""
from __future__ import annotations

import os
import random

import numpy as np
import torch


def seed_everything(seed: int, deterministic: bool = False) -> None:
    """Seed Python, numpy and torch; with `deterministic`, also ask torch for deterministic kernels."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True


MASK_64 = (1 << 64) - 1


def step_seed(seed: int, rank: int, epoch: int, step: int) -> int:
    """A 63-bit seed that is a function of (seed, rank, epoch, step in the epoch) only (splitmix64 mixing)."""
    value = 0
    for word in (seed, rank, epoch, step):
        value = (value ^ (word & MASK_64)) + 0x9E3779B97F4A7C15 & MASK_64
        value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9 & MASK_64
        value = (value ^ (value >> 27)) * 0x94D049BB133111EB & MASK_64
        value ^= value >> 31
    return value >> 1


def seed_step(seed: int, rank: int, epoch: int, step: int) -> None:
    """Re-seed Python, numpy and torch (CPU and, once initialised, CUDA) before one training step.

    The training loop calls this before fetching each batch, so that the randomness of a step (augmentation in the
    main process, dropout) does not depend on what ran before it: a run resumed at step k draws what an
    uninterrupted run draws there. About 30 us (`torch.manual_seed` would cost ~10x more: it queues CUDA calls).
    """
    value = step_seed(seed, rank, epoch, step)
    random.seed(value)
    np.random.seed(value % 2**32)
    torch.default_generator.manual_seed(value)
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.manual_seed_all(value)
