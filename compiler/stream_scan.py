"""A streamed set checked: every cell of every file, piece by piece, keeping none of its rows.

In: a `data` statement's settings, its `data_sources.Source` (one CSV or
Parquet file, or a glob's files), the network's input width, whether the loss
takes classes, the `Limits` and the ids the first layer takes. Out:
`scan_source`, a `data_stream.StreamedTable`: the files (each one's columns
chosen as whole reading chooses them, and refused, naming the file and the
column, when they differ from the first file's), the pieces (a CSV file's
byte ranges of at most `piece_bytes(budget)` bytes ending at a line end; a
Parquet file's row groups, or slices of them), the rows, and what `check`
asks of the targets (the first row's; each distinct value with the row it
first appears in, counted across the files, or the extremes when there are
many). Each piece is read as training reads it (`stream_read`), so a problem
anywhere is found here, named by its file and line (or row).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from spec_lang import codes

from .csv_fast import HEAD_LINES
from .csv_layout import DataProblem, DataWarning, header_warnings
from .data_file import csv_columns, csv_rows, reshaped
from .data_ids import Ids
from .data_stream import Piece, StreamedFile, StreamedTable, piece_bytes, stamp_of
from .data_table import Table
from .limits import Limits
from .settings import Data
from .stream_read import after_line, chunks, csv_piece, first_values, read_piece, system_pool

DISTINCT_KEPT = 1024  # distinct target values remembered (with their first row) to check them against the loss


def scan_source(data: Data, source: Any, input_width: int | None, class_targets: bool, limits: Limits,
                ids: Ids | None = None) -> StreamedTable:
    """The source's files checked in pieces (every cell, as whole reading checks them)."""
    system_pool()
    size = piece_bytes(limits.memory_budget)
    if data.shape is not None:
        input_width = math.prod(data.shape)
    table = StreamedTable(source.written, source.kind, data.delimiter, (), (), (), (), size, (), (), None,
                          class_targets=class_targets, ids=ids)
    pieces: list[Piece] = []
    warnings: dict[DataWarning, None] = {}
    seen: dict[float, int] = {}
    extremes: dict[str, tuple[float, int]] = {}
    done = 0  # rows before the piece, in every file
    for index, shard in enumerate(source.shards):
        first = table.files[0] if table.files else None
        if source.kind == ".parquet":
            from .stream_parquet import parquet_pieces

            file, planned = parquet_pieces(data, shard, index, input_width, first, limits.memory_budget)
            table = _with_file(data, table, file)
            parts: Iterator[tuple[Piece, Table]] = ((piece, read_piece(table, piece)) for piece in planned)
        else:
            file, parts, found = _csv_file(data, shard, index, input_width, first, table, size)
            table = _with_file(data, table, file)
            warnings.update(dict.fromkeys(found))
        held = 0
        for piece, read in parts:
            if not read.rows:
                continue
            if not pieces:
                table = replace(table, first_targets=first_values(read.targets, read.target_width))
            _note_targets(read.targets, table.target_width, done, seen, extremes)
            pieces.append(replace(piece, rows=read.rows))
            held += read.rows
            done += read.rows
        if not held:
            raise DataProblem(f"`{shard.written}` has no rows", "give every file at least one row", "empty file",
                              code=codes.DATA_EMPTY)
    return replace(table, pieces=tuple(pieces), warnings=tuple(warnings),
                   target_rows=tuple(sorted(seen.items(), key=lambda kv: kv[1])) if not extremes else
                   tuple(sorted(extremes.values(), key=lambda kv: kv[1])),
                   distinct=frozenset(seen) if not extremes else None)


def _with_file(data: Data, table: StreamedTable, file: StreamedFile) -> StreamedTable:
    """The table with one more file; the first file's columns name the set's."""
    if table.files:
        return replace(table, files=(*table.files, file))
    names = file.header or tuple(f"column {i + 1}" for i in range(max(file.inputs + file.targets) + 1))
    sample = Table(file.written, (), (), tuple(names[i] for i in file.inputs), tuple(names[i] for i in file.targets),
                   input_shape=(len(file.inputs),), target_shape=(len(file.targets),))
    if data.shape is not None:
        sample = reshaped(data.model_copy(update={"path": file.written}), data.shape, sample)
    return replace(table, files=(file,), input_names=sample.input_names, target_names=sample.target_names,
                   input_shape=sample.input_shape, target_shape=sample.target_shape, shaped=sample.shaped)


def _csv_file(data: Data, shard: Any, index: int, input_width: int | None, first: StreamedFile | None,
              table: StreamedTable, size: int) -> tuple[StreamedFile, Iterator[tuple[Piece, Table]],
                                                        list[DataWarning]]:
    """A CSV file's columns, from its first lines read cell by cell, and its pieces, each read as training reads it."""
    written = shard.written
    data = data.model_copy(update={"path": written}) if written != data.path else data
    stamp = stamp_of(shard.path)  # before reading a byte of it
    parts = chunks(written, shard.path, size)
    opening = next(parts, None)
    if opening is None:
        csv_rows(written, b"", None, data.delimiter)  # says the file is empty
        raise AssertionError("an empty file is refused")
    start, end, _, raw = opening
    rows = csv_rows(written, raw[:after_line(raw, HEAD_LINES)], None, data.delimiter)
    header, inputs, targets = csv_columns(data, written, rows, input_width)
    file = StreamedFile(written, shard.path, header, tuple(inputs), tuple(targets), stamp)
    if first is not None:
        _same_columns(first, file)
    body = after_line(raw, rows[0][0]) if header is not None else 0
    line = rows[0][0] + 1 if header is not None else 1
    opened = table if table.files else _with_file(data, table, file)

    def pieces() -> Iterator[tuple[Piece, Table]]:
        yield (Piece(start + body, end, line, 0, index),
               csv_piece(opened, file, raw[body:], line) if body < len(raw) else Table(written, (), (), (), ()))
        for at, stop, number, text in parts:
            yield Piece(at, stop, number, 0, index), csv_piece(opened, file, text, number)

    return file, pieces(), header_warnings(data, header, rows[0])


def _same_columns(first: StreamedFile, file: StreamedFile) -> None:
    """A file's chosen columns, by name, against the first file's."""
    def named(found: StreamedFile) -> tuple[str, ...]:
        names = found.header or tuple(f"column {i + 1}" for i in range(max(found.inputs + found.targets) + 1))
        return tuple(names[i] for i in found.inputs + found.targets)

    if named(first) != named(file) or (first.header is None) != (file.header is None):
        from .data_gather import _columns_differ

        _columns_differ(first.written, first.header or named(first), file.written, file.header or named(file))


def _note_targets(values: Any, width: int, done: int, seen: dict[float, int],
                  extremes: dict[str, tuple[float, int]]) -> None:
    """Remember each distinct target value with its first row (`done` rows come before these); past
    DISTINCT_KEPT, the smallest, the largest and the first that is not whole (what a loss refuses)."""
    import numpy as np

    flat = np.asarray(values, dtype=np.float64)
    if not extremes:
        found, first = np.unique(flat, return_index=True)
        for value, at in zip(found.tolist(), first.tolist(), strict=True):
            if value not in seen:
                seen[value] = done + at // width
        if len(seen) <= DISTINCT_KEPT:
            return
        for value, row in seen.items():
            _extreme(extremes, value, row)
        seen.clear()
        return
    low, high = int(flat.argmin()), int(flat.argmax())
    _extreme(extremes, float(flat[low]), done + low // width)
    _extreme(extremes, float(flat[high]), done + high // width)
    parts = np.flatnonzero(flat != np.floor(flat))
    if len(parts):
        _extreme(extremes, float(flat[parts[0]]), done + int(parts[0]) // width)


def _extreme(extremes: dict[str, tuple[float, int]], value: float, row: int) -> None:
    for name, better in (("low", value < extremes.get("low", (math.inf, 0))[0]),
                         ("high", value > extremes.get("high", (-math.inf, 0))[0]),
                         ("part", value != int(value) and row < extremes.get("part", (0.0, math.inf))[1])):
        if better:
            extremes[name] = (value, row)
