"""Parquet files streamed: their footers measured, their row groups cut into pieces, a piece read.

In: the files of a source (`data_sources.Shard`s), the `data` settings, the
network's input width and the memory budget. Out: `footer_sizes`, what whole
reading would hold (the bytes the footers declare once uncompressed, the rows,
the files' bytes); `parquet_pieces`, one file's `StreamedFile` and `Piece`s:
each row group whole when its share of the budget holds it, else in slices of
`step` rows (`pyarrow.parquet.ParquetFile.iter_batches`), so no piece holds
more than a piece's share however the file was written; and `parquet_piece`,
one piece's rows as a `Table` (`data_parquet.arrow_rows`), a problem named by
the file, the row (counted from 1 in the file) and the column, or a broken
row group by its number and rows. pyarrow is imported when a file is read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from spec_lang import codes

from .csv_layout import DataProblem
from .data_file import choose_columns
from .data_parquet import _HINT, arrow_rows, pyarrow_modules, refuse_csv_options
from .data_stream import PARQUET_READ_FACTOR, Piece, StreamedFile, StreamedTable, refuse_text_labels, stamp_of
from .data_table import Table
from .limits import human_bytes
from .settings import Data

VALUE_BYTES = 8  # a value decoded as float64: the least a row's value takes, whatever the footer says
READ_BUFFER = 1 << 16  # bytes pyarrow reads a column chunk in, rather than whole (one buffer a column)


def open_path(written: str, path: Any) -> Any:
    """The file's `ParquetFile`, its column chunks read in buffers, or a `DataProblem` naming it."""
    pa, pq = pyarrow_modules()
    try:
        return pq.ParquetFile(path, buffer_size=READ_BUFFER, pre_buffer=False)
    except (pa.ArrowException, OSError, ValueError) as err:
        raise DataProblem(f"cannot read `{written}`: {str(err).strip()[:120]}", _HINT, "not a Parquet file",
                          code=codes.DATA_UNREADABLE) from None


def footer_sizes(shards: Sequence[Any]) -> tuple[int, int, int]:
    """(uncompressed bytes, rows, file bytes) of the files; a footer that does not read counts its
    file's bytes eight times over, and the reading that follows names it."""
    unpacked = rows = size = 0
    for shard in shards:
        size += shard.size
        try:
            meta = open_path(shard.written, shard.path).metadata
        except DataProblem:
            unpacked += shard.size * 8
            continue
        rows += meta.num_rows
        unpacked += max(sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups)),
                        meta.num_rows * meta.num_columns * VALUE_BYTES)
    return unpacked, rows, size


def parquet_pieces(data: Data, shard: Any, index: int, input_width: int | None, first: StreamedFile | None,
                   budget: int) -> tuple[StreamedFile, list[Piece]]:
    """File `index` of the set: its columns (all of them named as the first file's) and its pieces,
    each holding at most a sixteenth of `budget` once read. A row group whose chosen column chunks
    (compressed and not) take more than a quarter of it is refused (E0337): pyarrow decodes a page
    whole, and a footer does not say how a chunk is cut into pages."""
    refuse_csv_options(data, shard.written)
    stamp = stamp_of(shard.path)  # before reading a byte of it
    file = open_path(shard.written, shard.path)
    names = tuple(file.schema_arrow.names)
    if first is None:
        twice = next((n for i, n in enumerate(names) if n in names[:i]), None)
        if twice is not None:
            raise DataProblem(f"`{shard.written}` has two columns named `{twice}`", "give each column its own name",
                              "two columns of one name", code=codes.COLUMN_TWICE)
        inputs, targets = choose_columns(data, shard.written, names, len(names), input_width)
        found = StreamedFile(shard.written, shard.path, names, tuple(inputs), tuple(targets), stamp)
    else:
        if names != first.header:
            from .data_gather import _columns_differ

            _columns_differ(first.written, first.header or (), shard.written, names)
        found = StreamedFile(shard.written, shard.path, names, first.inputs, first.targets, stamp)
    meta, pieces, done = file.metadata, [], 0
    chosen = sorted(set(found.inputs + found.targets))
    for group in range(meta.num_row_groups):
        stats = meta.row_group(group)
        rows = stats.num_rows
        _refuse_large(shard.written, stats, chosen, group, done, budget)
        row_bytes = max(stats.total_byte_size // max(1, rows), len(chosen) * VALUE_BYTES) * PARQUET_READ_FACTOR
        step = max(1, min(rows, budget // 16 // row_bytes))
        pieces += [Piece(start, min(rows, start + step), done + start, min(rows, start + step) - start, index, group,
                         step) for start in range(0, rows, step)]
        done += rows
    return found, pieces


def _refuse_large(written: str, stats: Any, chosen: list[int], group: int, done: int, budget: int) -> None:
    held = sum(stats.column(i).total_compressed_size + stats.column(i).total_uncompressed_size for i in chosen)
    if held > budget // 4:
        where = f"row group {group + 1} (rows {done + 1:,} to {done + stats.num_rows:,})"
        raise DataProblem(f"`{written}` {where} holds {human_bytes(held)} in the columns read, more than the "
                          f"quarter of the memory budget ({human_bytes(budget)}) that a piece of a streamed set "
                          "may take: a row group's pages are read whole",
                          "write the file in smaller row groups (`row_group_size=` in pyarrow), or raise "
                          "--memory-budget", f"{where} of this file", code=codes.STREAM_ROW_GROUP)


def parquet_piece(table: StreamedTable, file: StreamedFile, piece: Piece) -> Table:
    """A piece's rows: its row group's slice, converted as a whole file's rows are."""
    pa = pyarrow_modules()[0]
    names = file.header or ()
    chosen = [names[i] for i in dict.fromkeys(file.inputs + file.targets)]
    parquet = open_path(file.written, file.path)
    try:
        batches = parquet.iter_batches(batch_size=piece.step, row_groups=[piece.group], columns=chosen,
                                       use_threads=False)
        for _ in range(piece.start // piece.step):
            next(batches)
        read = pa.Table.from_batches([next(batches)])
    except (pa.ArrowException, OSError, ValueError, StopIteration) as err:
        before = piece.first_line - piece.start  # the file's rows before the row group
        rows = f"rows {before + 1:,} to {before + _rows(parquet, piece):,}"
        raise DataProblem(f"cannot read `{file.written}` row group {piece.group + 1} ({rows}): "
                          f"{str(err).strip()[:120] or 'it ends early'}", _HINT, "a broken row group",
                          code=codes.DATA_UNREADABLE) from None
    found = arrow_rows(None, file.written, read, names, (list(file.inputs), list(file.targets)),
                       table.class_targets, piece.first_line, table.ids)
    if found.classes:
        refuse_text_labels(file.written, found.classes[0])
    return replace(found, input_shape=table.input_shape, shaped=True) if table.shaped else found


def _rows(parquet: Any, piece: Piece) -> int:
    return int(parquet.metadata.row_group(piece.group).num_rows)
