"""A `data` statement's rows as one `Table`: one file as its reader reads it, or a glob's files gathered.

In: the `Data` settings, the spec's folder, whether the spec may read outside
it, the network's input width (when columns are chosen by width), whether the
loss takes classes, the limits and the ids the first layer takes — as
`data_file.load_table` takes them. Out: a single CSV or .npz file's `Table`
from `load_table`, exactly as before; a Parquet file's from `data_parquet`;
for a glob (`data_sources.source_of`), its files' rows in the order of their
paths, their columns the same in every file (a Parquet file's: all of them,
named alike and in order), their text labels the union of all the files',
sorted, and their rows held to --max-examples together. Or, when reading the
set whole would go over the memory budget, --max-data-bytes or --max-examples
(`data_stream.source_streams`), a `data_stream.StreamedTable` that
`stream_scan` checked piece by piece. Or a `DataProblem` naming the file.
"""

from __future__ import annotations

from array import array
from dataclasses import replace
from pathlib import Path
from typing import Any

from spec_lang import codes

from .csv_layout import DataProblem
from .data_file import load_table, read_file
from .data_ids import Ids
from .data_parquet import parquet_names, parquet_table
from .data_sources import Shard, Source, globbed, kind_of_path, read_shard, refuse_special, relabelled, source_of
from .data_stream import OverBudget, source_streams
from .data_table import Table
from .limits import Limits
from .settings import Data
from .stream_scan import scan_source


def load_data(data: Data, folder: Path, allow_outside: bool, input_width: int | None, class_targets: bool,
              limits: Limits, ids: Ids | None = None) -> Table:
    """A `data` statement's rows: `load_table`'s for one CSV or .npz file, else the source's files gathered."""
    if not globbed(data.path, folder) and kind_of_path(data.path) != ".parquet":
        return load_table(data, folder, allow_outside, input_width, class_targets, limits, ids)
    source = source_of(data, folder, allow_outside, limits)
    for shard in source.shards:
        refuse_special(shard)
    if source_streams(source, limits):
        return scan_source(data, source, input_width, class_targets, limits, ids)  # type: ignore[return-value]
    try:
        return _read_whole(data, source, folder, allow_outside, input_width, class_targets, limits, ids)
    except OverBudget:  # a file only the careful reader can read, and not within the budget: all streamed
        return scan_source(data, source, input_width, class_targets, limits, ids)  # type: ignore[return-value]


def _read_whole(data: Data, source: Source, folder: Path, allow_outside: bool, input_width: int | None,
                class_targets: bool, limits: Limits, ids: Ids | None) -> Table:
    tables: list[Table] = []
    names: tuple[str, ...] = ()
    rows = 0
    for shard in source.shards:
        if source.kind == ".parquet":  # read once: its columns, all of them, must be the first file's
            raw = read_file(shard.written, shard.path, limits, ".parquet")
            names = _same_names(source, shard, names, parquet_names(shard.written, raw)[0])
            table = parquet_table(data, shard.written, raw, input_width, class_targets, limits, ids)
        else:
            table = read_shard(data, source.kind, shard, folder, allow_outside, input_width, class_targets, limits,
                               ids)
        if tables:
            _same_columns(tables[0], source.shards[0], table, shard)
        rows += table.rows
        if rows > limits.max_examples:
            raise DataProblem(f"`{source.written}` has more rows than the limit of {limits.max_examples:,} "
                              f"(reading stopped at `{shard.written}`)",
                              "use fewer rows, or raise the limit with --max-examples", "too many rows",
                              code=codes.TOO_MANY_EXAMPLES)
        tables.append(table)
    return tables[0] if not source.glob else gathered(source, tables)


def _same_names(source: Source, shard: Shard, first: tuple[str, ...], names: tuple[str, ...]) -> tuple[str, ...]:
    """A Parquet shard's columns, all of them, against the first shard's."""
    if first and names != first:
        _columns_differ(source.shards[0].written, first, shard.written, names)
    return names or first


def _same_columns(first: Table, first_shard: Shard, table: Table, shard: Shard) -> None:
    """A shard's chosen columns (and their shape) against the first shard's."""
    if (first.input_names, first.target_names) != (table.input_names, table.target_names):
        _columns_differ(first_shard.written, first.input_names + first.target_names, shard.written,
                        table.input_names + table.target_names)
    if (first.input_shape, first.target_shape) != (table.input_shape, table.target_shape):
        raise DataProblem(f"`{shard.written}` gives rows of another shape than `{first_shard.written}`",
                          "give every file the same columns", "columns differ", code=codes.SHARD_COLUMNS)


def _columns_differ(first_written: str, first: tuple[str, ...], written: str, names: tuple[str, ...]) -> None:
    at = next((i for i, (a, b) in enumerate(zip(first, names, strict=False)) if a != b), min(len(first), len(names)))
    if at < len(first) and at < len(names):
        what = f"has column `{names[at]}` where `{first_written}` has `{first[at]}` (column {at + 1})"
    elif at < len(first):
        what = f"has no column `{first[at]}`, which `{first_written}` has (column {at + 1})"
    else:
        what = f"has a column `{names[at]}` that `{first_written}` does not have (column {at + 1})"
    raise DataProblem(f"`{written}` {what}", "give every file the same columns, in the same order",
                      "columns differ", code=codes.SHARD_COLUMNS)


def gathered(source: Source, tables: list[Table]) -> Table:
    """The files' tables as one: rows in order, text labels the union of all files' (sorted)."""
    first = tables[0]
    labelled = [table for table in tables if table.classes]
    if labelled and len(labelled) != len(tables):
        text = next(s for s, t in zip(source.shards, tables, strict=True) if t.classes)
        numbers = next(s for s, t in zip(source.shards, tables, strict=True) if not t.classes)
        raise DataProblem(f"the target column of `{text.written}` holds text labels, but that of "
                          f"`{numbers.written}` holds numbers",
                          "write every class as a text label, or every class as an index from 0, in every file",
                          "labels and numbers", code=codes.TEXT_LABELS)
    classes = tuple(sorted({label for table in tables for label in table.classes}))
    targets = [relabelled(table, classes) for table in tables] if classes else [t.targets for t in tables]
    warnings = tuple(dict.fromkeys(w for table in tables for w in table.warnings))
    return replace(first, path=source.written, inputs=_joined([t.inputs for t in tables]), targets=_joined(targets),
                   classes=classes, warnings=warnings)


def _joined(parts: list[Any]) -> Any:
    """Flat arrays end to end: `array('d')`s stay one (as one CSV file's), anything else becomes NumPy float64."""
    if all(isinstance(part, array) for part in parts):
        joined = array("d")
        for part in parts:
            joined.extend(part)
        return joined
    import numpy as np

    return np.concatenate([np.asarray(part, dtype=np.float64) for part in parts])
