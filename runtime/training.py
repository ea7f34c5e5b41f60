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
import os
from dataclasses import dataclass

import torch
from torch import nn

from spec_lang import Diagnostic, SpecError

from compiler import CheckedSpec, Limits, Program, as_program, compile_spec

from .data import Dataset, dataset
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


def train(spec, *, seed: int | None = None, epochs: int | None = None,
          filename: str | None = None, limits: Limits | None = None) -> Run:
    program = as_program(spec, filename=filename, limits=limits, require_data=True)
    _refuse_data_files(program)
    checked = program.spec if epochs is None else program.spec.model_copy(update={"epochs": epochs})
    seed = checked.seed if seed is None else seed
    torch.manual_seed(seed)
    model = compile_spec(checked)
    initial = _snapshot(model)
    data = dataset(checked, seed)
    optimizer = build_optimizer(checked.optimizer, model.parameters())
    criterion = build_loss(checked.loss)
    losses: list[float] = []
    stopped, diagnostics = None, []
    try:
        stopped, diagnostics = _loop(model, optimizer, criterion, data, checked.epochs, losses)
    except KeyboardInterrupt:
        stopped = f"interrupted after {len(losses)} steps"
        run = _finish(program, checked, seed, model, optimizer, criterion, data, initial, losses,
                      stopped, diagnostics)
        raise TrainingInterrupted(run) from None
    return _finish(program, checked, seed, model, optimizer, criterion, data, initial, losses,
                   stopped, diagnostics)


def _refuse_data_files(program: Program) -> None:
    if program.spec.data is None:
        return
    raise SpecError(Diagnostic(
        "training from a `data` file is not supported yet", program.data_span, "not read",
        hint="write the rows as `example [..] -> [..]` statements"), program.source, program.filename)


def _loop(model, optimizer, criterion, data: Dataset, epochs: int, losses: list[float]):
    model.train()
    for _ in range(epochs):
        for inputs, targets in data.batches():
            optimizer.zero_grad()
            loss = criterion(model(inputs), targets)
            value = loss.item()
            if not math.isfinite(value):
                return _diverged(losses, value)
            losses.append(value)
            loss.backward()
            optimizer.step()
    return None, []


def _diverged(losses: list[float], value: float):
    step = len(losses) + 1
    last = f"{losses[-1]:.6g}" if losses else "none"
    message = (f"the loss became {value} at step {step} (last finite loss: {last}); "
               "the learning rate `lr` is likely too high")
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


def _finish(program, checked, seed, model, optimizer, criterion, data, initial, losses, stopped,
            diagnostics) -> Run:
    summary = checked.summary()
    report = Report(
        spec=program.filename, seed=seed, torch_version=torch.__version__,
        model=ModelInfo(repr=repr(model), layers=summary, parameters=checked.parameter_count,
                        input_width=checked.input_width, output_width=checked.output_width),
        optimizer=OptimizerInfo(name=type(optimizer).__name__, settings=group_settings(optimizer)),
        loss=LossInfo(name=type(criterion).__name__, settings=checked.loss.torch_kwargs()),
        training=TrainingInfo(epochs=checked.epochs, examples=data.size,
                              batches_per_epoch=data.batches_per_epoch(), steps=len(losses),
                              target_broadcast=data.broadcast),
        losses=tuple(losses), final_loss=losses[-1] if losses else None,
        parameters=Parameters(initial=initial, final=_snapshot(model)),
        eval=_evaluate(model, checked), diagnostics=tuple(diagnostics), stopped=stopped)
    return Run(model, report, program)


def relative(path: str) -> str:
    """A path as shown in reports: relative to the working folder when inside it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel
