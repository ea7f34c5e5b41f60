"""Reading a `data "file.csv"` (or `"file.npz"`) statement's rows, without torch.

In: the `Data` settings, the folder the spec is in, whether the spec may read
outside that folder, the network's input width (when columns are chosen by
width), the ids its first layer takes (if it takes ids) and the limits. Out: a
`Table` — inputs and targets as flat row-major arrays with the shape of one
example's inputs and targets, the column names, and the class labels when the
target column holds text — and the warnings about it (`csv_layout.DataWarning`),
or a `DataProblem` that `check` places at the `data` statement, naming the
file's line and column that is wrong. An .npz file is read by `data_npz`.
"""

from __future__ import annotations

import csv
import io
import math
from array import array
from dataclasses import replace
from pathlib import Path

from spec_lang import codes
from spec_lang.files import FOLDER, LOOP, MISSING, SPECIAL, TOO_LARGE, ReadProblem, read_bounded, resolved

from .csv_fast import Layout, head_end, joined
from .csv_layout import (
    DECIMAL_COMMA,
    NOT_LABELS,
    SAMPLE,
    DataProblem,
    DataWarning,
    Row,
    check_header_guess,
    check_layout,
    check_trailing_comma,
    delimiter_word,
    header_warnings,
    number,
    quoted,
    repeated,
)
from .data_ids import Ids
from .data_npz import load_npz
from .data_table import Table
from .limits import Limits
from .messages import plural
from .settings import FLOAT32_HINT, Data
from .statement import fits_float32
from .suggest import did_you_mean

__all__ = ["DataProblem", "DataWarning", "Table", "csv_table", "load_table", "read_rows", "resolve"]


def resolve(written: str, folder: Path, allow_outside: bool) -> Path:
    path = resolved(folder / written)  # a link that loops stays as it is, for `read_rows` to refuse
    if not allow_outside and not path.is_relative_to(resolved(folder)):
        raise DataProblem(f"`{written}` is outside the spec's folder",
                          "keep data files next to the spec, or pass --allow-outside-data if you trust it",
                          "outside the spec's folder", code=codes.DATA_OUTSIDE)
    return path


_READ_HINTS = {  # a `ReadProblem` kind -> hint, label, code
    MISSING: ("paths are relative to the spec's folder", "no such file", codes.DATA_NOT_FOUND),
    FOLDER: ("name a {kind} file", "in this file", codes.DATA_UNREADABLE),
    SPECIAL: ("name a regular {kind} file", "not a regular file", codes.DATA_UNREADABLE),
    LOOP: ("point the link at a {kind} file", "a link that loops", codes.DATA_UNREADABLE),
    TOO_LARGE: ("use a smaller file, or raise the limit with --max-data-bytes", "in this file", codes.FILE_TOO_LARGE),
}


def read_file(written: str, path: Path, limits: Limits, kind: str = ".csv") -> bytes:
    """The file's bytes, read bounded by --max-data-bytes; `kind` is the file's kind, `.csv` or `.npz`."""
    try:
        return read_bounded(path, limits.max_data_bytes, "CSV file" if kind == ".csv" else f"{kind} file",
                            shown=written)
    except ReadProblem as problem:
        hint, label, code = _READ_HINTS.get(problem.kind, ("check the file", "in this file", codes.DATA_UNREADABLE))
        raise DataProblem(problem.message, hint.format(kind=kind), label, code=code) from None


def read_rows(written: str, path: Path, limits: Limits, delimiter: str = ",") -> list[Row]:
    """The file's rows that hold something, read bounded by --max-data-bytes, and
    refused as soon as they are well over --max-examples (a header and one more
    row are let through, for `check_table` to count the rows exactly)."""
    return csv_rows(written, read_file(written, path, limits), limits.max_examples, delimiter)


def csv_rows(written: str, raw: bytes, max_rows: int | None, delimiter: str = ",", first_line: int = 1) -> list[Row]:
    """The rows of CSV text `raw` that hold something, each with its line number in the file, `raw`
    starting at line `first_line` (a piece of a streamed file starts further on); refused past
    `max_rows` and one more (None: no bound, as for a piece of bounded bytes)."""
    rows: list[Row] = []
    before = first_line - 1
    try:
        reader = csv.reader(io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8-sig" if first_line == 1 else "utf-8",
                                             newline=""), delimiter=delimiter)
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if max_rows is not None and len(rows) > max_rows + 1:  # a header, the limit's rows and one more
                raise DataProblem(f"`{written}` has more rows than the limit of {max_rows:,} "
                                  f"(reading stopped at line {reader.line_num:,})",
                                  "use fewer rows, or raise the limit with --max-examples", "too many rows",
                                  code=codes.TOO_MANY_EXAMPLES)
            rows.append((before + reader.line_num, row))
    except UnicodeDecodeError:
        raise DataProblem(f"`{written}` is not UTF-8 text", "save the file as UTF-8 CSV",
                          code=codes.DATA_UNREADABLE) from None
    except csv.Error as err:
        raise DataProblem(f"cannot read `{written}`: {err}", "check the file", code=codes.DATA_UNREADABLE) from None
    if not rows and first_line == 1:
        raise DataProblem(f"`{written}` is empty", "a CSV file needs at least one row of numbers", "empty file",
                          code=codes.DATA_EMPTY)
    return rows


def split_header(data: Data, rows: list[Row]) -> tuple[tuple[str, ...] | None, list[Row]]:
    first = [cell.strip() for cell in rows[0][1]]
    has_header = data.header == "yes" or (data.header == "auto" and all(number(c) is None for c in first))
    return (tuple(first), rows[1:]) if has_header else (None, rows)


def choose_columns(data: Data, written: str, header: tuple[str, ...] | None, count: int,
                   input_width: int | None) -> tuple[list[int], list[int]]:
    """Which columns are inputs and which are targets: by name, or by the network's width."""
    if data.inputs or data.target:
        if header is None:
            raise DataProblem(f"`{written}` has no header row, so its columns have no names",
                              "add a header row, or leave out `inputs=` and `target=` to pick columns by width",
                              code=codes.CSV_HEADER)
        where = {name: i for i, name in reversed(list(enumerate(header)))}  # the first column of a name
        named = [_index(name, where, header, written, "inputs") for name in (data.inputs or ())]
        target = [_index(name, where, header, written, "target") for name in (data.target or ())]
        _distinct(data, header, written)
        taken = set(named) | set(target)
        rest = [i for i in range(count) if i not in taken]
        return (named or rest), (target or rest)
    if input_width is None:
        raise DataProblem(f"cannot tell which columns of `{written}` are inputs",
                          "state the input width (`input 2` or `linear 2->3`), or name the columns with `inputs=`",
                          code=codes.COLUMNS_UNKNOWN)
    if count <= input_width:
        raise DataProblem(f"`{written}` has {plural(count, 'column')}, but the network takes "
                          f"{plural(input_width, 'input')} and needs a target column after them",
                          f"give each row {plural(input_width, 'input')} and then the target",
                          code=codes.DATA_WIDTH_MISMATCH)
    return list(range(input_width)), list(range(input_width, count))


def _distinct(data: Data, header: tuple[str, ...], written: str) -> None:
    """No column named twice, nor as both an input and a target."""
    for field, names in (("inputs", data.inputs or ()), ("target", data.target or ())):
        twice = sorted(set(repeated(names)))
        if twice:
            raise DataProblem(f"column `{twice[0]}` is named twice in `{field}=`", "name each column once",
                              "named twice", field, code=codes.COLUMN_TWICE)
    inputs = set(data.inputs or ())
    both = [n for n in (data.target or ()) if n in inputs]
    if both:
        raise DataProblem(f"column `{both[0]}` of `{written}` is named both as an input and as the target",
                          "a column is either an input or a target", "both", "target", code=codes.COLUMN_TWICE)


def _index(name: str, where: dict[str, int], header: tuple[str, ...], written: str, field: str) -> int:
    if name in where:
        return where[name]
    near = did_you_mean(name, header) if len(header) <= 10_000 else None  # difflib's time grows with the header
    hint = near or "the columns are " + ", ".join(quoted(h, 20) for h in header[:20])
    raise DataProblem(f"`{written}` has no column `{name}`", hint, f"no column `{name}`", field,
                      code=codes.UNKNOWN_COLUMN)


def to_table(written: str, rows: list[Row], header: tuple[str, ...] | None, inputs: list[int],
             targets: list[int], class_targets: bool, delimiter: str = ",", ids: Ids | None = None) -> Table:
    count = len(header) if header is not None else len(rows[0][1])
    names = header or tuple(f"column {i + 1}" for i in range(count))
    if header is None and rows and all(number(cell) is None and cell.strip().lstrip("+-").lower() not in NOT_LABELS
                                       for cell in rows[0][1]):
        line = rows[0][0]
        raise DataProblem(f"`{written}` line {line} holds names, not numbers: "
                          + ", ".join(quoted(cell, 20) for cell in rows[0][1][:6]),
                          "it looks like a header row: remove `header=no`, or write `header=yes`",
                          f"line {line} of this file", code=codes.CSV_HEADER)
    labels = _labels(written, rows, names, header, targets, class_targets)
    xs, ys = array("d"), array("d")
    for line, row in rows:
        if len(row) != count:
            _ragged(written, line, row, count, header, delimiter)
        xs.extend(_cell(written, line, row, i, names, header, "input", ids) for i in inputs)
        ys.extend(labels[row[i].strip()] if labels else _cell(written, line, row, i, names, header, "target")
                  for i in targets)
    return Table(written, xs, ys, tuple(names[i] for i in inputs), tuple(names[i] for i in targets),
                 tuple(labels) if labels else (), input_shape=(len(inputs),), target_shape=(len(targets),))


def _ragged(written: str, line: int, row: list[str], count: int, header: tuple[str, ...] | None,
            delimiter: str) -> None:
    (mark, word), label = delimiter_word(delimiter), f"line {line} of this file"
    if len(row) == count + 1 and not row[-1].strip():
        raise DataProblem(f"`{written}` line {line} ends with {mark}: it has an empty column {count + 1}, "
                          f"but the file has {count} columns", f"remove the {word} at the end of line {line}", label,
                          code=codes.CSV_LAYOUT)
    if header is not None and not header[-1] and len(row) == count - 1:
        raise DataProblem(f"the header of `{written}` ends with {mark}: it names an empty column {count}, "
                          f"which line {line} does not have", f"remove the {word} at the end of the header line", label,
                          code=codes.CSV_LAYOUT)
    raise DataProblem(f"`{written}` line {line} has {len(row)} column{'s' * (len(row) != 1)}, "
                      f"but the file has {count}", "give every row the same number of columns", label,
                      code=codes.CSV_LAYOUT)


def _column(names: tuple[str, ...], header: tuple[str, ...] | None, index: int) -> str:
    return f"column {quoted(names[index])}" if header else f"column {index + 1}"


def _labels(written: str, rows: list[Row], names: tuple[str, ...], header: tuple[str, ...] | None,
            targets: list[int], class_targets: bool) -> dict[str, int]:
    """Text class labels -> indices (sorted), when the single target column holds text and
    no numbers. A column of numbers with a word in it is a column of numbers: the word is
    reported as a cell that is not one (for a class loss, as a column mixing both)."""
    if len(targets) != 1:
        return {}
    column = targets[0]
    cells = [(line, row[column].strip()) for line, row in rows if column < len(row)]
    numeric, text = [], []
    for line, cell in cells:
        if number(cell) is not None or cell.lstrip("+-").lower() in NOT_LABELS:
            numeric.append((line, cell))
        elif cell:
            text.append((line, cell))
    if not text or (numeric and not class_targets):
        return {}
    where = f"{_column(names, header, column)} of `{written}`"
    if numeric:
        (text_line, label), (number_line, value) = text[0], numeric[0]
        raise DataProblem(f"{where} mixes text labels and numbers: line {text_line} holds {quoted(label)}, "
                          f"line {number_line} holds {quoted(value)}",
                          "write every class as a text label, or every class as an index from 0",
                          "labels and numbers", code=codes.TEXT_LABELS)
    if not class_targets:
        raise DataProblem(f"{where} holds text labels such as {quoted(text[0][1])}",
                          "train on classes with `loss cross_entropy`", "text labels", code=codes.TEXT_LABELS)
    empty = next((line for line, cell in cells if not cell), None)
    if empty is not None:
        raise DataProblem(f"`{written}` line {empty}, {_column(names, header, column)} is empty",
                          "give every row its class label", f"line {empty} of this file", code=codes.BAD_DATA_VALUE)
    return {label: index for index, label in enumerate(sorted({cell for _, cell in cells}))}


def _cell(written: str, line: int, row: list[str], index: int, names: tuple[str, ...],
          header: tuple[str, ...] | None, role: str, ids: Ids | None = None) -> float:
    cell = row[index]
    value = number(cell)
    trouble = ids is not None and value is not None and ids.problem(value, cell) is not None
    if value is not None and fits_float32(value) and not trouble:
        return value
    where, label = f"`{written}` line {line}, {_column(names, header, index)}", f"line {line} of this file"
    if trouble:  # worded only now: most cells are fine, and `quoted` costs
        raise DataProblem(f"{where}: {ids.problem(value, quoted(cell))}", ids.hint, label,  # type: ignore[union-attr, arg-type]  # both set
                          code=codes.BAD_TOKEN_ID)
    if value is not None:
        raise DataProblem(f"{where}: {quoted(cell)} is too large for float32", FLOAT32_HINT, label,
                          code=codes.DATA_VALUE_TOO_LARGE)
    if not cell.strip():
        raise DataProblem(f"{where} is empty", "fill in every cell", label, code=codes.BAD_DATA_VALUE)
    if DECIMAL_COMMA.fullmatch(cell):
        raise DataProblem(f"{where}: {quoted(cell)} is written with a decimal comma",
                          f"write the decimal point as `.`, e.g. `{cell.strip().replace(',', '.')}`", label,
                          code=codes.BAD_DATA_VALUE)
    hint = ("every input cell must be a finite number" if role == "input" else
            "target cells must be finite numbers, or text class labels with `loss cross_entropy`")
    raise DataProblem(f"{where}: {quoted(cell)} is not a finite number", hint, label, code=codes.BAD_DATA_VALUE)


def load_table(data: Data, folder: Path, allow_outside: bool, input_width: int | None,
               class_targets: bool, limits: Limits, ids: Ids | None = None, stream: bool = True) -> Table:
    path = resolve(data.path, folder, allow_outside)
    kind = Path(data.path).suffix.lower()
    if kind == ".npy":
        raise DataProblem(f"`{data.path}` holds a single array, so it has no targets",
                          'save the inputs and the targets together: `np.savez("data.npz", x=inputs, y=targets)`',
                          "a single array", code=codes.NO_TARGETS)
    if kind == ".npz":
        return load_npz(data, read_file(data.path, path, limits, kind), limits, ids)
    from .data_stream import OverBudget, streams  # it reads pieces with this module's functions

    if not streams(path, limits):
        try:
            return csv_table(data, data.path, read_file(data.path, path, limits), input_width, class_targets,
                             limits, ids)
        except OverBudget:  # only the careful reader can read it, and not within the budget: streamed
            if not stream:  # a glob's file: the glob's files are streamed together (`data_gather`)
                raise
    from .data_sources import Shard, Source
    from .stream_scan import scan_source

    one = Source(data.path, ".csv", (Shard(data.path, path, path.stat().st_size),), glob=False)
    return scan_source(data, one, input_width, class_targets, limits, ids)  # type: ignore[return-value]  # lazily


def csv_table(data: Data, written: str, raw: bytes, input_width: int | None, class_targets: bool, limits: Limits,
              ids: Ids | None = None) -> Table:
    """The table a CSV file's bytes hold (`written`: the file as the message names it), or the
    `DataProblem` with it. Read by the fast reader (`csv_fast`) when it is sure to give the same
    values, else cell by cell, which finds and words every problem."""
    if written != data.path:
        data = data.model_copy(update={"path": written})
    if data.shape is not None:
        input_width = math.prod(data.shape)
    cut = head_end(raw, data.delimiter)
    if cut is not None:
        try:
            head, layout = _careful_table(data, written, raw[:cut], input_width, class_targets, limits, ids)
        except DataProblem:
            head = None  # the whole file, read cell by cell, says which problem comes first
        if head is not None and layout.rows > SAMPLE:  # the layout checks saw as many rows as they look at
            table = joined(head, layout, raw, cut, data.delimiter, limits, ids)
            if table is not None:
                return table
    from .data_stream import refuse_careful_over_budget  # it imports this module

    refuse_careful_over_budget(written, len(raw), limits)
    return _careful_table(data, written, raw, input_width, class_targets, limits, ids)[0]


def _careful_table(data: Data, written: str, raw: bytes, input_width: int | None, class_targets: bool,
                   limits: Limits, ids: Ids | None) -> tuple[Table, Layout]:
    """The table read cell by cell, and which columns it took."""
    rows = csv_rows(written, raw, limits.max_examples, data.delimiter)
    header, inputs, targets = csv_columns(data, written, rows, input_width)
    body = rows[1:] if header is not None else rows
    count = len(header) if header is not None else len(body[0][1])
    table = to_table(written, body, header, inputs, targets, class_targets, data.delimiter, ids)
    if data.shape is not None:
        table = reshaped(data, data.shape, table)
    table = replace(table, warnings=tuple(header_warnings(data, header, rows[0])))
    return table, Layout(count, inputs, targets, len(rows))


def csv_columns(data: Data, written: str, rows: list[Row],
                input_width: int | None) -> tuple[tuple[str, ...] | None, list[int], list[int]]:
    """The header (None: the file has none) and which columns are inputs and targets, from a CSV
    file's first rows; its layout checked (a delimiter that looks wrong, a header that looks like one)."""
    check_layout(data, rows)
    header, body = split_header(data, rows)
    if not body:
        raise DataProblem(f"`{written}` has a header but no rows", "add rows of numbers under the header",
                          code=codes.DATA_EMPTY)
    if header is None:
        check_header_guess(data, rows)
    check_trailing_comma(written, data.delimiter, header, body)
    count = len(header) if header is not None else len(body[0][1])
    inputs, targets = choose_columns(data, written, header, count, input_width)
    return header, inputs, targets


def reshaped(data: Data, shape: tuple[int, ...], table: Table) -> Table:
    """A CSV row's input cells, row-major, as one example of `shape`: as many cells as it holds values."""
    if math.prod(shape) != table.input_width:
        raise DataProblem(f"`shape={'x'.join(map(str, shape))}` holds {plural(math.prod(shape), 'value')}, but "
                          f"`{data.path}` has {plural(table.input_width, 'input column')}",
                          "give a shape of as many values as there are input columns, or name the input columns "
                          "with `inputs=`", "wrong count", "shape", code=codes.DATA_SHAPE_MISMATCH)
    return replace(table, input_shape=shape, shaped=True)
