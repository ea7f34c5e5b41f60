"""The training data against the network: `example`, `eval` and `data` rows.

In: the bound statements, the checked spec, where the input width came from
and what the shape pass found. Out: a diagnostic for every example or eval
whose width does not fit, every target the loss cannot use, and every problem
with a data file (read here, without torch, as a `Table`); and warnings for
what is accepted but likely a mistake: an activation the loss applies again,
training rows all of one class, a `validate` that holds out a single row,
and what the data file's reading noticed (`Table.warnings`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from spec_lang import ast
from spec_lang.errors import Diagnostic, Label

from .bind_all import Collected
from .data_file import DataProblem, Table, load_table
from .data_rules import held_out_rows
from .limits import Limits
from .losses import Loss
from .messages import plural, shown
from .model import CheckedSpec
from .settings import Data, Eval, Example, Validate
from .shapes import Shapes, Source, statement_text
from .statement import Bound
from .types import TensorType

if TYPE_CHECKING:
    from .check import Options


def read_table(found: Collected, start: Source | None, options: Options) -> tuple[Table | None, list[Diagnostic]]:
    bound = found.one("data")
    if bound is None:
        return None, []
    loss = found.one("loss")
    class_targets = loss is not None and isinstance(loss.model, Loss) and loss.model.class_targets
    assert isinstance(bound.model, Data)
    try:
        table = load_table(bound.model, options.folder or Path.cwd(), options.allow_outside,
                           start.width if start else None, class_targets, options.limits)
    except DataProblem as problem:
        return None, [Diagnostic(problem.message, bound.span_of(problem.field), problem.label,
                                 hint=problem.hint)]
    return table, [Diagnostic(w.message, bound.span_of(w.field), w.label, hint=w.hint, severity="warning")
                   for w in table.warnings]


def table_source(found: Collected, table: Table | None) -> Source | None:
    """The input width a data file gives when its input columns are named."""
    if table is None:
        return None
    bound = found.one("data")
    assert bound is not None  # a table is read from a `data` statement
    return Source(TensorType.vector(table.input_width), bound.span_of("inputs"), "data file", bound.statement)


def check_loss(found: Collected, spec: CheckedSpec, shapes: Shapes) -> list[Diagnostic]:
    """The loss against the end of the network (`bce` needs a sigmoid, classes need outputs)."""
    bound = found.one("loss")
    if bound is None or shapes.output_in_doubt:
        return []
    trouble = spec.loss.network_problem(spec.layers[-1] if spec.layers else None, spec.output_type)
    if trouble is None:
        return []
    last = found.layers[-1].statement
    hint = trouble.hint
    if trouble.about == "flatten":
        place = _flatten_place(found, spec)
        hint += f" before `{statement_text(place.statement)}` (line {place.statement.span.line})" if place else \
            " as the last layer, then a `linear` with one output per class"
        note = Label(shapes.output.span, f"gives {spec.output_type}")
    elif trouble.about == "last layer":
        note = Label(last.span, f"`{last.name}` here")
    else:
        note = Label(shapes.output.span, plural(spec.output_width, "output"))
    return [Diagnostic(trouble.message, bound.statement.span, "this loss", (note,), hint=hint,
                       severity=trouble.severity)]


def _flatten_place(found: Collected, spec: CheckedSpec) -> Bound | None:
    """Where a `flatten` belongs: before the first of the last run of layers that keep
    more than one dim and state the size they give (`linear ->10` after a conv)."""
    types = spec.types()
    place = None
    for index in range(len(spec.layers) - 1, -1, -1):
        if types[index].rank < 2:
            break
        if spec.layers[index].states_output() and spec.layers[index].input_axis == -1:
            place = found.layers[index]
        elif not spec.layers[index].keeps_shape:
            break
    return place


def check_examples(found: Collected, spec: CheckedSpec, start: Source, shapes: Shapes) -> list[Diagnostic]:
    """Examples and evals against the network's input and output widths."""
    problems: list[Diagnostic] = []
    takes = Label(start.span, f"takes {spec.input_width}" if start.what != "example" else
                  f"{plural(spec.input_width, 'input')} here")
    outputs = spec.output_width
    produces = Label(shapes.output.span, f"{outputs} output{'s' * (outputs != 1)}")
    for bound in found.all("example") + found.all("eval"):
        assert isinstance(bound.model, (Example, Eval))
        given = len(bound.model.input)
        if given != spec.input_width and not shapes.input_in_doubt:
            problems.append(_width_problem(bound, given, spec.input_width, takes))
        if not isinstance(bound.model, Example) or shapes.output_in_doubt:
            continue
        target = bound.model.target
        trouble = spec.loss.target_problem(target, outputs)
        if trouble:
            miscounted = len(target) != 1 if spec.loss.class_targets else len(target) not in (1, outputs)
            label = f"{len(target)} value{'s' * (len(target) != 1)}" if miscounted else "out of range"
            problems.append(Diagnostic(trouble, bound.span_of("target"), label, (produces,),
                                       hint=spec.loss.target_hint(outputs)))
    return problems


def _width_problem(bound: Bound, got: int, want: int, takes: Label) -> Diagnostic:
    name = bound.statement.name
    hint = f"give {want} input value{'s' * (want != 1)}"
    if want <= 8:
        values = "[" + ", ".join(["1"] * want) + "]"
        target = bound.statement.args[0].right if name == "example" and isinstance(
            bound.statement.args[0], ast.Arrow) else None
        fix = f"example {values} -> {shown(target).strip('`')}" if target is not None else f"{name} {values}"
        hint += f", e.g. `{fix}`"
    return Diagnostic(
        f"`{name}` has {got} input value{'s' * (got != 1)}, but the network takes {want}",
        bound.span_of("input"), f"{got} value{'s' * (got != 1)}", (takes,), hint=hint)


def check_table(found: Collected, table: Table | None, spec: CheckedSpec, start: Source,
                shapes: Shapes, limits: Limits) -> list[Diagnostic]:
    if table is None:
        return []
    bound = found.one("data")
    assert bound is not None  # a table is read from a `data` statement
    span = bound.span_of("path")
    rows = table.rows + len(spec.examples)
    if rows > limits.max_examples:
        return [Diagnostic(f"{rows:,} rows of training data (examples and `{table.path}`) is over the limit of "
                           f"{limits.max_examples:,}", span, f"{plural(table.rows, 'row')}",
                           hint="use fewer rows, or raise the limit with --max-examples")]
    if table.input_width != spec.input_width and not shapes.input_in_doubt:
        return [Diagnostic(
            f"`{table.path}` has {plural(table.input_width, 'input column')}, but the network takes {spec.input_width}",
            span, plural(table.input_width, "input"), (Label(start.span, f"takes {spec.input_width}"),),
            hint="name the input columns with `inputs=`, or change the network's input width")]
    if shapes.output_in_doubt:
        return []
    return _table_targets(table, spec, span, Label(shapes.output.span, plural(spec.output_width, "output")))


def _table_targets(table: Table, spec: CheckedSpec, span: ast.Span, produces: Label) -> list[Diagnostic]:
    outputs, width = spec.output_width, table.target_width
    if table.classes and len(table.classes) > outputs:
        return [Diagnostic(f"`{table.path}` has {len(table.classes)} classes, but the network has "
                           f"{plural(outputs, 'output')}", span, plural(len(table.classes), "class"), (produces,),
                           hint=f"give the last layer one output per class, e.g. `linear ->{len(table.classes)}`")]
    if not spec.loss.class_targets and width not in (1, outputs):
        return [Diagnostic(f"`{table.path}` has {plural(width, 'target column')}, but the network has "
                           f"{plural(outputs, 'output')}", span, plural(width, "target"), (produces,),
                           hint=f"name the target columns with `target=`, or give the network {width} outputs")]
    for row in range(table.rows):
        trouble = spec.loss.target_problem(tuple(table.targets[row * width:(row + 1) * width]), outputs)
        if trouble:
            return [Diagnostic(f"`{table.path}` row {row + 1}: {trouble}", span, f"row {row + 1} of the data",
                               (produces,), hint=f"class indices run from 0 to {outputs - 1}")]
    return []


def check_validate(found: Collected, table: Table | None, spec: CheckedSpec) -> list[Diagnostic]:
    """`validate` needs a row to hold out and a row to train on; one row held out is a warning."""
    bound = found.one("validate")
    rows = len(spec.examples) + (table.rows if table else 0)
    if bound is None or (rows == 0 and found.failed & {"example", "data"}):
        return []
    if rows >= 2:
        assert isinstance(bound.model, Validate)
        if held_out_rows(bound.model.fraction, rows) > 1:
            return []
        return [Diagnostic(
            f"`validate` holds out 1 row of {rows:,}: its loss measures a single example", bound.statement.span,
            "1 row held out", hint="hold out more rows: a larger share, or more data", severity="warning")]
    return [Diagnostic(f"`validate` needs at least 2 training rows, but there {'is' if rows == 1 else 'are'} {rows}",
                       bound.statement.span, "nothing left to train on",
                       hint="add examples or a data file, or remove `validate`")]


def check_classes(found: Collected, table: Table | None, spec: CheckedSpec) -> list[Diagnostic]:
    """A class loss whose training rows all have the same class has nothing to tell apart."""
    if not spec.loss.class_targets:
        return []
    classes = {example.target[0] for example in spec.examples if len(example.target) == 1}
    if table is not None and table.target_width == 1:
        classes.update(table.targets)
    if len(classes) != 1:
        return []
    [index] = classes
    named = f"`{table.classes[int(index)]}`" if table is not None and table.classes else f"{index:g}"
    data, loss = found.one("data"), found.one("loss")
    assert loss is not None  # stated: the default loss, `mse`, has no classes
    where = (data.span_of("path") if table is not None and data is not None
             else found.all("example")[0].span_of("target"))
    return [Diagnostic(f"every training row is of class {named}: `loss cross_entropy` has nothing to tell apart",
                       where, "one class only", (Label(loss.statement.span, "this loss"),),
                       hint="give rows of at least two classes; trained on one, a network learns to answer it always",
                       severity="warning")]
