"""The training data against the network: `example`, `eval` and `data` rows.

In: the bound statements, the checked spec, where the input type came from
and what the shape pass found. Out: a diagnostic for every example or eval
whose width does not fit (or that is a flat vector for a shaped input, or
holds a value that is not an id the first layer takes), every target the loss
cannot use, and every problem with a data file (read here, without torch, as
a `Table`; its shape must agree with the `input` statement's); and warnings
for what is accepted but likely a mistake: an activation the loss applies
again, training rows all of one class, a `validate` that holds out a single
row, and what the data file's reading noticed (`Table.warnings`).
"""

from __future__ import annotations

from array import array
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spec_lang import ast, codes
from spec_lang.errors import Diagnostic, Fix, Label

from .bind_all import Collected
from .data_file import DataProblem, Table
from .data_gather import load_data
from .data_ids import Ids, ids_of
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
    if options.memo is None:
        return _read_table(bound, found, start, options)
    key = ("table", id(bound.statement), start.width if start else None)  # a sweep's combinations read it once
    kept = options.memo.get(key)
    if kept is not None and kept[0] is bound.statement:  # held there: its id is not reused
        result: tuple[Table | None, list[Diagnostic]] = kept[1]
        return result[0], list(result[1])
    result = _read_table(bound, found, start, options)
    options.memo[key] = (bound.statement, result)
    return result[0], list(result[1])


def _read_table(bound: Bound, found: Collected, start: Source | None,
                options: Options) -> tuple[Table | None, list[Diagnostic]]:
    loss = found.one("loss")
    class_targets = loss is not None and isinstance(loss.model, Loss) and loss.model.class_targets
    assert isinstance(bound.model, Data)
    try:
        table = load_data(bound.model, options.folder or Path.cwd(), options.allow_outside,
                           start.width if start else None, class_targets, options.limits, ids_of(found.layers))
    except DataProblem as problem:
        return None, [Diagnostic(problem.message, bound.span_of(problem.field), problem.label,
                                 hint=problem.hint, code=problem.code)]
    return table, [Diagnostic(w.message, bound.span_of(w.field), w.label, hint=w.hint, severity="warning",
                              code=w.code)
                   for w in table.warnings]


def table_source(found: Collected, table: Table | None) -> Source | None:
    """The input type a data file gives: the shape of one example's inputs (`shape=`, or an .npz
    array's), or as many values as the input columns named."""
    if table is None:
        return None
    bound = found.one("data")
    assert bound is not None  # a table is read from a `data` statement
    field = "shape" if "shape" in bound.spans else "inputs"
    return Source(TensorType.of(*table.input_shape), bound.span_of(field), "data file", bound.statement)


def check_loss(found: Collected, spec: CheckedSpec, shapes: Shapes) -> list[Diagnostic]:
    """The loss against the end of the network (`bce` needs a sigmoid, classes need outputs)."""
    bound = found.one("loss")
    if bound is None or shapes.output_in_doubt:
        return []
    trouble = spec.loss.network_problem(spec.layers[-1].last_leaf() if spec.layers else None, spec.output_type)
    if trouble is None:
        return []
    last = found.layers[-1].statement
    hint, place = trouble.hint, None
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
                       severity=trouble.severity, code=trouble.code,
                       fix=_add_flatten(place.statement) if trouble.about == "flatten" and place else None)]



def _add_flatten(stmt: ast.Statement) -> Fix:
    """`flatten` written before `stmt`: on a line of its own when `stmt` starts its line, else before a `;`."""
    at = stmt.span._replace(end_line=stmt.span.line, end_column=stmt.span.column, end=stmt.span.start)
    return Fix(at, "flatten\n" if stmt.span.column == 1 else "flatten; ",
               f"add `flatten` before `{statement_text(stmt)}`")


def _flatten_place(found: Collected, spec: CheckedSpec) -> Bound | None:
    """Where a `flatten` belongs: before the first of the last run of layers that keep
    more than one dim and state the size they give (`linear ->10` after a conv)."""
    types = spec.types()
    place = None
    for index in range(len(spec.layers) - 1, -1, -1):
        if types[index].rank < 2:
            break
        if spec.layers[index].states_output() and spec.layers[index].ranks is None:  # on the last dim, any rank
            place = found.layers[index]
        elif not spec.layers[index].keeps_shape:
            break
    return place


def check_examples(found: Collected, spec: CheckedSpec, start: Source, shapes: Shapes) -> list[Diagnostic]:
    """Examples and evals against the network's input and output widths, and the ids it takes."""
    problems: list[Diagnostic] = []
    takes = Label(start.span, f"takes {spec.input_width}" if start.what != "example" else
                  f"{plural(spec.input_width, 'input')} here")
    outputs = spec.output_width
    produces = Label(shapes.output.span, f"{outputs} output{'s' * (outputs != 1)}")
    ids = ids_of(found.layers)
    for bound in found.all("example") + found.all("eval"):
        assert isinstance(bound.model, (Example, Eval))
        given = len(bound.model.input)
        if spec.input_type.rank > 1 and not shapes.input_in_doubt:
            problems.append(_shaped_problem(bound, spec, start))
        elif given != spec.input_width and not shapes.input_in_doubt:
            problems.append(_width_problem(bound, given, spec.input_width, takes))
        elif ids is not None:
            problems += _id_problems(bound, ids, found.layers[0].statement.span)
        if not isinstance(bound.model, Example) or shapes.output_in_doubt:
            continue
        target = bound.model.target
        trouble = spec.loss.target_problem(target, outputs)
        if trouble:
            miscounted = len(target) != 1 if spec.loss.class_targets else len(target) not in (1, outputs)
            label = f"{len(target)} value{'s' * (len(target) != 1)}" if miscounted else "out of range"
            problems.append(Diagnostic(trouble, bound.span_of("target"), label, (produces,),
                                       hint=spec.loss.target_hint(outputs),
                                       code=codes.TARGET_WIDTH_MISMATCH if miscounted else codes.BAD_TARGET))
    return problems


def _shaped_problem(bound: Bound, spec: CheckedSpec, start: Source) -> Diagnostic:
    """An `example` or `eval` is a flat vector; a network taking a shaped input learns from a data file."""
    name, shape = bound.statement.name, spec.input_type
    sizes = TensorType.of(*shape.sizes)  # the sizes alone, without the dtype
    return Diagnostic(f"`{name}` gives a flat vector, but the network takes {sizes}",
                      bound.span_of("input"), "a flat vector", (Label(start.span, f"takes {sizes}"),),
                      hint=f'give shaped inputs in a data file: `data "file.npz"`, or `data "file.csv" '
                           f'shape={shape.written}`', code=codes.EXAMPLE_WIDTH_MISMATCH)


def _id_problems(bound: Bound, ids: Ids, layer: ast.Span) -> list[Diagnostic]:
    """The first value of an `example` or `eval` that is not an id the first layer takes."""
    assert isinstance(bound.model, (Example, Eval))
    for position, value in enumerate(bound.model.input):
        trouble = ids.problem(value, f"{value:g}")
        if trouble:
            return [Diagnostic(f"`{bound.statement.name}` value {position + 1}: {trouble}", bound.span_of("input"),
                               "not an id", (Label(layer, ids.span_label),), hint=ids.hint, code=codes.BAD_TOKEN_ID)]
    return []


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
        bound.span_of("input"), f"{got} value{'s' * (got != 1)}", (takes,), hint=hint,
                      code=codes.EXAMPLE_WIDTH_MISMATCH)


def check_table(found: Collected, table: Table | None, spec: CheckedSpec, start: Source,
                shapes: Shapes, limits: Limits) -> list[Diagnostic]:
    if table is None:
        return []
    bound = found.one("data")
    assert bound is not None  # a table is read from a `data` statement
    span = bound.span_of("path")
    rows = table.rows + len(spec.examples)
    if rows > limits.max_examples and not table.streamed:  # a streamed file is bounded by the memory budget
        return [Diagnostic(f"{rows:,} rows of training data (examples and `{table.path}`) is over the limit of "
                           f"{limits.max_examples:,}", span, f"{plural(table.rows, 'row')}",
                           hint="use fewer rows, or raise the limit with --max-examples", code=codes.TOO_MANY_EXAMPLES)]
    if table.shaped and start.what != "data file" and not shapes.input_in_doubt and (
            table.input_shape != spec.input_type.sizes):
        return [_shape_disagrees(bound, table, spec, start)]
    if table.input_width != spec.input_width and not shapes.input_in_doubt:
        if _arrays(table):
            has = f"{plural(table.input_width, 'input value')} a row"
            fix = f"give `{table.input_names[0]}` rows of {plural(spec.input_width, 'value')}"
        else:
            has, fix = plural(table.input_width, "input column"), "name the input columns with `inputs=`"
        return [Diagnostic(
            f"`{table.path}` has {has}, but the network takes {spec.input_width}",
            span, plural(table.input_width, "input"), (Label(start.span, f"takes {spec.input_width}"),),
            hint=f"{fix}, or change the network's input width", code=codes.DATA_WIDTH_MISMATCH)]
    if shapes.output_in_doubt:
        return []
    return table_targets(table, spec, span, Label(shapes.output.span, plural(spec.output_width, "output")))


def _arrays(table: Table) -> bool:
    """Whether the table was read from an .npz file's arrays (rather than a CSV file's columns)."""
    return table.path.lower().endswith(".npz")


def _shape_disagrees(bound: Bound, table: Table, spec: CheckedSpec, start: Source) -> Diagnostic:
    """The data's stated shape and the `input` statement's differ."""
    given, takes = TensorType.of(*table.input_shape), TensorType.of(*spec.input_type.sizes)
    return Diagnostic(f"`{table.path}` gives inputs of shape {given}, but the network takes {takes}",
                      bound.span_of("shape" if "shape" in bound.spans else "path"), f"gives {given}",
                      (Label(start.span, f"takes {takes}"),),
                      hint=f"make them agree: `input {given.written}`, or `shape={takes.written}` on the `data` "
                           "statement", code=codes.DATA_SHAPE_MISMATCH)


def table_targets(table: Table, spec: CheckedSpec, span: ast.Span, produces: Label) -> list[Diagnostic]:
    """The targets of a data (or test) file against the loss and the network's outputs."""
    outputs, width = spec.output_width, table.target_width
    if table.classes and len(table.classes) > outputs:
        return [Diagnostic(f"`{table.path}` has {len(table.classes)} classes, but the network has "
                           f"{plural(outputs, 'output')}", span, plural(len(table.classes), "class"), (produces,),
                           hint=f"give the last layer one output per class, e.g. `linear ->{len(table.classes)}`",
                           code=codes.CLASS_COUNT_MISMATCH)]
    if not spec.loss.class_targets and width not in (1, outputs):
        if _arrays(table):
            has = f"{plural(width, 'target value')} a row"
            fix = f"give each row of `{table.target_names[0]}` {plural(outputs, 'value')}"
        else:
            has, fix = plural(width, "target column"), "name the target columns with `target=`"
        return [Diagnostic(f"`{table.path}` has {has}, but the network has "
                           f"{plural(outputs, 'output')}", span, plural(width, "target"), (produces,),
                           hint=f"{fix}, or give the network {width} outputs", code=codes.TARGET_WIDTH_MISMATCH)]
    bad = first_bad_row(table, spec.loss, outputs)
    if bad is not None:
        row, trouble = bad
        return [Diagnostic(f"`{table.path}` row {row + 1}: {trouble}", span, f"row {row + 1} of the data",
                           (produces,), hint=spec.loss.target_hint(outputs), code=codes.BAD_TARGET)]
    return []


def first_bad_row(table: Table, loss: Loss, outputs: int) -> tuple[int, str] | None:
    """The first row whose target the loss refuses, with why. A loss refuses a target for its
    width (the same in every row) or for one of its values, so each distinct value is asked once."""
    width = table.target_width
    streamed: Any = table if table.streamed else None  # a `data_stream.StreamedTable`: no rows, what is known of them
    first = streamed.first_targets if streamed else tuple(table.row(table.targets, 0, width))
    trouble = loss.target_problem(first, outputs)
    if trouble:
        return 0, trouble
    if streamed:  # each distinct value with its first row, or the extremes
        return next(((row, loss.target_problem((value,), outputs) or "") for value, row in streamed.target_rows
                     if loss.target_problem((value,), outputs)), None)
    if type(loss).target_problem is Loss.target_problem:
        return None  # the width alone, and row 0 has it
    wrong = {value for value in distinct(table.targets) if loss.target_problem((value,), outputs)}
    if not wrong:
        return None
    row = next(index for index, value in enumerate(table.targets.tolist()) if value in wrong) // width
    return row, loss.target_problem(tuple(table.row(table.targets, row, width)), outputs) or ""


def distinct(values: Any) -> set[float]:
    """The distinct values of a table's flat array, without a Python number per value for a NumPy one."""
    if isinstance(values, array):
        return set(values)
    import numpy as np

    return set(np.unique(values).tolist())


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
            "1 row held out", hint="hold out more rows: a larger share, or more data", severity="warning",
                           code=codes.VALIDATE_ONE_ROW)]
    return [Diagnostic(f"`validate` needs at least 2 training rows, but there {'is' if rows == 1 else 'are'} {rows}",
                       bound.statement.span, "nothing left to train on",
                       hint="add examples or a data file, or remove `validate`", code=codes.VALIDATE_TOO_FEW)]


def check_classes(found: Collected, table: Table | None, spec: CheckedSpec) -> list[Diagnostic]:
    """A class loss whose training rows all have the same class has nothing to tell apart."""
    if not spec.loss.class_targets:
        return []
    classes = {example.target[0] for example in spec.examples if len(example.target) == 1}
    if table is not None and table.target_width == 1:
        known = getattr(table, "distinct", None)  # a streamed file's values, when few (else: many classes)
        classes.update(distinct(table.targets) if not table.streamed else known if known is not None else (0, 1))
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
                       severity="warning", code=codes.ONE_CLASS)]
