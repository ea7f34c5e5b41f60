"""CSV files too large to read whole: whether to stream one, checking it piece by piece, reading it lazily.

In: a `data` statement's settings, the file, the network's input width, the ids
its first layer takes and the `Limits` (`memory_budget`, `max_data_bytes`).
Out: `streams(path, limits)`, whether the file is streamed: it is larger than
--max-data-bytes, or reading it whole would hold more than the budget
(`WHOLE_READ_FACTOR` bytes per byte of the file). `scan_csv` checks such a file
in pieces of at most `piece_bytes(budget)` bytes, each ending at a line end and
parsed by the same code as a whole file (`data_file.csv_rows`, `to_table`), so
every located error a whole reading finds is found, with the line numbers of
the whole file; it keeps no rows, only a `StreamedTable`: the pieces (byte
ranges, first line, rows), the columns and what `check` asks of the targets
(the first row's, and each distinct value with the row it first appears in, or
the extremes when there are many). `StreamedTable.read(piece)` gives one
piece's rows as a `Table`. No torch here. A list of files (or Parquet row
groups) would give more `Piece`s, each naming its file.
"""

from __future__ import annotations

import math
import stat
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO, ClassVar

from spec_lang import codes

from .csv_layout import DataProblem, DataWarning, header_warnings
from .data_file import _ragged, csv_columns, csv_rows, reshaped, to_table
from .data_ids import Ids
from .data_table import Table
from .limits import Limits, human_bytes
from .settings import Data

WHOLE_READ_FACTOR = 8  # bytes reading a CSV file whole holds at its peak, per byte of the file (rows as text)
PIECE_SHARE = 80  # a piece is at most budget / 80 bytes: parsing it holds about 20x that, a quarter of the budget
LONGEST_PIECE = 8  # a piece may grow to this many times its size to end at a line end; past that, refused
DISTINCT_KEPT = 1024  # distinct target values remembered (with their first row) to check them against the loss


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


def refuse_over_budget(written: str, path: Path, limits: Limits, what: str) -> None:
    """A CSV file always read whole (`what` says which) that reading whole would hold more of than the
    budget is refused; one over --max-data-bytes is refused by the bounded read itself."""
    try:
        size = path.stat().st_size
    except OSError:
        return
    if size <= limits.max_data_bytes and size * WHOLE_READ_FACTOR > limits.memory_budget:
        raise DataProblem(f"`{written}` ({human_bytes(size)}) would take about {human_bytes(size * WHOLE_READ_FACTOR)} "
                          f"in memory, over the memory budget of {human_bytes(limits.memory_budget)}: {what} are "
                          "read whole, not streamed",
                          "use a smaller file, or raise --memory-budget", "over the memory budget",
                          code=codes.STREAM_UNSUPPORTED)


def piece_bytes(budget: int) -> int:
    """The bytes of one piece of a streamed file under `budget`: between 4 kB and 4 MB."""
    return max(4096, min(4_000_000, budget // PIECE_SHARE))


@dataclass(frozen=True)
class Piece:
    """Lines `first_line`... of a file, bytes `start` to `end`, holding `rows` rows of data."""

    start: int
    end: int
    first_line: int
    rows: int


@dataclass(frozen=True)
class StreamedTable:
    """A CSV file checked whole and read a piece at a time: the columns a `Table` has, no rows."""

    streamed: ClassVar[bool] = True
    path: str  # as written in the spec
    file: Path
    delimiter: str
    header: tuple[str, ...] | None
    input_columns: tuple[int, ...]
    target_columns: tuple[int, ...]
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
    def input_width(self) -> int:
        return math.prod(self.input_shape)

    @property
    def target_width(self) -> int:
        return math.prod(self.target_shape)

    def read(self, piece: Piece) -> Table:
        """One piece's rows, as a whole file's are read (checked again: the file may have changed)."""
        with _opened(self.path, self.file) as handle:
            handle.seek(piece.start)
            raw = handle.read(piece.end - piece.start)
        rows = csv_rows(self.path, raw, None, self.delimiter, piece.first_line)
        if piece.start == 0 and self.header is not None:
            rows = rows[1:]
        return self._table(rows)

    def _table(self, rows: list[tuple[int, list[str]]]) -> Table:
        count = len(self.header) if self.header is not None else len(self.input_columns) + len(self.target_columns)
        if rows and len(rows[0][1]) != count:  # `to_table` measures the rest against the first
            _ragged(self.path, rows[0][0], rows[0][1], count, self.header, self.delimiter)
        table = to_table(self.path, rows, self.header, list(self.input_columns), list(self.target_columns),
                         self.class_targets, self.delimiter, self.ids)
        if table.classes:
            raise DataProblem(f"`{self.path}` holds text class labels such as `{table.classes[0]}`, which a streamed "
                              "file cannot have", "write each class as its index from 0, or use a smaller file",
                              "text labels", code=codes.STREAM_TEXT_LABELS)
        return replace(table, input_shape=self.input_shape, shaped=self.shaped) if self.shaped else table


def scan_csv(data: Data, path: Path, input_width: int | None, class_targets: bool, limits: Limits,
             ids: Ids | None = None) -> StreamedTable:
    """The file checked in pieces (every cell, as `csv_table` checks a whole file), keeping none of its rows."""
    written, size = data.path, piece_bytes(limits.memory_budget)
    if data.shape is not None:
        input_width = math.prod(data.shape)
    pieces: list[Piece] = []
    table: StreamedTable | None = None
    seen: dict[float, int] = {}
    extremes: dict[str, tuple[float, int]] = {}
    done = 0  # rows before the piece
    for start, end, line, raw in _chunks(written, path, size):
        rows = csv_rows(written, raw, None, data.delimiter, line)
        if table is None:
            table = _first(data, written, path, rows, input_width, class_targets, ids, size)
            rows = rows[1:] if table.header is not None else rows
        if not rows:
            continue
        piece = table._table(rows)
        if not pieces:
            table = replace(table, first_targets=tuple(piece.row(piece.targets, 0, piece.target_width)))
        pieces.append(Piece(start, end, line, piece.rows))
        _note_targets(piece.targets, table.target_width, done, seen, extremes)
        done += piece.rows
    assert table is not None  # an empty file is refused by `csv_rows`
    if not pieces:
        raise DataProblem(f"`{written}` has a header but no rows", "add rows of numbers under the header",
                          code=codes.DATA_EMPTY)
    return replace(table, pieces=tuple(pieces),
                   target_rows=tuple(sorted(seen.items(), key=lambda kv: kv[1])) if extremes == {} else
                   tuple(sorted(extremes.values(), key=lambda kv: kv[1])),
                   distinct=frozenset(seen) if not extremes else None)


def _first(data: Data, written: str, path: Path, rows: list[tuple[int, list[str]]], input_width: int | None,
           class_targets: bool, ids: Ids | None, size: int) -> StreamedTable:
    """The columns, from the file's first piece, checked as a whole file's first rows are."""
    header, inputs, targets = csv_columns(data, written, rows, input_width)
    sample = to_table(written, rows[1:2] if header is not None else rows[:1], header, inputs, targets, class_targets,
                      data.delimiter, ids)
    if data.shape is not None:
        sample = reshaped(data, data.shape, sample)
    return StreamedTable(written, path, data.delimiter, header, tuple(inputs), tuple(targets), sample.input_names,
                         sample.target_names, (), size, (), (), None, (),
                         tuple(header_warnings(data, header, rows[0])), sample.input_shape, sample.target_shape,
                         sample.shaped, class_targets, ids)


def _note_targets(values: object, width: int, done: int, seen: dict[float, int],
                  extremes: dict[str, tuple[float, int]]) -> None:
    """Remember each distinct target value with its first row; past DISTINCT_KEPT, the smallest,
    the largest and the first that is not whole (what a loss refuses a target for)."""
    flat = list(values)  # type: ignore[call-overload]  # an array('d')
    if not extremes:
        for index, value in enumerate(flat):
            if value not in seen:
                seen[value] = done + index // width
        if len(seen) <= DISTINCT_KEPT:
            return
        for value, row in seen.items():
            _extreme(extremes, value, row)
        seen.clear()
        return
    low, high = min(flat), max(flat)
    _extreme(extremes, low, done + flat.index(low) // width)
    _extreme(extremes, high, done + flat.index(high) // width)


def _extreme(extremes: dict[str, tuple[float, int]], value: float, row: int) -> None:
    for name, better in (("low", value < extremes.get("low", (math.inf, 0))[0]),
                         ("high", value > extremes.get("high", (-math.inf, 0))[0]),
                         ("part", value != int(value) and row < extremes.get("part", (0.0, math.inf))[1])):
        if better:
            extremes[name] = (value, row)


def _chunks(written: str, path: Path, size: int) -> Iterator[tuple[int, int, int, bytes]]:
    """(start, end, first line, bytes) of each piece of about `size` bytes, ending at a line end."""
    line, start = 1, 0
    with _opened(written, path) as handle:
        while raw := handle.read(size):
            if len(raw) == size and not raw.endswith(b"\n"):
                cut = raw.rfind(b"\n") + 1
                while not cut:  # a line longer than a piece: read on to its end
                    more = handle.read(size)
                    at = more.find(b"\n")
                    cut = len(raw) + at + 1 if at >= 0 else 0 if more else len(raw) + len(more)
                    raw += more
                    if not cut and len(raw) > LONGEST_PIECE * size:
                        raise DataProblem(f"`{written}` line {line:,} is longer than "
                                          f"{human_bytes(LONGEST_PIECE * size)}, more than a piece of a streamed "
                                          "file may hold", "raise --memory-budget", f"line {line:,} of this file",
                                          code=codes.STREAM_LONG_LINE)
                raw = raw[:cut]
                handle.seek(start + cut)
            if raw.count(b'"') % 2:  # the last quote opens a cell that goes on past the piece's end
                opened = line + raw[:raw.rfind(b'"')].count(b"\n")
                raise DataProblem(f"`{written}` line {opened:,} has a quoted cell holding a line break, which a "
                                  "streamed file cannot have", "write each row on one line",
                                  f"line {opened:,} of this file", code=codes.STREAM_LINE_BREAK)
            yield start, start + len(raw), line, raw
            start += len(raw)
            line += raw.count(b"\n")


def _opened(written: str, path: Path) -> BinaryIO:
    try:
        return open(path, "rb")  # the caller closes it
    except OSError as err:
        raise DataProblem(f"cannot read `{written}`: {err.strerror}", "check the file",
                          code=codes.DATA_UNREADABLE) from None
