"""Reading a `data "file.parquet"` statement's columns, without torch.

In: the `Data` settings, the file as written, its bytes (read bounded by
--max-data-bytes) or an open file, the network's input width (when columns are
chosen by width), whether the loss takes classes, the limits and the ids the
first layer takes. Out: a `Table` of float64 NumPy arrays, one value a column
a row, columns chosen as in a CSV file (by name with `inputs=`/`target=`, else
by width); a target column of text gives class labels, sorted, as in a CSV
file (or the labels given, for a piece of a larger set). Or a `DataProblem`
naming the file, the row (counted from 1 among the data rows) and the column.

pyarrow is imported here, when a Parquet file is read (the extra `parquet`).
The row count and the uncompressed size the file declares are held to
--max-examples and --max-data-bytes before any column is decoded.
"""

from __future__ import annotations

import math
from typing import Any, BinaryIO

from spec_lang import codes

from .csv_layout import DataProblem, quoted
from .data_file import choose_columns, reshaped
from .data_ids import Ids
from .data_table import Table
from .limits import Limits
from .settings import FLOAT32_HINT, Data
from .statement import FLOAT32_MAX

_HINT = "write the file with pyarrow or pandas (`df.to_parquet(\"train.parquet\")`)"


def pyarrow_modules() -> tuple[Any, Any]:
    """pyarrow and pyarrow.parquet, or a `DataProblem` saying how to install them."""
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise DataProblem("reading Parquet files needs pyarrow, which is not installed",
                          "install it with `pip install 'nqa[parquet]'`", "a Parquet file",
                          code=codes.MISSING_PACKAGE) from None
    return pyarrow, pyarrow.parquet


def refuse_csv_options(data: Data, written: str) -> None:
    for option in ("header", "delimiter"):
        if option in data.model_fields_set:
            raise DataProblem(f"`{option}=` is for CSV files, not for `{written}`", f"leave out `{option}=`",
                              "not a CSV option", option, code=codes.OPTION_FOR_FORMAT)


def open_parquet(written: str, source: bytes | BinaryIO) -> Any:
    """The file's `pyarrow.parquet.ParquetFile`, once its footer reads."""
    pa, pq = pyarrow_modules()
    if isinstance(source, bytes) and not (source.startswith(b"PAR1") and source.endswith(b"PAR1")):
        raise DataProblem(f"`{written}` is not a Parquet file", _HINT, "not a Parquet file",
                          code=codes.DATA_UNREADABLE)
    try:
        return pq.ParquetFile(pa.BufferReader(source) if isinstance(source, bytes) else source)
    except (pa.ArrowException, OSError, ValueError) as err:
        raise DataProblem(f"cannot read `{written}`: {str(err)[:120]}", _HINT, "not a Parquet file",
                          code=codes.DATA_UNREADABLE) from None


def parquet_names(written: str, source: bytes | BinaryIO) -> tuple[tuple[str, ...], int]:
    """The file's column names and its rows, from its footer alone."""
    file = open_parquet(written, source)
    return tuple(file.schema_arrow.names), file.metadata.num_rows


def parquet_table(data: Data, written: str, source: bytes | BinaryIO, input_width: int | None,
                  class_targets: bool, limits: Limits, ids: Ids | None = None, row_group: int | None = None,
                  classes: tuple[str, ...] | None = None, columns: tuple[list[int], list[int]] | None = None) -> Table:
    """The file's rows (or one row group's) as a `Table`; `classes` fixes the text labels' indices, and
    `columns` the input and target columns (by index), else chosen as a CSV file's."""
    refuse_csv_options(data, written)
    file = open_parquet(written, source)
    meta, names = file.metadata, tuple(file.schema_arrow.names)
    if data.shape is not None:
        input_width = math.prod(data.shape)
    _check_size(written, meta, limits, row_group)
    twice = next((n for i, n in enumerate(names) if n in names[:i]), None)
    if twice is not None:
        raise DataProblem(f"`{written}` has two columns named `{twice}`", "give each column its own name",
                          "two columns of one name", code=codes.COLUMN_TWICE)
    inputs, targets = columns or choose_columns(data, written, names, len(names), input_width)
    chosen = [names[i] for i in dict.fromkeys(inputs + targets)]
    groups = range(meta.num_row_groups) if row_group is None else [row_group]
    read = pyarrow_modules()[0].concat_tables([_row_group(written, file, i, chosen) for i in groups]) if groups else (
        file.schema_arrow.empty_table().select(chosen))
    first = sum(meta.row_group(i).num_rows for i in range(row_group)) if row_group is not None else 0
    if read.num_rows == 0:
        raise DataProblem(f"`{written}` has no rows", "give the file at least one row", "empty file",
                          code=codes.DATA_EMPTY)
    return arrow_rows(data, written, read, names, (inputs, targets), class_targets, first, ids, classes)


def arrow_rows(data: Data | None, written: str, read: Any, names: tuple[str, ...], columns: tuple[list[int], list[int]],
               class_targets: bool, first: int, ids: Ids | None = None,
               classes: tuple[str, ...] | None = None) -> Table:
    """The rows of pyarrow table `read` (row `first` of the file, from 0, is its first) as a `Table`
    (given `data`, shaped as it says)."""
    inputs, targets = columns
    xs = [_numbers(written, read, names[i], "input", first, ids) for i in inputs]
    labels: tuple[str, ...] = ()
    if len(targets) == 1 and _text(read.schema.field(names[targets[0]]).type):
        labels, ys = _labels(written, read, names[targets[0]], class_targets, first, classes)
    else:
        ys = _stacked([_numbers(written, read, names[i], "target", first) for i in targets], read.num_rows)
    table = Table(written, _stacked(xs, read.num_rows), ys, tuple(names[i] for i in inputs),
                  tuple(names[i] for i in targets), labels, input_shape=(len(inputs),),
                  target_shape=(len(targets),))
    return reshaped(data, data.shape, table) if data is not None and data.shape is not None else table


def _row_group(written: str, file: Any, index: int, columns: list[str]) -> Any:
    """One row group's columns; a broken one is named with the rows it holds."""
    try:
        return file.read_row_group(index, columns=columns)
    except (pyarrow_modules()[0].ArrowException, OSError, ValueError) as err:
        meta = file.metadata
        start = sum(meta.row_group(i).num_rows for i in range(index))
        rows = f"rows {start + 1:,} to {start + meta.row_group(index).num_rows:,}"
        raise DataProblem(f"cannot read `{written}` row group {index + 1} ({rows}): {str(err).strip()[:120]}",
                          _HINT, "a broken row group", code=codes.DATA_UNREADABLE) from None


def _check_size(written: str, meta: Any, limits: Limits, row_group: int | None) -> None:
    groups = range(meta.num_row_groups) if row_group is None else [row_group]
    if row_group is not None and not 0 <= row_group < meta.num_row_groups:
        raise ValueError(f"`{written}` has {meta.num_row_groups} row groups, not {row_group + 1}")
    rows = sum(meta.row_group(i).num_rows for i in groups)
    if rows > limits.max_examples:
        raise DataProblem(f"`{written}` has {rows:,} rows, more than the limit of {limits.max_examples:,}",
                          "use fewer rows, or raise the limit with --max-examples", "too many rows",
                          code=codes.TOO_MANY_EXAMPLES)
    size = sum(meta.row_group(i).total_byte_size for i in groups)
    if size > limits.max_data_bytes:
        raise DataProblem(f"`{written}` holds {size:,} bytes once uncompressed, over the limit of "
                          f"{limits.max_data_bytes:,}", "use a smaller file, or raise the limit with "
                          "--max-data-bytes", "too large", code=codes.FILE_TOO_LARGE)


def _text(kind: Any) -> bool:
    import pyarrow as pa

    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind))


def _numeric(kind: Any) -> bool:
    import pyarrow as pa

    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return bool(pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)
                or pa.types.is_decimal(kind))


def _where(written: str, row: int, name: str) -> tuple[str, str]:
    return f"`{written}` row {row + 1:,}, column {quoted(name)}", f"row {row + 1:,} of this file"


def _first(mask: Any) -> int | None:
    import numpy as np

    hits = np.flatnonzero(mask)
    return int(hits[0]) if len(hits) else None


def _nulls(written: str, column: Any, name: str, first: int, hint: str) -> None:
    if column.null_count:
        row = _first(column.is_null().to_numpy(zero_copy_only=False))
        assert row is not None  # a null was counted
        where, label = _where(written, first + row, name)
        raise DataProblem(f"{where} is empty (null)", hint, label, code=codes.BAD_DATA_VALUE)


def _numbers(written: str, read: Any, name: str, role: str, first: int, ids: Ids | None = None) -> Any:
    """A numeric column as float64, every value finite and within float32 (or an id the network takes)."""
    import numpy as np
    import pyarrow as pa

    column, kind = read.column(name), read.schema.field(name).type
    if not _numeric(kind):
        shown = f"text, not numbers (row 1 holds {quoted(str(column[0]))})" if _text(kind) else (
            f"values of type {kind}, not numbers")
        hint = ("every input must be a number" if role == "input" else
                "target cells must be numbers, or one column of text class labels with `loss cross_entropy`")
        raise DataProblem(f"column {quoted(name)} of `{written}` holds {shown}", hint, f"column {quoted(name)}",
                          code=codes.BAD_DATA_VALUE)
    _nulls(written, column, name, first, "fill in every cell")
    try:
        if pa.types.is_integer(kind):  # each rounded to the nearest float64, as Python's `float` (a CSV cell) rounds it
            values = np.asarray(column.to_numpy(), dtype=kind.to_pandas_dtype()).astype(np.float64)
        else:
            values = np.array(column.cast(pa.float64()).to_numpy(), dtype=np.float64)  # a copy: torch writes to it
    except (pa.ArrowException, ValueError) as err:
        raise DataProblem(f"column {quoted(name)} of `{written}` cannot be read as numbers: {str(err)[:120]}",
                          _HINT, f"column {quoted(name)}", code=codes.BAD_DATA_VALUE) from None
    if ids is not None:
        wrong = (values < 0) | ~np.isfinite(values) | (np.floor(values) != values)
        if ids.count is not None:
            wrong |= values >= ids.count
        row = _first(wrong)
        if row is not None:
            where, label = _where(written, first + row, name)
            raise DataProblem(f"{where}: {ids.problem(float(values[row]), f'{values[row]:g}')}", ids.hint, label,
                              code=codes.BAD_TOKEN_ID)
        return values
    row = _first(~np.isfinite(values))
    if row is not None:
        where, label = _where(written, first + row, name)
        raise DataProblem(f"{where}: {values[row]} is not a finite number", "every value must be a finite number",
                          label, code=codes.BAD_DATA_VALUE)
    row = _first(np.abs(values) > FLOAT32_MAX)
    if row is not None:
        where, label = _where(written, first + row, name)
        raise DataProblem(f"{where}: {values[row]:g} is too large for float32", FLOAT32_HINT, label,
                          code=codes.DATA_VALUE_TOO_LARGE)
    return values


def _labels(written: str, read: Any, name: str, class_targets: bool, first: int,
            classes: tuple[str, ...] | None) -> tuple[tuple[str, ...], Any]:
    """Text class labels (trimmed, as a CSV file's) -> (the labels, sorted or as given; each row's index)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    column = read.column(name)
    if not class_targets:
        raise DataProblem(f"column {quoted(name)} of `{written}` holds text labels such as {quoted(str(column[0]))}",
                          "train on classes with `loss cross_entropy`", "text labels", code=codes.TEXT_LABELS)
    _nulls(written, column, name, first, "give every row its class label")
    cells = pc.utf8_trim_whitespace(column.cast(pa.large_string()))
    empty = _first(pc.equal(cells, "").to_numpy(zero_copy_only=False))
    if empty is not None:
        where, label = _where(written, first + empty, name)
        raise DataProblem(f"{where} is empty", "give every row its class label", label, code=codes.BAD_DATA_VALUE)
    labels = classes if classes is not None else tuple(sorted(pc.unique(cells).to_pylist()))
    index = pc.index_in(cells, value_set=pa.array(labels, pa.large_string()))
    unknown = _first(index.is_null().to_numpy(zero_copy_only=False))
    if unknown is not None:
        where, label = _where(written, first + unknown, name)
        raise DataProblem(f"{where}: {quoted(str(cells[unknown]))} is not one of the classes "
                          + ", ".join(quoted(c, 20) for c in labels[:10]), "give every row one of the classes", label,
                          code=codes.TEXT_LABELS)
    return labels, np.array(index.cast(pa.float64()).to_numpy(), dtype=np.float64)


def parquet_row_groups(written: str, source: bytes | BinaryIO) -> tuple[int, ...]:
    """The rows of each row group of the file, from its footer: the pieces `parquet_table(row_group=)` reads."""
    meta = open_parquet(written, source).metadata
    return tuple(meta.row_group(i).num_rows for i in range(meta.num_row_groups))


def _stacked(columns: list[Any], rows: int) -> Any:
    """Columns -> one flat row-major float64 array (a row's values side by side)."""
    import numpy as np

    if not columns:
        return np.zeros(0)
    return np.ascontiguousarray(np.stack(columns, axis=1)).reshape(-1) if len(columns) > 1 else columns[0]
