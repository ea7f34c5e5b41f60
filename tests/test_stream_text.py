"""A streamed CSV file's text read as a whole reading reads it: a quoted cell holding a line break
inside one piece, line ends of a lone carriage return, bytes that are not UTF-8 — the same rows,
or the same refusal with the same line number, whatever --memory-budget."""

from __future__ import annotations

from typing import Any

import pytest

from compiler import Limits, check
from compiler.limits import parse_size
from spec_lang import SpecError

SMALL = Limits(memory_budget=parse_size("20kB"))  # pieces of 4 kB: the files below are read in about 25
SPEC = "input 2\nlinear 2->1\nbatch 32\ndata \"x.csv\" target=y\n"


def rows(count: int = 5000) -> list[str]:
    return ["a,b,y\n"] + [f"{i},{i % 7},{i % 3}\n" for i in range(count)]


def refused(folder, text: bytes, limits: Limits) -> str:
    (folder / "x.csv").write_bytes(text)
    (folder / "s.nqa").write_text(SPEC)
    with pytest.raises(SpecError) as caught:
        check(folder / "s.nqa", limits=limits, require_data=True)
    [d] = caught.value.diagnostics
    return f"{d.code}: {d.message}"


def both(folder, text: bytes) -> tuple[str, str]:
    """The refusal read whole, then streamed."""
    return refused(folder, text, Limits()), refused(folder, text, SMALL)


def test_a_quoted_line_break_inside_a_piece_is_refused_as_read_whole(tmp_path):
    lines = rows()
    lines[3001] = '0.1,"0.2\n",0.3\n'
    whole, streamed = both(tmp_path, "".join(lines).encode())
    assert whole == streamed == "E0305: `x.csv` line 3002: a quoted cell runs onto line 3003"


def test_bytes_that_are_not_utf8_are_refused_as_read_whole(tmp_path):
    lines = [line.encode() for line in rows()]
    lines[3001] = b"\xff\xfe\"1,\x80\x00\n"  # one quote: the piece holds an odd count
    whole, streamed = both(tmp_path, b"".join(lines))
    assert whole == streamed == "E0302: `x.csv` is not UTF-8 text"


@pytest.mark.parametrize("end", ["\r", "\r\n"])
def test_carriage_return_line_ends_stream_to_the_rows_read_whole(tmp_path, end):
    (tmp_path / "x.csv").write_text("".join(rows()).replace("\n", end), newline="")
    (tmp_path / "s.nqa").write_text(SPEC)
    table: Any = check(tmp_path / "s.nqa", limits=SMALL).table  # a StreamedTable
    assert table is not None and table.streamed and table.rows == 5000 and len(table.pieces) > 10
    assert [p.first_line for p in table.pieces][:2] == [2, table.pieces[0].rows + 2]


def test_a_bad_cell_in_a_carriage_return_file_names_the_same_line(tmp_path):
    lines = rows()
    lines[4000] = "7,x7,3\n"
    whole, streamed = both(tmp_path, "".join(lines).replace("\n", "\r").encode())
    assert whole == streamed == "E0311: `x.csv` line 4001, column `b`: `x7` is not a finite number"
