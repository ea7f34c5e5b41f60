"""The mean training loss of each epoch, from the loss of each step.

In: the loss of every step (each the mean over its mini-batch) and the rows of
each batch of an epoch. Out: each epoch's mean loss over its rows: every step's
loss weighted by its batch's share of the epoch's rows, so that a small last
batch counts for what it holds. An epoch of one batch has exactly that batch's
loss as its mean. When training stopped within an epoch (the loss diverged, or
Ctrl-C), the last mean is over the steps of that epoch that ran.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from compiler.data_rules import batch_rows

__all__ = ["batch_rows", "epoch_means", "last_epoch_means"]


def epoch_means(losses: Sequence[float], rows: Sequence[int]) -> list[float]:
    per = len(rows)
    means = []
    for start in range(0, len(losses), per):
        ran = losses[start:start + per]
        total = sum(rows[:len(ran)])
        means.append(math.fsum(loss * (count / total) for loss, count in zip(ran, rows, strict=False)))
    return means


def last_epoch_means(losses: torch.Tensor, rows: Sequence[int]) -> torch.Tensor:
    """`[steps, runs]` losses of whole epochs -> the last epoch's mean of each run, `[runs]` (float64)."""
    weights = torch.tensor(rows, dtype=torch.float64) / sum(rows)
    return (losses[-len(rows):].double() * weights.unsqueeze(1)).sum(0)
