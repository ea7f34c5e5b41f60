"""Training a spec.

In: a spec (text, `Path`, parsed `Spec`, `Program` or `CheckedSpec`) and
`TrainOptions` (seed and epochs overriding the spec's, progress, tracing,
device, starting weights). Out: a `Run` — the trained `nn.Sequential` and its
`Report`. The loop is the tutorial's: `zero_grad`, forward, loss, `backward`,
`step`, once per batch; with the same seed it reproduces a hand-written program
bit for bit. A spec's `schedule`, `warmup`, `clip` and `stop` join the loop
through `control.Control` (the best epoch's weights are put back at the end).
With `checkpoint_every` or `resume`, a `resume.Keeper` checkpoints the run at
epoch boundaries (and on Ctrl-C) and resumes it exactly. Training stops early,
with the reason in `report.stopped`, when the loss stops being finite;
Ctrl-C raises `TrainingInterrupted` carrying the run so far; a streamed data
file found changed raises `DataStopped`, a located `SpecError` carrying it too. On a CUDA device,
`precision` (bf16, fp16) and `compile` change the loop's forward, loss,
backward and step through `precision.wrapped`; elsewhere they are refused.
Inside a torch.distributed world (torchrun, or `nqa run --nproc N`),
`distributed.Shares` gives the loop this rank's share of each batch, DDP's
forward, and the global loss.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch

from compiler import CheckedSpec, Limits, Program, as_program, compile_spec
from compiler.csv_layout import DataProblem
from compiler.sweep import one_network
from spec_lang import Diagnostic, SpecError, codes, usage_error

from . import option_rules as rules
from .control import check_run_length, control_of, needs_optimizer
from .data import Dataset, dataset
from .distributed import Shares, World, check_spec, device_of, join
from .epochs import batch_rows
from .lean import clear_of, forward_of, lean_optimizer, loss_of, step_of
from .optim import build_loss, build_optimizer
from .precision import mixed_of, refuse_off_gpu, wrapped
from .report import DiagnosticEntry
from .resume import Keeper, keeper_of
from .signals import exit_code, stop_word
from .summary import Run, Session, build_report, snapshot
from .trace import Tick, Tracer, check_trace_size


class DataStopped(SpecError):
    """A streamed data file found changed (or bad) while training read it again: the located error
    (exit code 2), and `run`, the run up to the last finished step (None when even that could not be
    reported: reporting reads the file too)."""

    def __init__(self, problem: DataProblem, program: Program, run: Run | None = None) -> None:
        label = "read with the options of this `data` statement" if program.data_span else ""
        super().__init__(Diagnostic(problem.message, program.data_span, label, hint=problem.hint, code=problem.code),
                         program.source, program.filename)
        self.run = run


class TrainingInterrupted(Exception):
    """Ctrl-C (or SIGTERM) during training; `run` holds the report up to the last
    finished step, `exit_code` what the command line exits with (130, or 143)."""

    def __init__(self, run: Run, exit_code: int = 130) -> None:
        super().__init__(run.report.stopped)
        self.run, self.exit_code = run, exit_code


@dataclass(frozen=True)
class TrainOptions:
    """How to run a spec, beyond what the spec says."""

    seed: int | None = None
    epochs: int | None = None
    limits: Limits = field(default_factory=Limits)
    allow_outside_data: bool = False
    progress: Callable[[Tick], None] | None = None
    every: int | None = None  # call `progress` every N steps; None: about 200 times a run; 0: never
    trace: frozenset[str] = frozenset()  # "grads", "params"
    device: str = "cpu"
    load: Path | None = None  # start from these weights (safetensors)
    full_parameters: bool = False  # the JSON report lists every parameter value, however large the network
    checkpoint_every: int | None = None  # write a checkpoint every N epochs into `checkpoint_dir`
    checkpoint_dir: Path | None = None  # default: the `resume` folder
    resume: Path | None = None  # go on from the newest checkpoint in this folder
    precision: str = "fp32"  # "bf16" or "fp16": autocast on a CUDA device (`precision.py`)
    compile: bool = False  # torch.compile the network, on a CUDA device

    def __post_init__(self) -> None:
        """The same rules as the command line's, worded for Python (`seed=`, not `--seed`)."""
        if not isinstance(self.limits, Limits):
            raise usage_error(f"limits must be a compiler.Limits, not {type(self.limits).__name__}",
                              "e.g. `limits=Limits(max_params=10_000)`", code=codes.BAD_ARGUMENT_TYPE)
        if self.seed is not None:  # kept as the plain int the rule gives back (numpy's integers too)
            object.__setattr__(self, "seed", rules.seed(self.seed, "seed"))
        if self.epochs is not None:
            object.__setattr__(self, "epochs", rules.epochs(self.epochs, "epochs", self.limits.max_epochs))
        if self.every is not None:
            object.__setattr__(self, "every", rules.whole(self.every, "every"))
        object.__setattr__(self, "trace", rules.traces(self.trace, "trace"))
        rules.device(self.device, "device")
        rules.precision(self.precision, "precision")
        rules.flag(self.compile, "compile")
        if self.load is not None and not isinstance(self.load, (str, Path)):
            raise usage_error(f"load must be a path, not {type(self.load).__name__}",
                              "e.g. `load=Path('w.safetensors')`", code=codes.BAD_ARGUMENT_TYPE)
        from .resume_rules import check_checkpointing

        check_checkpointing(self, python=True)


def train(spec, *, seed: int | None = None, epochs: int | None = None, filename: str | None = None,
          limits: Limits | None = None, options: TrainOptions | None = None) -> Run:
    """Train a spec; `seed`, `epochs` and `limits` are shortcuts for the same `TrainOptions`."""
    if options is not None and not isinstance(options, TrainOptions):
        raise usage_error(f"options must be a runtime.TrainOptions, not {type(options).__name__}",
                          "e.g. `options=TrainOptions(seed=1)`", code=codes.BAD_ARGUMENT_TYPE)
    options = options or TrainOptions()
    if limits is not None or seed is not None or epochs is not None:  # checked as TrainOptions checks them
        options = replace(options, limits=limits or options.limits,
                          seed=seed if seed is not None else options.seed,
                          epochs=epochs if epochs is not None else options.epochs)
    limits = options.limits
    started = time.perf_counter()
    program = as_program(spec, filename=filename, limits=limits, require_data=True,
                         allow_outside=options.allow_outside_data)
    one_network(program, "`train`")
    checked = _with_epochs(program, options.epochs)
    seed = options.seed if options.seed is not None else checked.seed
    check_device(options.device, python=True)
    refuse_off_gpu(options, python=True)
    world = join(options.device)  # None unless started by torchrun (or `nqa run --nproc N`)
    keeper = keeper_of(options, program, checked, seed)
    try:
        session = _start(program, checked, seed, options, limits, world)
    except DataProblem as problem:  # a streamed file read again (its `normalize` pass) found changed
        raise DataStopped(problem, program) from None
    session.timing["compile_seconds"] = time.perf_counter() - started
    try:
        stopped, diagnostics = _timed_loop(session, keeper)
    except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM under the command line
        if keeper is not None:
            keeper.interrupted()
        stopped = f"{stop_word(stop)} after {len(session.losses)} steps"
        raise TrainingInterrupted(_finish(session, stopped, []), exit_code(stop)) from None
    except DataProblem as problem:  # a streamed file changed: stopped as Ctrl-C stops, with the error
        raise DataStopped(problem, program, _stopped_run(session, problem)) from None
    try:
        return _finish(session, stopped, diagnostics)
    except DataProblem as problem:  # reporting (accuracy, held-out rows) reads a streamed file again
        raise DataStopped(problem, program) from None


def _stopped_run(session: Session, problem: DataProblem) -> Run | None:
    """The run up to the last finished step, stopped by `problem`; None when reporting it meets the problem too."""
    try:
        return _finish(session, f"stopped after {len(session.losses)} steps: {problem.message}", [])
    except DataProblem:
        return None


def _timed_loop(session: Session, keeper: Keeper | None = None):
    started = time.perf_counter()
    try:
        return _loop(session, keeper)
    finally:
        session.timing["train_seconds"] = time.perf_counter() - started


def _start(program: Program, checked: CheckedSpec, seed: int, options: TrainOptions, limits: Limits,
           world: World | None = None) -> Session:
    device = _device(options.device, program)
    if world is not None:
        device = device_of(world, device)
    torch.manual_seed(seed)
    model = compile_spec(checked)
    if options.load is not None:
        from .checkpoint import load_weights

        load_weights(options.load, model, program)
    model.to(device)
    data = dataset(checked, seed, program.table, limits.memory_budget).to(device)
    if world is not None:
        check_spec(checked, world, isinstance(data, Dataset) and data.inputs.dim() == 1)
    check_run_length(checked, data.batches_per_epoch(), options.epochs is not None)  # as `check` held the spec's
    steps = checked.epochs * data.batches_per_epoch()
    every = options.every if options.every is not None else max(1, steps // 200)
    check_trace_size(options.trace, checked.parameter_count, steps, limits.max_trace_values,
                     options.full_parameters)
    tracer = Tracer(options.trace, options.progress, every, steps, data.batches_per_epoch())
    params: list[torch.Tensor] = list(model.parameters())
    mixed = mixed_of(options, device)  # --precision, --compile: through torch's optimizer (fp16's scaler steps it)
    lean = lean_optimizer(checked.optimizer, params) and not needs_optimizer(checked) and mixed is None
    optimizer = None if lean else build_optimizer(checked.optimizer, params)
    control = control_of(checked, optimizer, params, batch_rows(data.size, data.batch), data.validating)
    return Session(program, checked, seed, model, snapshot(model), data, optimizer, build_loss(checked.loss), tracer,
                   full_parameters=options.full_parameters, control=control, mixed=mixed,
                   shares=Shares(world, model, device) if world is not None else None)


def check_device(name: str, python: bool) -> None:
    """A CUDA device asked for where there is none is refused, in the words of the command line or of Python."""
    if name == "cuda" and not torch.cuda.is_available():
        cuda, cpu, auto = (("device='cuda'", "device='cpu'", "device='auto'") if python else
                           ("--device cuda", "--device cpu", "--device auto"))
        raise usage_error(f"{cuda} was asked for, but no CUDA device is available",
                          f"use {cpu}, or {auto} to use a GPU when there is one", code=codes.NO_DEVICE)


def _device(name: str, program: Program) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    check_device(name, python=True)
    return torch.device(name)


def _with_epochs(program: Program, epochs: int | None) -> CheckedSpec:
    """The spec with the epochs that `TrainOptions` checked, if it sets them."""
    if epochs is None:
        return program.spec
    return program.spec.model_copy(update={"epochs": epochs})


def _loop(session: Session, keeper: Keeper | None = None):
    """The tutorial's loop: zero_grad, forward, loss, backward, step, once per batch; with a
    `keeper`, from the epoch after the checkpoint resumed from, and checkpointed after each epoch."""
    model, losses, tracer = session.model, session.losses, session.tracer
    params: list[torch.Tensor] = list(model.parameters())
    forward, clear = forward_of(model), clear_of(params)
    criterion = loss_of(session.criterion)
    step = step_of(session.checked.optimizer, session.optimizer, params)
    watching, control = tracer.active, session.control
    first = keeper.begin(session, step) if keeper is not None else 1
    shares, batches = session.shares, session.data.batches
    value_of: Callable[[torch.Tensor], float] = torch.Tensor.item
    if shares is not None:  # one rank of several: its share of each batch, gradients averaged by DDP
        shares.reseed(session.seed, first)
        forward, criterion, value_of = shares.forward, shares.loss(criterion), shares.value
        batches = lambda: shares.batches(session.data.batches())  # noqa: E731
    forward, criterion, backward, step = wrapped(session.mixed, model, forward, criterion, step, session.optimizer)
    model.train()
    for epoch in range(first, session.checked.epochs + 1):
        for inputs, targets in batches():
            clear()
            output = forward(inputs)
            try:
                loss = criterion(output, targets)
            except RuntimeError:  # `bce` refuses an output that is not finite: the run diverged
                if not_finite(output):
                    return _diverged(losses, math.nan)
                raise
            value = value_of(loss)
            if not math.isfinite(value):
                return _diverged(losses, value)
            losses.append(value)
            backward(loss)
            if watching:
                tracer.after_backward(len(losses), value, model, control.current_lr if control is not None else None)
            if control is not None:
                control.before_step()
            step()
            if control is not None:
                control.after_step()
            if watching:
                tracer.after_step(len(losses), model)
        if session.data.validating:
            session.validation.append(_held_out_loss(session))
        if control is not None and control.after_epoch(epoch, losses, session.validation, model):
            break
        if keeper is not None:
            keeper.after_epoch(epoch, session, step)
    return None, []


def _held_out_loss(session: Session) -> float:
    """The loss on the held-out rows: of their one batch, or the rows' mean over a streamed file's batches."""
    model = session.model
    model.eval()
    losses: list[tuple[float, int]] = []
    with torch.no_grad():
        for inputs, targets in session.data.held_batches():
            output = model(inputs)
            try:
                value = session.criterion(output, targets).item()
            except RuntimeError:  # as in the loop: an output that is not finite has no loss
                if not not_finite(output):
                    raise
                value = math.nan
            losses.append((value, len(targets)))
    model.train()
    if len(losses) == 1:
        return losses[0][0]
    return sum(value * rows for value, rows in losses) / max(1, sum(rows for _, rows in losses))


def not_finite(output: torch.Tensor) -> bool:
    """Whether any value of a network's output is NaN or infinite (it then has no loss for `bce`)."""
    return not bool(torch.isfinite(output).all())


def _diverged(losses: list[float], value: float):
    step = len(losses) + 1
    last = f"{losses[-1]:.6g}" if losses else "none"
    message = (f"the loss became {value} at step {step} (last finite loss: {last}); "
               "the learning rate `lr` is likely too high, or the targets too large")
    return f"loss not finite at step {step}", [DiagnosticEntry(kind="diverged", message=message, step=step)]


def _finish(session: Session, stopped: str | None, diagnostics: list) -> Run:
    if session.control is not None and session.control.stopper is not None:
        session.control.stopper.restore(session.model)
    return Run(session.model, build_report(session, stopped, diagnostics), session.program,
               session.data.normalization)
