"""Reading rows for a network already trained: `nqa predict`, `nqa evaluate` and the `test` statement.

In: the `Data` settings the spec's `data` statement gives (its `path` replaced by
the file to read, as written), the file's resolved path, what the training data
taught the network (`Trained`: its class labels, its target width, its input
shape) and whether targets must be there. Out: a `Table` read by the same code
as a `data` file (`data_file`, `data_npz`, `data_parquet`; one file, not a glob): its targets are empty when the file
has none and they are optional; text class labels are the training data's own
indices (a label the network never learnt is refused). Or a `DataProblem`
naming the file, its line and its column. No torch here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

from spec_lang import codes

from .csv_layout import DataProblem, check_layout, check_trailing_comma, quoted
from .data_file import choose_columns, read_file, read_rows, split_header, to_table
from .data_ids import Ids
from .data_npz import load_npz
from .data_parquet import parquet_names, parquet_table
from .data_table import Table
from .limits import Limits
from .messages import plural
from .settings import Data


@dataclass(frozen=True)
class Trained:
    """What the network learnt from its training data, that a new file must agree with."""

    input_shape: tuple[int, ...]
    class_targets: bool = False  # the loss takes class indices (`cross_entropy`)
    classes: tuple[str, ...] = ()  # the training data's text labels, by index; () when they were numbers
    target_width: int | None = None  # target values a row, when known

    @property
    def input_width(self) -> int:
        return math.prod(self.input_shape)


def load_rows(data: Data, path: Path, limits: Limits, trained: Trained, need_targets: bool,
              ids: Ids | None = None) -> Table:
    """The rows of `data.path` (read at `path`), checked against what the network was trained on."""
    kind = Path(data.path).suffix.lower()
    if kind == ".npz":
        table = load_npz(data, read_file(data.path, path, limits, kind), limits, ids, need_targets)
    elif kind == ".parquet":
        table = _parquet(data, path, limits, trained, need_targets, ids)
    else:
        table = _csv(data, path, limits, trained, need_targets, ids)
    _check_inputs(data, table, trained)
    if need_targets and not table.target_width:
        raise DataProblem(f"`{data.path}` has no target column, so the network's answers cannot be scored",
                          "add the target column the training data had" + _named(data.target), "no targets",
                          code=codes.NO_TARGETS)
    return _labelled(data.path, table, trained) if table.target_width else table


def _named(target: tuple[str, ...] | None) -> str:
    return f" ({', '.join(f'`{name}`' for name in target)})" if target else ""


def _csv(data: Data, path: Path, limits: Limits, trained: Trained, need_targets: bool, ids: Ids | None) -> Table:
    from .data_stream import refuse_over_budget  # it imports `data_file`, as this module does

    refuse_over_budget(data.path, path, limits, "the rows of `test`, `predict` and `evaluate`")
    rows = read_rows(data.path, path, limits, data.delimiter)
    check_layout(data, rows)
    header, body = split_header(data, rows)
    if not body:
        raise DataProblem(f"`{data.path}` has a header but no rows", "add rows of numbers under the header",
                          code=codes.DATA_EMPTY)
    check_trailing_comma(data.path, data.delimiter, header, body)
    count = len(header) if header is not None else len(body[0][1])
    if data.inputs or data.target:
        inputs, targets = _named_columns(data, header, count, need_targets)
    else:
        inputs, targets = _columns_by_width(data.path, count, trained, need_targets)
    table = to_table(data.path, body, header, inputs, targets, trained.class_targets, data.delimiter, ids)
    return replace(table, input_shape=data.shape, shaped=True) if data.shape is not None else table


def _parquet(data: Data, path: Path, limits: Limits, trained: Trained, need_targets: bool,
             ids: Ids | None) -> Table:
    """A Parquet file's columns, chosen as a CSV file's with a header (its schema's names)."""
    raw = read_file(data.path, path, limits, ".parquet")
    names, _ = parquet_names(data.path, raw)
    if data.inputs or data.target:
        columns = _named_columns(data, names, len(names), need_targets)
    else:
        columns = _columns_by_width(data.path, len(names), trained, need_targets)
    return parquet_table(data, data.path, raw, None, trained.class_targets, limits, ids, columns=columns)


def _named_columns(data: Data, header: tuple[str, ...] | None, count: int,
                   need_targets: bool) -> tuple[list[int], list[int]]:
    """The columns by the names the `data` statement gives; the target columns may be missing
    all together (not one of several), and with both named, no other column may be there."""
    present = set(header or ())
    target = data.target or ()
    missing = [name for name in target if name not in present]
    if header is not None and target and len(missing) == len(target) and not need_targets:
        if not data.inputs:  # every column is an input (the width is checked against the network's)
            return list(range(count)), []
        data = data.model_copy(update={"target": None})
        inputs, _ = choose_columns(data, data.path, header, count, None)
        _no_extra(data.path, header, inputs)
        return inputs, []
    if header is not None and missing and len(missing) < len(target):
        raise DataProblem(f"`{data.path}` has no column `{missing[0]}`, though it has the other target columns",
                          "give every target column, or none of them", f"no column `{missing[0]}`", "target",
                          code=codes.UNKNOWN_COLUMN)
    inputs, targets = choose_columns(data, data.path, header, count, None)
    if data.inputs and data.target:
        assert header is not None  # columns are named only with a header
        _no_extra(data.path, header, inputs + targets)
    return inputs, targets


def _no_extra(written: str, header: tuple[str, ...], used: list[int]) -> None:
    extra = [name for index, name in enumerate(header) if index not in set(used)]
    if extra:
        raise DataProblem(f"`{written}` has a column {quoted(extra[0])} that the network does not take",
                          "remove it: the file must hold the input columns, and the target columns if any",
                          f"column {quoted(extra[0])}", code=codes.DATA_WIDTH_MISMATCH)


def _columns_by_width(written: str, count: int, trained: Trained,
                      need_targets: bool) -> tuple[list[int], list[int]]:
    """Columns picked by the network's input width, then the targets (absent, or as many as in training)."""
    width = trained.input_width
    targets = trained.target_width if trained.target_width is not None else count - width
    if count < width or (count > width and count != width + targets) or (need_targets and count == width):
        more = f" and {plural(targets, 'target column')}" if targets else ""
        shown = f"{plural(width, 'input column')}{more}" if need_targets else (
            f"{plural(width, 'input column')} (then{more.removeprefix(' and')}, if any)" if more else
            plural(width, "input column"))
        raise DataProblem(f"`{written}` has {plural(count, 'column')}, but the network takes {shown}",
                          "give each row the input columns the network was trained on, in the same order",
                          plural(count, "column"), code=codes.DATA_WIDTH_MISMATCH)
    return list(range(width)), list(range(width, count))


def _check_inputs(data: Data, table: Table, trained: Trained) -> None:
    if table.input_width != trained.input_width:
        has = (f"{plural(table.input_width, 'input value')} a row" if data.path.lower().endswith(".npz")
               else plural(table.input_width, "input column"))
        raise DataProblem(f"`{data.path}` has {has}, but the network takes {trained.input_width}",
                          "give each row the inputs the network was trained on", "wrong width", "inputs",
                          code=codes.DATA_WIDTH_MISMATCH)
    if table.shaped and len(trained.input_shape) > 1 and table.input_shape != trained.input_shape:
        given = "x".join(map(str, table.input_shape))
        takes = "x".join(map(str, trained.input_shape))
        raise DataProblem(f"`{data.path}` gives inputs of shape {given}, but the network takes {takes}",
                          "give inputs of the shape the network was trained on", "wrong shape", "shape",
                          code=codes.DATA_SHAPE_MISMATCH)


def _labelled(written: str, table: Table, trained: Trained) -> Table:
    """Targets as the training data's class indices: a file's own text labels are put in their training order."""
    if not trained.class_targets:
        if trained.target_width is not None and table.target_width not in (trained.target_width, 1):
            raise DataProblem(f"`{written}` has {plural(table.target_width, 'target value')} a row, but the "
                              f"training data had {trained.target_width}", "give the targets of the training data",
                              "wrong targets", code=codes.TARGET_WIDTH_MISMATCH)
        return table
    if table.classes and not trained.classes:
        raise DataProblem(f"`{written}` holds text class labels such as {quoted(table.classes[0])}, but the "
                          "network was trained on class numbers", "write each class as its number from 0",
                          "text labels", code=codes.TEXT_LABELS)
    if not trained.classes:
        return table
    if not table.classes:
        raise DataProblem(f"`{written}` holds class numbers, but the network was trained on text labels: "
                          + ", ".join(quoted(c, 20) for c in trained.classes[:10]),
                          "write each class as its text label", "numbers, not labels", code=codes.TEXT_LABELS)
    index = {label: i for i, label in enumerate(trained.classes)}
    unknown = [label for label in table.classes if label not in index]
    if unknown:
        raise DataProblem(f"`{written}` holds the class {quoted(unknown[0])}, which the network was not trained on "
                          "(its classes are " + ", ".join(quoted(c, 20) for c in trained.classes[:10]) + ")",
                          "give only the classes of the training data", f"class {quoted(unknown[0])}",
                          code=codes.TEXT_LABELS)
    order = [float(index[label]) for label in table.classes]
    from array import array

    targets = array("d", (order[int(value)] for value in table.targets))
    return replace(table, targets=targets, classes=trained.classes)
