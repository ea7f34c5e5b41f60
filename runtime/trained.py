"""A trained network, loaded to be used: its spec, its weights, and the rows it is given.

In: a spec file and a weights file (`--load`), or a checked program; a file of
rows (`--data`). Out: `Loaded` — the program, the network in eval mode with the
weights copied in (refused, located, when they are another network's: see
`weights_meta`), what its outputs mean (`outputs.Task`) and what it learnt from
its training data (`data_rows.Trained`); the rows of a file read as the spec's
`data` statement says (`read_rows`), as a `Table`; and those rows batch by
batch as the network's input tensors (`network_inputs`, the one place where
rows read from a file become what the network takes) and outputs (`outputs_of`).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from compiler import CheckedSpec, Limits, Program, check, compile_spec
from compiler.csv_layout import DataProblem
from compiler.data_checks import first_bad_row
from compiler.data_ids import Ids
from compiler.data_rows import Trained, load_rows
from compiler.data_rules import plain_vector
from compiler.data_table import Table
from compiler.settings import Data
from compiler.sweep import one_network
from spec_lang import Diagnostic, SpecError, codes, usage_error, visible
from spec_lang.files import resolved

from .data import input_dtype, values
from .normalize import Normalization
from .outputs import Task, task_of
from .weights_meta import Saved, check_same_network, column_names, layer_text, saved

BATCH_ROWS = 1024  # rows run through the network at once


@dataclass
class Loaded:
    program: Program
    model: nn.Module
    saved: Saved
    task: Task
    trained: Trained
    normalization: Normalization | None = None  # the training rows' statistics the weights were saved with


def load_network(spec: str, weights: str, limits: Limits, allow_outside: bool, command: str) -> Loaded:
    """The spec checked (with its warnings printed), its network built with the weights of `weights` in it."""
    from .checkpoint import load_weights, read_metadata
    from .cli import print_warnings

    program = check(Path(spec), filename=spec, limits=limits, allow_outside=allow_outside)
    print_warnings(program)
    one_network(program, f"`{command}`")
    metadata = read_metadata(Path(weights))
    found = saved(metadata)
    check_same_network(weights, program, found)
    normalization = _normalization(weights, program, metadata)
    model = compile_spec(program)
    load_weights(Path(weights), model, program)
    if found.fingerprint is None:
        print(f"warning[{codes.NO_FINGERPRINT}]: `{visible(weights)}` was saved without the fingerprint of its "
              "network (by an earlier nqa): only the names and shapes of its weights were checked against the spec",
              file=sys.stderr)
    model.eval()
    return Loaded(program, model, found, *_meaning(program, found), normalization=normalization)


def _normalization(weights: str, program: Program, metadata: dict[str, str]) -> Normalization | None:
    """The input statistics saved with the weights: they belong to the trained network, so they are applied
    whatever the spec says; a spec that says `normalize` is refused weights saved without them."""
    normalization = Normalization.from_metadata(metadata)
    if normalization is None and program.spec.normalize is not None:
        raise usage_error(f"`{visible(weights)}` holds no input statistics, but this spec normalises its inputs "
                          "(`normalize`): the weights were trained without it",
                          "load weights saved by `nqa run --save` from this spec", code=codes.STATISTICS_MISMATCH)
    if normalization is not None and tuple(normalization.shift.shape) != tuple(program.spec.input_type.sizes):
        raise usage_error(f"`{visible(weights)}` holds input statistics of shape {list(normalization.shift.shape)}, "
                          f"but this network takes inputs of shape {list(program.spec.input_type.sizes)}",
                          "load weights saved from the same network", code=codes.STATISTICS_MISMATCH)
    return normalization


def _meaning(program: Program, found: Saved) -> tuple[Task, Trained]:
    table = program.table
    classes = found.classes or (table.classes if table else ())
    targets = found.targets or (tuple(column_names(table.target_names)) if table else ())
    spec = program.spec
    trained = Trained(spec.input_type.sizes, spec.loss.class_targets, classes,
                      table.target_width if table else (1 if spec.loss.class_targets else None))
    return task_of(spec, classes, targets), trained


def ids_taken(spec: CheckedSpec) -> Ids | None:
    """The ids the network's first layer takes, when it takes ids."""
    first = spec.flat()[0][0]
    return Ids(first.id_count(), layer_text(first)) if first.takes_ids else None


def read_rows(loaded: Loaded, written: str, limits: Limits, need_targets: bool) -> Table:
    """The rows of the file `written` (a command line's path), read with the spec's `data` options."""
    program = loaded.program
    data = program.spec.data or Data(path=written)
    data = data.model_copy(update={"path": written})
    try:
        table = load_rows(data, resolved(Path(written)), limits, loaded.trained, need_targets, ids_taken(program.spec))
        bad = first_bad_row(table, program.spec.loss, program.spec.output_width) if table.target_width else None
        if bad is not None:  # as the loss refuses the targets of a `data` or `test` file
            raise DataProblem(f"`{written}` row {bad[0] + 1}: {bad[1]}",
                              program.spec.loss.target_hint(program.spec.output_width), f"row {bad[0] + 1}",
                              code=codes.BAD_TARGET)
        return table
    except DataProblem as problem:
        label = "read with the options of this `data` statement" if program.data_span else ""
        raise SpecError(Diagnostic(problem.message, program.data_span, label, hint=problem.hint, code=problem.code),
                        program.source, program.filename) from None


def network_inputs(table: Table, spec: CheckedSpec, start: int, stop: int,
                   normalization: Normalization | None = None) -> torch.Tensor:
    """Rows `start` to `stop` of a table read from a file, as the network's input tensor `[rows, *input sizes]`,
    scaled by the training rows' statistics when the network was trained with `normalize`.
    Every use of a trained network on rows from a file (predict, evaluate, `test`) goes through here."""
    width = table.input_width
    flat = values(table.inputs[start * width:stop * width])
    inputs = flat.reshape(-1, *spec.input_type.sizes).to(input_dtype(spec))
    return normalization.apply(inputs) if normalization is not None else inputs


def network_targets(table: Table, spec: CheckedSpec, start: int, stop: int) -> torch.Tensor:
    """Rows `start` to `stop` of the table's targets as the loss takes them (as training gives them)."""
    width = table.target_width
    flat = values(table.targets[start * width:stop * width]).reshape(-1, width)
    if spec.loss.class_targets:
        return flat[:, 0].long()
    outputs = spec.output_width
    flat = flat.to(torch.float32)
    return (flat.expand(-1, outputs) if width != outputs else flat).reshape(-1, *spec.output_type.sizes)


def outputs_of(model: nn.Module, spec: CheckedSpec, inputs: torch.Tensor) -> torch.Tensor:
    """The network's outputs for rows of inputs, one row of `output_width` values each, in eval mode.
    A single row of a vector goes in as a plain vector, as an `eval` line's does."""
    model.eval()
    with torch.no_grad():
        output = model(inputs[0]).unsqueeze(0) if len(inputs) == 1 and plain_vector(spec) else model(inputs)
    return output.reshape(len(inputs), -1)


def batches(table: Table, size: int = BATCH_ROWS) -> Iterator[tuple[int, int]]:
    """The (start, stop) rows of each batch."""
    for start in range(0, table.rows, size):
        yield start, min(start + size, table.rows)
