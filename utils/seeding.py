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


def step_seed(seed: int, rank: int, epoch: int, step: int) -> int:
    """A 63-bit seed that is a function of (seed, rank, epoch, step in the epoch) only."""
    words = np.random.SeedSequence([seed % 2**32, rank, epoch, step]).generate_state(2, dtype=np.uint32)
    return (int(words[0]) << 31) ^ int(words[1])


def seed_step(seed: int, rank: int, epoch: int, step: int) -> None:
    """Re-seed Python, numpy and torch (CPU and CUDA) before one training step.

    The training loop calls this before fetching each batch, so that the randomness of a step (augmentation in the
    main process, dropout) does not depend on what ran before it: a run resumed at step k draws what an
    uninterrupted run draws there.
    """
    value = step_seed(seed, rank, epoch, step)
    random.seed(value)
    np.random.seed(value % 2**32)
    torch.manual_seed(value)
