"""Training a spec.

In: a spec (text, `Path`, parsed `Spec`, `Program` or `CheckedSpec`) and
`TrainOptions` (seed and epochs overriding the spec's, progress, tracing,
device, starting weights). Out: a `Run` — the trained `nn.Sequential` and its
`Report`. The loop is the tutorial's: `zero_grad`, forward, loss, `backward`,
`step`, once per batch; with the same seed it reproduces a hand-written program
bit for bit. Training stops early, with the reason in `report.stopped`, when the
loss stops being finite; Ctrl-C raises `TrainingInterrupted` carrying the run so far.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch

from spec_lang import usage_error

from compiler import CheckedSpec, Limits, Program, as_program, compile_spec

from .data import dataset
from .lean import clear_of, forward_of, lean_optimizer, loss_of, step_of
from .optim import build_loss, build_optimizer
from .report import DiagnosticEntry
from .summary import Run, Session, build_report, snapshot
from .trace import Tick, Tracer, check_trace_size


class TrainingInterrupted(Exception):
    """Ctrl-C during training; `run` holds the report up to the last finished step."""

    def __init__(self, run: Run) -> None:
        super().__init__(run.report.stopped)
        self.run = run


@dataclass(frozen=True)
class TrainOptions:
    """How to run a spec, beyond what the spec says."""

    seed: int | None = None
    epochs: int | None = None
    limits: Limits = field(default_factory=Limits)
    allow_outside_data: bool = False
    progress: Callable[[Tick], None] | None = None
    every: int | None = None  # call `progress` every N steps; None: about 200 times a run
    trace: frozenset[str] = frozenset()  # "grads", "params"
    device: str = "cpu"
    load: Path | None = None  # start from these weights (safetensors)
    full_parameters: bool = False  # the JSON report lists every parameter value, however large the network


def train(spec, *, seed: int | None = None, epochs: int | None = None, filename: str | None = None,
          limits: Limits | None = None, options: TrainOptions | None = None) -> Run:
    """Train a spec; `seed`, `epochs` and `limits` are shortcuts for the same `TrainOptions`."""
    options = options or TrainOptions()
    limits = limits or options.limits
    started = time.perf_counter()
    program = as_program(spec, filename=filename, limits=limits, require_data=True,
                         allow_outside=options.allow_outside_data)
    checked = _with_epochs(program, epochs if epochs is not None else options.epochs, limits)
    seed = seed if seed is not None else options.seed if options.seed is not None else checked.seed
    session = _start(program, checked, seed, options, limits)
    session.timing["compile_seconds"] = time.perf_counter() - started
    try:
        stopped, diagnostics = _timed_loop(session)
    except KeyboardInterrupt:
        stopped = f"interrupted after {len(session.losses)} steps"
        raise TrainingInterrupted(_finish(session, stopped, [])) from None
    return _finish(session, stopped, diagnostics)


def _timed_loop(session: Session):
    started = time.perf_counter()
    try:
        return _loop(session)
    finally:
        session.timing["train_seconds"] = time.perf_counter() - started


def _start(program: Program, checked: CheckedSpec, seed: int, options: TrainOptions, limits: Limits) -> Session:
    device = _device(options.device, program)
    torch.manual_seed(seed)
    model = compile_spec(checked)
    if options.load is not None:
        from .checkpoint import load_weights

        load_weights(options.load, model, program)
    model.to(device)
    data = dataset(checked, seed, program.table).to(device)
    steps = checked.epochs * data.batches_per_epoch()
    every = options.every if options.every is not None else max(1, steps // 200)
    check_trace_size(options.trace, checked.parameter_count, steps, limits.max_trace_values)
    tracer = Tracer(options.trace, options.progress, every, steps, data.batches_per_epoch())
    params = list(model.parameters())
    optimizer = None if lean_optimizer(checked.optimizer, params) else build_optimizer(checked.optimizer, params)
    return Session(program, checked, seed, model, snapshot(model), data, optimizer, build_loss(checked.loss), tracer,
                   full_parameters=options.full_parameters)


def _device(name: str, program: Program) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise usage_error("--device cuda was asked for, but no CUDA device is available",
                          "use --device cpu, or --device auto to use a GPU when there is one")
    return torch.device(name)


def _with_epochs(program: Program, epochs: int | None, limits: Limits) -> CheckedSpec:
    if epochs is None:
        return program.spec
    if not 1 <= epochs <= limits.max_epochs:
        hint = "raise the limit with --max-epochs" if epochs > 1 else "train for at least 1 epoch"
        raise usage_error(f"--epochs must be from 1 to {limits.max_epochs:,}, not {epochs}", hint)
    return program.spec.model_copy(update={"epochs": epochs})


def _loop(session: Session):
    """The tutorial's loop: zero_grad, forward, loss, backward, step, once per batch."""
    model, losses, tracer = session.model, session.losses, session.tracer
    params = list(model.parameters())
    forward, clear = forward_of(model), clear_of(params)
    criterion = loss_of(session.criterion)
    step = step_of(session.checked.optimizer, session.optimizer, params)
    watching = tracer.active
    model.train()
    for _ in range(session.checked.epochs):
        for inputs, targets in session.data.batches():
            clear()
            loss = criterion(forward(inputs), targets)
            value = loss.item()
            if not math.isfinite(value):
                return _diverged(losses, value)
            losses.append(value)
            loss.backward()
            if watching:
                tracer.after_backward(len(losses), value, model)
            step()
            if watching:
                tracer.after_step(len(losses), model)
        if session.data.held_inputs is not None:
            session.validation.append(_held_out_loss(session))
    return None, []


def _held_out_loss(session: Session) -> float:
    model = session.model
    model.eval()
    with torch.no_grad():
        value = session.criterion(model(session.data.held_inputs), session.data.held_targets).item()
    model.train()
    return value


def _diverged(losses: list[float], value: float):
    step = len(losses) + 1
    last = f"{losses[-1]:.6g}" if losses else "none"
    message = (f"the loss became {value} at step {step} (last finite loss: {last}); "
               "the learning rate `lr` is likely too high, or the targets too large")
    return f"loss not finite at step {step}", [DiagnosticEntry(kind="diverged", message=message, step=step)]


def _finish(session: Session, stopped: str | None, diagnostics: list) -> Run:
    return Run(session.model, build_report(session, stopped, diagnostics), session.program)
