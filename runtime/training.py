"""Training a spec and measuring what happened.

In: a spec (text, `Path`, parsed `Spec`, `Program` or `CheckedSpec`), and
optionally a seed and an epoch count that override the spec's. Out: a `Run` —
the trained `nn.Sequential` and its `Report`. The loop is the tutorial's:
`zero_grad`, forward, loss, `backward`, `step`, once per batch; with the same
seed it reproduces a hand-written program bit for bit. Training stops early,
with the reason in `report.stopped`, when the loss stops being finite; Ctrl-C
raises `TrainingInterrupted` carrying the run so far.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn

from spec_lang import Diagnostic, SpecError

from compiler import CheckedSpec, Limits, Program, as_program, compile_spec

from .data import Dataset, dataset
from .diagnose import diagnose
from .optim import build_loss, build_optimizer, group_settings
from .report import (DiagnosticEntry, EvalResult, LossInfo, ModelInfo, OptimizerInfo, Parameters,
                     Report, TrainingInfo)


@dataclass
class Run:
    """A finished (or stopped) training run."""

    model: nn.Sequential
    report: Report
    program: Program


class TrainingInterrupted(Exception):
    """Ctrl-C during training; `run` holds the report up to the last finished step."""

    def __init__(self, run: Run) -> None:
        super().__init__(run.report.stopped)
        self.run = run


@dataclass
class _Session:
    """Everything one run holds while it trains."""

    program: Program
    checked: CheckedSpec
    seed: int
    model: nn.Sequential
    initial: dict[str, list]
    data: Dataset
    optimizer: torch.optim.Optimizer
    criterion: nn.Module
    losses: list[float] = field(default_factory=list)


def train(spec, *, seed: int | None = None, epochs: int | None = None,
          filename: str | None = None, limits: Limits | None = None,
          progress: Callable[[int, int, float], None] | None = None, every: int = 0,
          allow_outside_data: bool = False) -> Run:
    """Train a spec. With `progress` and `every`, `progress(step, steps, loss)` is
    called every `every` optimizer steps."""
    program = as_program(spec, filename=filename, limits=limits, require_data=True,
                         allow_outside=allow_outside_data)
    checked = _with_epochs(program, epochs, limits or Limits())
    seed = checked.seed if seed is None else seed
    torch.manual_seed(seed)
    model = compile_spec(checked)
    session = _Session(program, checked, seed, model, _snapshot(model), dataset(checked, seed, program.table),
                       build_optimizer(checked.optimizer, model.parameters()),
                       build_loss(checked.loss))
    try:
        stopped, diagnostics = _loop(session, progress if every > 0 else None, every)
    except KeyboardInterrupt:
        stopped = f"interrupted after {len(session.losses)} steps"
        raise TrainingInterrupted(_finish(session, stopped, [])) from None
    return _finish(session, stopped, diagnostics)


def _with_epochs(program: Program, epochs: int | None, limits: Limits) -> CheckedSpec:
    if epochs is None:
        return program.spec
    if not 1 <= epochs <= limits.max_epochs:
        raise SpecError(Diagnostic(f"--epochs must be from 1 to {limits.max_epochs:,}, not {epochs}",
                                   hint="raise the limit with --max-epochs"), "", program.filename)
    return program.spec.model_copy(update={"epochs": epochs})


def _loop(session: _Session, progress, every: int):
    model, optimizer, criterion = session.model, session.optimizer, session.criterion
    losses = session.losses
    total = session.checked.epochs * session.data.batches_per_epoch()
    model.train()
    for _ in range(session.checked.epochs):
        for inputs, targets in session.data.batches():
            optimizer.zero_grad()
            loss = criterion(model(inputs), targets)
            value = loss.item()
            if not math.isfinite(value):
                return _diverged(losses, value)
            losses.append(value)
            if progress is not None and len(losses) % every == 0:
                progress(len(losses), total, value)
            loss.backward()
            optimizer.step()
    return None, []


def _diverged(losses: list[float], value: float):
    step = len(losses) + 1
    last = f"{losses[-1]:.6g}" if losses else "none"
    message = (f"the loss became {value} at step {step} (last finite loss: {last}); "
               "the learning rate `lr` is likely too high, or the targets too large")
    return f"loss not finite at step {step}", [DiagnosticEntry(kind="diverged", message=message, step=step)]


def _snapshot(model: nn.Module) -> dict[str, list]:
    return {name: tensor.detach().tolist() for name, tensor in model.state_dict().items()}


def _evaluate(model: nn.Module, checked: CheckedSpec) -> tuple[EvalResult, ...]:
    model.eval()
    results = []
    with torch.no_grad():
        for vector in checked.evals:
            output = model(torch.tensor(vector, dtype=torch.float32))
            results.append(EvalResult(input=vector, output=tuple(output.tolist())))
    return tuple(results)


def _accuracy(model: nn.Module, data: Dataset) -> float:
    """The share of training rows whose highest output is the target class, in eval mode."""
    model.eval()
    with torch.no_grad():
        predicted = model(data.inputs).argmax(dim=-1)
    model.train()
    return (predicted == data.targets).float().mean().item()


def _finish(session: _Session, stopped: str | None, diagnostics: list) -> Run:
    program, checked, model, data = session.program, session.checked, session.model, session.data
    optimizer, criterion, losses = session.optimizer, session.criterion, session.losses
    summary = checked.summary()
    final = _snapshot(model)
    diagnostics = list(diagnostics) + diagnose(checked, session.initial, final, losses, data.broadcast)
    report = Report(
        spec=program.filename, seed=session.seed, torch_version=torch.__version__,
        model=ModelInfo(repr=repr(model), layers=summary, parameters=checked.parameter_count,
                        input_width=checked.input_width, output_width=checked.output_width),
        optimizer=OptimizerInfo(name=type(optimizer).__name__, settings=group_settings(optimizer)),
        loss=LossInfo(name=type(criterion).__name__, settings=checked.loss.torch_kwargs()),
        training=TrainingInfo(epochs=checked.epochs, examples=data.size,
                              batches_per_epoch=data.batches_per_epoch(), steps=len(losses),
                              target_broadcast=data.broadcast,
                              classes=program.table.classes if program.table else ()),
        losses=tuple(losses), final_loss=losses[-1] if losses else None,
        accuracy=_accuracy(model, data) if checked.loss.class_targets else None,
        parameters=Parameters(initial=session.initial, final=final),
        eval=_evaluate(model, checked), diagnostics=tuple(diagnostics), stopped=stopped)
    return Run(model, report, program)

