"""Learning-rate schedules that follow a wall-clock budget as well as the step count.

`TimeBudget` measures the share of a training budget spent, agreed by all processes; `cosine_schedule` anneals over
the steps or the budget, whichever ends first.
"""
from __future__ import annotations

import math
import time

import torch

from utils.distributed import DistContext


class TimeBudget:
    """A wall-clock training budget, with the share of it spent agreed by all processes (the mean of their clocks),
    so that they change the learning rate and stop at the same step."""

    def __init__(self, minutes: float | None, dist: DistContext) -> None:
        self.seconds = 60.0 * minutes if minutes else None
        self.dist = dist
        self.started = time.monotonic()
        self.fraction = 0.0

    def update(self) -> float:
        """Measure again (a collective call under torchrun: every process must make it) and return the share spent."""
        if self.seconds is not None:
            elapsed = torch.tensor([time.monotonic() - self.started], dtype=torch.float64)
            self.fraction = float(self.dist.all_reduce_sum(elapsed).item()) / self.dist.world_size / self.seconds
        return self.fraction


def cosine_schedule(optimizer: torch.optim.Optimizer, total_steps: int,
                    budget: TimeBudget | None = None) -> torch.optim.lr_scheduler.LambdaLR:
    """Per-step cosine decay of the learning rate to 0 over `total_steps`, or over the time budget where that runs
    out first: progress is the larger of the steps done and the time spent, so a run cut short by the clock still
    ends annealed. `budget.update()` must be called as steps go (the hourglass loop does it before every step)."""

    def factor(step: int) -> float:
        progress = max(step / max(total_steps, 1), budget.fraction if budget is not None else 0.0)
        return 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
