"""One piece of a streamed set, read: a CSV file's byte range or a Parquet row group's rows.

In: the `data_stream.StreamedTable` that `check` made and one of its `Piece`s.
Out: `read_piece`, the piece's rows as a `Table` (NumPy float64 or array('d')),
or the `DataProblem` a whole reading gives, naming the file and its line (or
row). A CSV piece is read by the fast reader (`csv_fast`) first, and only when
it is in any doubt cell by cell (`data_file.csv_rows`, `to_table`) from the
piece's first line, so a problem is worded with the whole file's line numbers.
`chunks` cuts a CSV file into pieces that end at a line end; `opened` opens a
file of the set. Text class labels are refused (E0336). No torch here.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO

from spec_lang import codes

from .csv_fast import Layout, joined
from .csv_layout import DataProblem, refuse_line_breaks
from .data_file import _ragged, csv_rows, to_table
from .data_stream import LONGEST_PIECE, Piece, StreamedFile, StreamedTable, refuse_changed, refuse_text_labels
from .data_table import Table
from .limits import Limits, human_bytes


@cache
def unbounded() -> Limits:
    """Limits for a piece: its bytes are bounded, and a streamed set's rows are not held to --max-examples."""
    return Limits(max_examples=2**62)


def read_piece(table: StreamedTable, piece: Piece) -> Table:
    system_pool()
    file = table.files[piece.file]
    refuse_changed(file)
    if table.kind == ".parquet":
        from .stream_parquet import parquet_piece

        read = parquet_piece(table, file, piece)
    else:
        with opened(file.written, file.path) as handle:
            handle.seek(piece.start)
            raw = handle.read(piece.end - piece.start)
        read = csv_piece(table, file, raw, piece.first_line)
    _release()
    if read.rows != piece.rows:
        raise DataProblem(f"`{file.written}` changed while it was read: a piece that held {piece.rows:,} rows "
                          f"holds {read.rows:,}", "leave the data files as they are while a spec trains on them",
                          "changed", code=codes.DATA_UNREADABLE)
    return read


@cache
def system_pool() -> None:
    """pyarrow (when installed) allocates from the system's allocator rather than its own pool, which
    keeps what a piece freed for later (measured: 13 MB more at the peak of tests/test_stream_memory.py's
    run, with a budget of 10 MB): a streamed set is bounded by what the process holds."""
    try:
        import pyarrow
    except ImportError:
        return
    pyarrow.set_memory_pool(pyarrow.system_memory_pool())


def _release() -> None:
    """Hand back to the system what the allocator keeps of a piece once freed."""
    import sys

    arrow = sys.modules.get("pyarrow")
    if arrow is not None:
        arrow.default_memory_pool().release_unused()


def csv_piece(table: StreamedTable, file: StreamedFile, raw: bytes, first_line: int) -> Table:
    """Lines `first_line`... of a CSV file (no header among them), fast when sure, else cell by cell."""
    header, inputs, targets = file.header, list(file.inputs), list(file.targets)
    count = len(header) if header is not None else len(inputs) + len(targets)
    empty = Table(file.written, array("d"), array("d"), table.input_names, table.target_names,
                  input_shape=(len(inputs),), target_shape=(len(targets),))
    read = joined(empty, Layout(count, inputs, targets, 0), raw, 0, table.delimiter, unbounded(), table.ids)
    if read is None:
        rows = csv_rows(file.written, raw, None, table.delimiter, first_line)
        refuse_line_breaks(file.written, rows, last=False)  # as a whole reading does (a piece ends at a line end)
        if rows and len(rows[0][1]) != count:  # `to_table` measures the rest against the first
            _ragged(file.written, rows[0][0], rows[0][1], count, header, table.delimiter)
        read = to_table(file.written, rows, header, inputs, targets, table.class_targets, table.delimiter, table.ids)
    if read.classes:
        refuse_text_labels(file.written, read.classes[0])
    return replace(read, input_shape=table.input_shape, shaped=True) if table.shaped else read


def chunks(written: str, path: Path, size: int, start: int = 0,
           line: int = 1) -> Iterator[tuple[int, int, int, bytes]]:
    """(start, end, first line, bytes) of each piece of about `size` bytes from byte `start` (line
    `line`), ending at a line end (`\n`, `\r\n` or a lone `\r`, as a whole reading takes them)."""
    with opened(written, path) as handle:
        handle.seek(start)
        while raw := handle.read(size):
            if len(raw) == size:
                first = start == 0  # the first piece holds the header and a row at least: its columns are chosen
                cut = last_line_end(raw, first)
                while not cut:  # a line longer than a piece: read on to its end
                    more = handle.read(size)
                    raw += more
                    cut = last_line_end(raw, first) if more else len(raw)
                    if not cut and len(raw) > LONGEST_PIECE * size:
                        _refuse_not_text(written, raw)
                        long = line + line_ends(raw)  # the line not ended (the first piece's first is)
                        raise DataProblem(f"`{written}` line {long} is longer than "
                                          f"{human_bytes(LONGEST_PIECE * size)}, more than a piece of a streamed "
                                          "file may hold", "raise --memory-budget", f"line {long} of this file",
                                          code=codes.STREAM_LONG_LINE)
                raw = raw[:cut]
                handle.seek(start + cut)
            if raw.count(b'"') % 2:  # the last quote opens a cell that goes on past the piece's end
                _refuse_not_text(written, raw)
                opens = line + line_ends(raw[:raw.rfind(b'"')])
                raise DataProblem(f"`{written}` line {opens} has a quoted cell holding a line break, which a "
                                  "streamed file cannot have", "write each row on one line",
                                  f"line {opens} of this file", code=codes.STREAM_LINE_BREAK)
            yield start, start + len(raw), line, raw
            start += len(raw)
            line += line_ends(raw)


def last_line_end(raw: bytes, past_first: bool = False) -> int:
    """Where the last line of `raw` known to be whole ends (0: none, or only the first line when
    `past_first`): after its last `\n`, or after a lone `\r` (one at the very end may be the first
    half of a `\r\n`: not yet known)."""
    cut = raw.rfind(b"\n") + 1
    at = raw.rfind(b"\r", cut, len(raw) - 1)
    cut = at + 1 if at >= 0 else cut
    return 0 if past_first and cut <= after_line(raw, 1) else cut


def line_ends(raw: bytes) -> int:
    """The line ends in `raw`, counted as a whole reading counts them: `\n`, `\r\n` and a lone `\r`."""
    return raw.count(b"\n") + raw.count(b"\r") - raw.count(b"\r\n")


def _refuse_not_text(written: str, raw: bytes) -> None:
    """Bytes that are not UTF-8 are refused as a whole reading refuses them (the last character may be cut)."""
    import codecs

    try:
        codecs.getincrementaldecoder("utf-8")().decode(raw, final=False)
    except UnicodeDecodeError:
        raise DataProblem(f"`{written}` is not UTF-8 text", "save the file as UTF-8 CSV",
                          code=codes.DATA_UNREADABLE) from None


def opened(written: str, path: Path) -> BinaryIO:
    try:
        return open(path, "rb")  # the caller closes it
    except OSError as err:
        raise DataProblem(f"cannot read `{written}`: {err.strerror}", "check the file",
                          code=codes.DATA_UNREADABLE) from None


def after_line(raw: bytes, line: int) -> int:
    """The offset in `raw` (which starts at line 1) where line `line + 1` starts (line ends counted as `line_ends`)."""
    at = 0
    for _ in range(line):
        ends = [end for end in (raw.find(b"\n", at), raw.find(b"\r", at)) if end >= 0]
        if not ends:
            return len(raw)
        at = min(ends) + 1
        if raw[at - 1:at + 1] == b"\r\n":
            at += 1
    return at


def first_values(values: Any, width: int) -> tuple[float, ...]:
    return tuple(float(v) for v in values[:width])
