"""Watching training as it goes: progress ticks and per-step traces.

In: which traces to record (`grads`, `params`), a progress callback and how
often to call it. Out: `Tracer`, called by the loop after `backward` and after
`step` only when it has something to do, collecting `TraceRecord`s and calling
`progress(Tick)` every `every` steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from torch import nn

from .report import TraceRecord


@dataclass(frozen=True)
class Tick:
    """Where training is: for progress bars and log lines."""

    step: int
    steps: int
    epoch: int
    epochs: int
    loss: float
    values: dict | None = None  # the traced values of this step, if any


@dataclass
class Tracer:
    kinds: frozenset[str]
    progress: Callable[[Tick], None] | None
    every: int
    steps: int
    batches_per_epoch: int
    records: list[TraceRecord] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return bool(self.kinds) or (self.progress is not None and self.every > 0)

    def after_backward(self, step: int, loss: float, model: nn.Module) -> None:
        if "grads" in self.kinds:
            grads = {name: (p.grad.detach().cpu().tolist() if p.grad is not None else None)
                     for name, p in model.named_parameters()}
            self.records.append(TraceRecord(step=step, kind="grads", values=grads))
        self._loss = loss

    def after_step(self, step: int, model: nn.Module) -> None:
        if "params" in self.kinds:
            params = {name: p.detach().cpu().tolist() for name, p in model.named_parameters()}
            self.records.append(TraceRecord(step=step, kind="params", values=params))
        if self.progress is not None and self.every > 0 and (step % self.every == 0 or step == self.steps):
            values = {r.kind: r.values for r in self.records[-len(self.kinds):]} if self.kinds else None
            epochs = self.steps // max(1, self.batches_per_epoch)
            epoch = (step - 1) // max(1, self.batches_per_epoch) + 1
            self.progress(Tick(step, self.steps, epoch, epochs, self._loss, values))
