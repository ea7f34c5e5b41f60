"""The `test "test.csv"` statement: rows scored once training ends, read when the spec is checked.

In: the bound statements, the checked spec, the training data's table and the
check's options. Out: the test file's `Table` (read by `data_rows` with the
`data` statement's options — columns, delimiter, header, shape — its path
relative to the spec's folder, its text labels put in the training data's
order) or a diagnostic at the `test` statement naming the file's line and
column that is wrong: a file that cannot be read, columns that do not fit the
network, targets the loss cannot use, a class the training data does not have.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from spec_lang.errors import Diagnostic, Label

from .bind_all import Collected
from .csv_layout import DataProblem
from .data_checks import table_targets
from .data_file import resolve
from .data_ids import ids_of
from .data_rows import Trained, load_rows
from .data_table import Table
from .messages import plural
from .model import CheckedSpec
from .settings import Data, Test
from .shapes import Shapes

if TYPE_CHECKING:
    from .check import Options


def read_test(found: Collected, spec: CheckedSpec, table: Table | None, shapes: Shapes,
              options: Options) -> tuple[Table | None, list[Diagnostic]]:
    bound = found.one("test")
    if bound is None:
        return None, []
    if options.memo is None:
        return _read_test(found, spec, table, shapes, options)
    key = ("test", id(bound.statement))  # a sweep's combinations read it once: they share the data and the input
    kept = options.memo.get(key)
    if kept is not None and kept[0] is bound.statement:
        return kept[1][0], list(kept[1][1])
    result = _read_test(found, spec, table, shapes, options)
    options.memo[key] = (bound.statement, result)
    return result[0], list(result[1])


def _read_test(found: Collected, spec: CheckedSpec, table: Table | None, shapes: Shapes,
               options: Options) -> tuple[Table | None, list[Diagnostic]]:
    bound = found.one("test")
    assert bound is not None and isinstance(bound.model, Test)
    data_bound = found.one("data")
    data = data_bound.model if data_bound is not None else Data(path=bound.model.path)
    assert isinstance(data, Data)
    data = data.model_copy(update={"path": bound.model.path})
    trained = Trained(spec.input_type.sizes, spec.loss.class_targets, table.classes if table else (),
                      table.target_width if table else None)
    try:
        path = resolve(data.path, options.folder or Path.cwd(), options.allow_outside)
        test = load_rows(data, path, options.limits, trained, True, ids_of(found.layers))
    except DataProblem as problem:
        notes: tuple[Label, ...] = ()
        if problem.field != "path" and data_bound is not None and problem.field in data_bound.spans:
            notes = (Label(data_bound.span_of(problem.field), "read with this option"),)
        return None, [Diagnostic(problem.message, bound.span_of("path"), problem.label, notes, hint=problem.hint,
                                 code=problem.code)]
    produces = Label(shapes.output.span, plural(spec.output_width, "output"))
    return test, table_targets(test, spec, bound.span_of("path"), produces)
