"""Learning-rate schedules: the cosine against PyTorch's, and the time budget driving it."""
import numpy as np
import pytest
import torch
from torch import nn

from utils.distributed import DistContext
from utils.schedules import TimeBudget, cosine_schedule


def _lrs(scheduler, steps: int) -> list[float]:
    rates = []
    for _ in range(steps):
        rates.append(scheduler.get_last_lr()[0])
        scheduler.optimizer.step()
        scheduler.step()
    return rates


def test_cosine_schedule_without_a_budget_matches_cosine_annealing():
    ours = cosine_schedule(torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1), 20)
    reference = torch.optim.lr_scheduler.CosineAnnealingLR(torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1), 20)
    np.testing.assert_allclose(_lrs(ours, 21), _lrs(reference, 21), atol=1e-12)
    assert ours.get_last_lr()[0] == 0.0  # stays at 0 past the end (CosineAnnealingLR would climb again)


def test_cosine_schedule_follows_the_time_budget_when_it_runs_out_first():
    budget = TimeBudget(2.0, DistContext())  # 2 minutes
    scheduler = cosine_schedule(torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1), 1000, budget)
    budget.started -= 60.0  # one of the two minutes gone, after a handful of the 1000 steps
    assert budget.update() == pytest.approx(0.5, abs=0.01)  # (1.2 s of slack for a slow machine)
    _lrs(scheduler, 10)
    assert scheduler.get_last_lr()[0] == pytest.approx(0.05, abs=0.003)  # half way down the cosine: 0.1 * (1 + 0) / 2
    budget.started -= 61.0
    assert budget.update() > 1.0
    _lrs(scheduler, 1)
    assert scheduler.get_last_lr()[0] == pytest.approx(0.0, abs=1e-12)  # budget spent: fully annealed


def test_time_budget_without_minutes_never_runs_out():
    budget = TimeBudget(None, DistContext())
    budget.started -= 1e6
    assert budget.update() == 0.0
