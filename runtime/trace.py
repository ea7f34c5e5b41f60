"""Watching training as it goes: progress ticks and per-step traces.

In: which traces to record (`grads`, `params`), a progress callback and how
often to call it. Out: `Tracer`, called by the loop after `backward` and after
`step` only when it has something to do, collecting `TraceRecord`s (copies of
the tensors) and calling `progress(Tick)` every `every` steps; and
`check_trace_size`, which refuses, before training, a JSON report that would
list more values than `--max-trace-values`: a trace, and with
`--full-parameters` every parameter's initial and final value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from torch import nn

from compiler.limits import human_bytes
from spec_lang import codes, usage_error

from .report import TraceRecord

JSON_BYTES_PER_VALUE = 30  # a traced value in the indented JSON report, about


def check_trace_size(kinds: frozenset[str], parameters: int, steps: int, limit: int,
                     full_parameters: bool = False) -> None:
    """Refuse, before anything is recorded, a JSON report that would list more than `limit` values:
    a trace (parameters x steps x kinds), and every parameter twice (initial and final) with
    `--full-parameters`."""
    traced = len(kinds) * parameters * steps
    listed = 2 * parameters if full_parameters else 0
    values = traced + listed
    if values <= limit:
        return
    json_size = f"about {human_bytes(values * JSON_BYTES_PER_VALUE)} of JSON"
    traces = " and ".join(f"--trace {kind}" for kind in sorted(kinds))
    per = f"{len(kinds)} x " if len(kinds) > 1 else ""
    if not listed:
        raise usage_error(f"{traces} would record {values:,} values ({per}{parameters:,} parameters x {steps:,} steps, "
                          f"{json_size}), over the limit of {limit:,}",
                          f"raise the limit with --max-trace-values {values}, or trace fewer steps with --epochs",
                          code=codes.TRACE_TOO_LARGE)
    what, figure = "--full-parameters", f"2 x {parameters:,} parameters, initial and final"
    fewer = "or leave out --full-parameters: the report then sums up each tensor of a large network"
    if traced:
        what, figure = f"{traces} and --full-parameters", f"{traced:,} traced and {figure}"
        fewer = "trace fewer steps with --epochs, or leave out --full-parameters"
    raise usage_error(f"{what} would list {values:,} values in the JSON report ({figure}, {json_size}), "
                      f"over the limit of {limit:,}", f"raise the limit with --max-trace-values {values}, {fewer}",
                      code=codes.TRACE_TOO_LARGE)


@dataclass(frozen=True)
class Tick:
    """Where training is: for progress bars and log lines."""

    step: int
    steps: int
    epoch: int
    epochs: int
    loss: float
    values: dict | None = None  # the traced tensors of this step by kind and name (a grad may be None), if any
    lr: float | None = None  # the learning rate this step used, with a schedule or warm-up


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

    def after_backward(self, step: int, loss: float, model: nn.Module, lr: float | None = None) -> None:
        """`lr`: the learning rate the coming step uses, with a schedule or warm-up."""
        if "grads" in self.kinds:
            grads = {name: (_copy(p.grad) if p.grad is not None else None) for name, p in model.named_parameters()}
            self.records.append(TraceRecord(step=step, kind="grads", values=grads, lr=lr))
        self._loss, self._lr = loss, lr

    def after_step(self, step: int, model: nn.Module) -> None:
        if "params" in self.kinds:
            params = {name: _copy(p) for name, p in model.named_parameters()}
            self.records.append(TraceRecord(step=step, kind="params", values=params, lr=self._lr))
        if self.progress is not None and self.every > 0 and (step % self.every == 0 or step == self.steps):
            values = {r.kind: dict(r.values) for r in self.records[-len(self.kinds):]} if self.kinds else None
            epochs = self.steps // max(1, self.batches_per_epoch)
            epoch = (step - 1) // max(1, self.batches_per_epoch) + 1
            self.progress(Tick(step, self.steps, epoch, epochs, self._loss, values, self._lr))


def _copy(tensor):
    tensor = tensor.detach()
    return tensor.cpu() if tensor.device.type != "cpu" else tensor.clone()
