"""A finished run, summed up as a `Report`.

In: a `Session` — everything one run holds while it trains: the model, its
optimizer and loss, the data, what the loop recorded. Out: `Run` (model,
report, program, and with `normalize` the statistics the model's inputs are
scaled by) with the report's parameters, eval outputs, accuracy and
diagnostics filled in. Evaluation runs in eval mode without gradients.
Parameters stay tensors: the initial snapshot is a copy taken before training,
the final one the trained model's own tensors (detached; moved to the CPU).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import torch
from torch import nn

from compiler import CheckedSpec, Program
from compiler.data_rules import plain_vector

from .control import Control
from .control_report import control_fields
from .data import Dataset, input_dtype
from .diagnose import diagnose
from .distributed import Shares
from .epochs import batch_rows, epoch_means
from .normalize import Normalization
from .optim import declared_settings, group_settings
from .outputs import task_of
from .precision import Mixed
from .report import (
    EvalResult,
    LossInfo,
    ModelInfo,
    OptimizerInfo,
    Parameters,
    Report,
    Timing,
    TrainingInfo,
    Validation,
    WarningEntry,
)
from .tensors import listed
from .trace import Tracer


@dataclass
class Run:
    """A finished (or stopped) training run."""

    model: nn.Sequential
    report: Report
    program: Program
    normalization: Normalization | None = None  # `normalize`: `model` takes inputs scaled by these statistics


@dataclass
class Session:
    """Everything one run holds while it trains."""

    program: Program
    checked: CheckedSpec
    seed: int
    model: nn.Sequential
    initial: dict[str, torch.Tensor]
    data: Dataset
    optimizer: torch.optim.Optimizer | None  # None when the loop writes SGD's update out
    criterion: nn.Module
    tracer: Tracer
    losses: list[float] = field(default_factory=list)
    validation: list[float] = field(default_factory=list)  # held-out loss after each epoch
    timing: dict[str, float] = field(default_factory=dict)
    full_parameters: bool = False  # the JSON report lists every value, however many
    control: Control | None = None  # schedule, clipping, early stopping: None when the spec has none
    mixed: Mixed | None = None  # --precision bf16|fp16 or --compile on a GPU: None without them
    shares: Shares | None = None  # one rank of a distributed run: its share of each batch (`distributed`)


def snapshot(model: nn.Module, copy: bool = True) -> dict[str, torch.Tensor]:
    """Every parameter and buffer by its state_dict name, on the CPU: copies, or
    (`copy=False`) the model's own tensors where they already are on the CPU."""
    return {name: _on_cpu(tensor.detach(), copy) for name, tensor in model.state_dict().items()}


def _on_cpu(tensor: torch.Tensor, copy: bool) -> torch.Tensor:
    if tensor.device.type != "cpu":
        return tensor.cpu()  # a copy already
    return tensor.clone() if copy else tensor


def _evaluate(model: nn.Module, checked: CheckedSpec, device: torch.device, classes: tuple[str, ...],
              normalization: Normalization | None) -> tuple[EvalResult, ...]:
    """Each `eval` line's outputs (its input scaled first, with `normalize`); a classifier's also its
    predicted class and that class's probability."""
    model.eval()
    results = []
    task = task_of(checked, classes, ())
    with torch.no_grad():
        plain = plain_vector(checked)
        for vector in checked.evals:
            given = torch.tensor(vector, dtype=input_dtype(checked), device=device)
            given = normalization.apply(given) if normalization is not None else given
            output = (model(given) if plain else model(given.unsqueeze(0))[0]).cpu().flatten()
            result = EvalResult(input=vector, output=tuple(output.tolist()))
            if task.kind == "classes":
                chances = task.probabilities(output.unsqueeze(0))[0]
                pick = int(task.predicted(chances))
                result = result.model_copy(update={"predicted": task.labels[pick],
                                                   "probability": float(chances[pick])})
            results.append(result)
    return tuple(results)


def _test(model: nn.Module, program: Program, checked: CheckedSpec, normalization: Normalization | None):
    """The loss and metrics on the rows of the spec's `test` file, in eval mode (None without one)."""
    if program.test_table is None:
        return None
    from .evaluation import evaluate_rows
    from .weights_meta import column_names

    table = program.table
    task = task_of(checked, table.classes if table else (), tuple(column_names(table.target_names)) if table else ())
    return evaluate_rows(model, checked, task, program.test_table, normalization)


def _accuracy(model: nn.Module, batches: Iterator[tuple[torch.Tensor, torch.Tensor]]) -> float:
    """The share of rows whose highest output is the target class, in eval mode (over each batch)."""
    model.eval()
    shares: list[tuple[float, int]] = []
    with torch.no_grad():
        for inputs, targets in batches:
            right = model(inputs).argmax(dim=-1) == targets
            shares.append((right.float().mean().item(), right.numel()))
    if len(shares) == 1:
        return shares[0][0]
    return sum(share * rows for share, rows in shares) / max(1, sum(rows for _, rows in shares))


def _validation(model: nn.Module, data: Dataset, losses: list[float], classes: bool) -> Validation | None:
    """The rows held out by `validate`: their loss after each epoch, and their accuracy for a class loss."""
    if not data.validating:
        return None
    return Validation(rows=data.held_rows, losses=tuple(losses),
                      accuracy=_accuracy(model, data.held_batches()) if classes else None)


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return device.type


def model_info(model: nn.Module, checked: CheckedSpec) -> ModelInfo:
    rows = checked.summary()
    t, out = checked.input_type, checked.output_type
    return ModelInfo(repr=repr(model), layers=rows, parameters=checked.parameter_count,
                     input_width=checked.input_width, output_width=checked.output_width,
                     input_shape=t.sizes, input_dtype=t.dtype, output_shape=out.sizes, output_dtype=out.dtype,
                     flops=sum(row.flops for row in rows))


def build_report(session: Session, stopped: str | None, diagnostics: list) -> Report:
    program, checked, seed, model = session.program, session.checked, session.seed, session.model
    optimizer, criterion, data, losses = session.optimizer, session.criterion, session.data, session.losses
    initial, validation, timing = session.initial, session.validation, session.timing
    final = snapshot(model, copy=False)
    device = next(model.parameters()).device if any(True for _ in model.parameters()) else torch.device("cpu")
    epochs = epoch_means(losses, batch_rows(data.size, data.batch))
    diagnostics = list(diagnostics) + diagnose(checked, initial, final, epochs, data.batches_per_epoch(),
                                               data.broadcast)
    normalization = data.normalization
    constant = normalization.diagnostic() if normalization is not None else None
    diagnostics += [constant] if constant is not None else []
    return Report(
        spec=program.filename, seed=seed, torch_version=torch.__version__, device=_device_name(device),
        model=model_info(model, checked),
        optimizer=OptimizerInfo(name=checked.optimizer.torch_name,  # as built: a schedule moves the lr (and momentum)
                                settings=(group_settings(optimizer) if optimizer and session.control is None
                                          else declared_settings(checked.optimizer))),
        loss=LossInfo(name=type(criterion).__name__, settings=checked.loss.torch_kwargs()),
        training=TrainingInfo(epochs=checked.epochs, examples=data.size,
                              batches_per_epoch=data.batches_per_epoch(), batch_size=data.batch or data.size,
                              steps=len(losses),
                              target_broadcast=data.broadcast,
                              classes=program.table.classes if program.table else ()),
        losses=tuple(losses), epoch_losses=tuple(epochs), final_loss=epochs[-1] if epochs else None,
        accuracy=_accuracy(model, data.ordered_batches()) if checked.loss.class_targets else None,
        validation=_validation(model, data, validation, checked.loss.class_targets),
        parameters=Parameters(listed=listed(initial, session.full_parameters), initial=initial, final=final),
        eval=_evaluate(model, checked, device, program.table.classes if program.table else (), normalization),
        test=_test(model, program, checked, normalization), diagnostics=tuple(diagnostics), stopped=stopped,
        warnings=tuple(WarningEntry.model_validate(warning) for warning in program.warnings),
        trace=tuple(session.tracer.records), timing=Timing(**timing) if len(timing) == 2 else None,
        normalization=normalization.info() if normalization is not None else None, streamed=data.info(),
        gpu=session.mixed.info() if session.mixed is not None else None,
        processes=session.shares.world.size if session.shares is not None else None,
        **control_fields(session.control, checked))
