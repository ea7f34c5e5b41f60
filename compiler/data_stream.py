"""Data sets too large to read whole: whether to stream one, and the checked set read a piece at a time.

In: a `data` statement's source (`data_sources.Source`: one CSV or Parquet file,
or the CSV or Parquet files of a glob) and the `Limits` (`memory_budget`,
`max_data_bytes`, `max_examples`). Out: `streams(path, limits)` for one CSV
file and `source_streams(source, limits)` for any source: whether reading it
whole would hold more than the budget (a CSV file: `WHOLE_READ_FACTOR` bytes
per byte of the files; Parquet: `PARQUET_READ_FACTOR` bytes per byte its
footers declare once uncompressed), or it is over --max-data-bytes or
--max-examples (a streamed set is bounded by the budget alone). And
`StreamedTable`, what `check` made of a streamed set (`stream_scan.scan_source`
checks every cell of it, piece by piece): the columns a `Table` has, no rows —
its files, its `Piece`s (each naming its file: a byte range of a CSV file,
ending at a line end, or rows of one Parquet row group), and what `check` asks
of the targets. `StreamedTable.read(piece)` gives one piece's rows as a
`Table` (`stream_read`). No torch here.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from spec_lang import codes

from .csv_layout import DataProblem, DataWarning
from .data_ids import Ids
from .data_table import Table, Widths
from .limits import Limits, human_bytes

WHOLE_READ_FACTOR = 8  # bytes reading a CSV file whole holds at its peak, per byte of the file (rows as text)
CAREFUL_READ_FACTOR = 56  # the same for the careful reader (cell by cell: a Python string and list per cell);
# measured with tracemalloc over `data_file._careful_table`, plus the file's bytes: 24 for cells like `0.5436`,
# 19 for them quoted, 54 for one-digit cells `1,2,3` (the most cells a byte can hold), 6 for one line of cells
PARQUET_READ_FACTOR = 5  # bytes reading Parquet whole holds at its peak, per byte uncompressed (measured: 4.2)
PIECE_SHARE = 80  # a piece is at most budget / 80 bytes: parsing it holds about 20x that, a quarter of the budget
LONGEST_PIECE = 8  # a piece may grow to this many times its size to end at a line end; past that, refused


def streams(path: Path, limits: Limits) -> bool:
    """Whether the CSV file at `path` is streamed rather than read whole (a missing or special
    file is not: reading it whole refuses it)."""
    try:
        found = path.stat()
    except OSError:
        return False
    size = found.st_size
    return stat.S_ISREG(found.st_mode) and (size > limits.max_data_bytes
                                            or size * WHOLE_READ_FACTOR > limits.memory_budget)


def source_streams(source: object, limits: Limits) -> bool:
    """Whether a source's files (`data_sources.Source`) are streamed rather than read whole."""
    shards: tuple[Any, ...] = source.shards  # type: ignore[attr-defined]
    if source.kind == ".csv":  # type: ignore[attr-defined]
        size: int = sum(shard.size for shard in shards)
        return size > limits.max_data_bytes or size * WHOLE_READ_FACTOR > limits.memory_budget
    if source.kind != ".parquet":  # type: ignore[attr-defined]
        return False
    from .stream_parquet import footer_sizes

    unpacked, rows, size = footer_sizes(shards)
    return (unpacked * PARQUET_READ_FACTOR > limits.memory_budget or max(unpacked, size) > limits.max_data_bytes
            or rows > limits.max_examples)


def refuse_over_budget(written: str, path: Path, limits: Limits, what: str) -> None:
    """A CSV file always read whole (`what` says which) that reading whole would hold more of than the
    budget is refused; one over --max-data-bytes is refused by the bounded read itself."""
    try:
        size = path.stat().st_size
    except OSError:
        return
    if size <= limits.max_data_bytes and size * CAREFUL_READ_FACTOR > limits.memory_budget:  # read cell by cell
        need = human_bytes(size * CAREFUL_READ_FACTOR)
        raise DataProblem(f"`{written}` ({human_bytes(size)}) would take about {need} "
                          f"in memory, over the memory budget of {human_bytes(limits.memory_budget)}: {what} are "
                          "read whole, not streamed",
                          "use a smaller file, or raise --memory-budget", "over the memory budget",
                          code=codes.STREAM_UNSUPPORTED)


class OverBudget(DataProblem):
    """A CSV file that only the careful reader can read (a quoted cell, a bad cell somewhere, a short file),
    where that would hold more than the budget: a `data` set is streamed instead (in bounded memory, every
    cell checked as whole reading checks it); elsewhere it is refused (E0614)."""

    def __init__(self, written: str, size: int, budget: int) -> None:
        super().__init__(f"`{written}` ({human_bytes(size)}) must be read cell by cell, which would take about "
                         f"{human_bytes(size * CAREFUL_READ_FACTOR)} in memory, over the memory budget of "
                         f"{human_bytes(budget)}", "use a smaller file, or raise --memory-budget",
                         "over the memory budget", code=codes.STREAM_UNSUPPORTED)


def refuse_careful_over_budget(written: str, size: int, limits: Limits) -> None:
    """Before a CSV file's bytes are read cell by cell: `OverBudget` when that would hold more than the budget."""
    if size * CAREFUL_READ_FACTOR > limits.memory_budget:
        raise OverBudget(written, size, limits.memory_budget)


def piece_bytes(budget: int) -> int:
    """The bytes of one piece of a streamed file under `budget`: between 4 kB and 4 MB."""
    return max(4096, min(4_000_000, budget // PIECE_SHARE))


@dataclass(frozen=True)
class Piece:
    """Part of file `file` of a streamed set, holding `rows` rows of data. A CSV file's: lines
    `first_line`... , bytes `start` to `end`. A Parquet file's: rows `start` to `end` of row group
    `group` (read `step` rows at a time), the file's row `first_line` (from 0) its first."""

    start: int
    end: int
    first_line: int
    rows: int
    file: int = 0
    group: int = -1
    step: int = 0


@dataclass(frozen=True)
class StreamedFile:
    """One file of a streamed set, and the columns chosen in it (by index, as its header or schema has them)."""

    written: str  # as the spec (or its glob) names it
    path: Path
    header: tuple[str, ...] | None  # a CSV file's; a Parquet file's column names
    inputs: tuple[int, ...]
    targets: tuple[int, ...]
    stamp: tuple[int, int] = (-1, -1)  # its size and modification time (ns) when checked: `stamp_of`


@dataclass(frozen=True)
class StreamedTable(Widths):
    """A set of files checked whole and read a piece at a time: the columns a `Table` has, no rows."""

    streamed: ClassVar[bool] = True
    path: str  # as written in the spec (a glob, or one file)
    kind: str  # ".csv" or ".parquet"
    delimiter: str
    files: tuple[StreamedFile, ...]
    input_names: tuple[str, ...]
    target_names: tuple[str, ...]
    pieces: tuple[Piece, ...]
    piece_bytes: int
    first_targets: tuple[float, ...]  # the first row's
    target_rows: tuple[tuple[float, int], ...]  # a target value and the row it is first in: each, or the extremes
    distinct: frozenset[float] | None  # every target value, when there are at most DISTINCT_KEPT
    classes: tuple[str, ...] = ()
    warnings: tuple[DataWarning, ...] = ()
    input_shape: tuple[int, ...] = ()
    target_shape: tuple[int, ...] = ()
    shaped: bool = False
    class_targets: bool = False
    ids: Ids | None = None

    @property
    def rows(self) -> int:
        return sum(piece.rows for piece in self.pieces)

    @property
    def header(self) -> tuple[str, ...] | None:
        return self.files[0].header

    def read(self, piece: Piece) -> Table:
        """One piece's rows, as a whole file's are read (checked again: the file may have changed)."""
        from .stream_read import read_piece

        return read_piece(self, piece)


def stamp_of(path: Path) -> tuple[int, int]:
    """A file's size and modification time (ns), to tell whether it changed since it was checked."""
    try:
        found = path.stat()
    except OSError:
        return (-1, -1)
    return found.st_size, found.st_mtime_ns


def refuse_changed(file: StreamedFile) -> None:
    """A file of a streamed set is read again every epoch: one that changed since `check` read it is
    refused (the rows trained on would not be the rows checked), naming it."""
    if stamp_of(file.path) != file.stamp:
        raise DataProblem(f"`{file.written}` changed since it was checked (its size or modification time differs): "
                          "a streamed file is read again every epoch, and must stay as it was",
                          "leave the data files as they are while a spec trains on them, then run it again",
                          "changed", code=codes.DATA_UNREADABLE)


def refuse_text_labels(written: str, label: str) -> None:
    raise DataProblem(f"`{written}` holds text class labels such as `{label}`, which a streamed file cannot "
                      "have", "write each class as its index from 0, or use a smaller file", "text labels",
                      code=codes.STREAM_TEXT_LABELS)
