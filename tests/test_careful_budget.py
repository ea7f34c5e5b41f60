"""The memory budget holds for the careful reader too: a CSV file only it can read (quoted cells, a
bad cell anywhere) is read whole only when `CAREFUL_READ_FACTOR` bytes a byte of it fit the budget,
else streamed (a `data` set) or refused (E0614: the rows of `test` and `predict`); and a first row
longer than the pieces of a streamed file is named as such."""

from __future__ import annotations

from typing import Any

import pytest

from compiler import Limits, check
from compiler.data_stream import CAREFUL_READ_FACTOR, WHOLE_READ_FACTOR
from compiler.limits import human_bytes
from runtime.cli import main
from spec_lang import SpecError

SPEC = "input 2\nlinear 2->1\nbatch 32\n"


def quoted_rows(count: int = 3000) -> str:
    return "a,b,y\n" + "".join(f'"{i / 1000}","{i % 7}","{i % 3}"\n' for i in range(count))


def between(size: int) -> Limits:
    """A budget the fast reader's figure fits and the careful reader's does not."""
    assert WHOLE_READ_FACTOR * 2 < CAREFUL_READ_FACTOR
    return Limits(memory_budget=size * WHOLE_READ_FACTOR * 2)


def written(folder, csv: str, data: str = 'data "x.csv" target=y\n', name: str = "x.csv"):
    (folder / name).write_text(csv)
    (folder / "s.nqa").write_text(SPEC + data)
    return folder / "s.nqa"


def test_a_file_only_the_careful_reader_reads_is_streamed_past_its_budget_to_the_same_rows(tmp_path):
    path = written(tmp_path, quoted_rows())
    limits = between(len(quoted_rows()))
    whole = check(path).table
    streamed: Any = check(path, limits=limits).table  # a StreamedTable
    assert whole is not None and not whole.streamed and streamed is not None and streamed.streamed
    read = [streamed.read(piece) for piece in streamed.pieces]
    assert [v for t in read for v in t.inputs] == list(whole.inputs)
    assert [v for t in read for v in t.targets] == list(whole.targets)


def test_a_late_bad_cell_is_named_alike_within_the_budget(tmp_path):
    lines = quoted_rows().replace('"', "").splitlines(keepends=True)
    lines[2500] = "1,x7,3\n"
    path = written(tmp_path, "".join(lines))
    messages = []
    for limits in (Limits(), between(len("".join(lines)))):
        with pytest.raises(SpecError) as caught:
            check(path, limits=limits, require_data=True)
        messages.append(caught.value.message)
    assert messages == ["`x.csv` line 2501, column `b`: `x7` is not a finite number"] * 2


def test_a_glob_of_files_only_the_careful_reader_reads_is_streamed_together(tmp_path):
    (tmp_path / "s").mkdir()
    for n in range(2):
        (tmp_path / "s" / f"x{n}.csv").write_text(quoted_rows())
    path = written(tmp_path, "a\n1\n", 'data "s/*.csv" target=y\n', name="unused.csv")
    table: Any = check(path, limits=between(2 * len(quoted_rows()))).table  # a StreamedTable
    assert table is not None and table.streamed and table.rows == 6000 and len(table.files) == 2


def test_rows_to_predict_are_refused_with_the_careful_reader_s_figure(tmp_path, capsys):
    path = written(tmp_path, quoted_rows(200))
    assert main(["run", str(path), "--no-log", "-q", "--save", str(tmp_path / "w.safetensors")]) == 0
    size = len(quoted_rows(200))
    budget = size * WHOLE_READ_FACTOR * 2
    assert main(["predict", str(path), "--load", str(tmp_path / "w.safetensors"), "--data", str(tmp_path / "x.csv"),
                 "--memory-budget", str(budget), "-o", str(tmp_path / "p.csv")]) == 2
    err = capsys.readouterr().err
    assert (f"error[E0614]: `{tmp_path / 'x.csv'}` ({human_bytes(size)}) would take about "
            f"{human_bytes(size * CAREFUL_READ_FACTOR)} in memory, over the memory budget of "
            f"{human_bytes(budget)}") in err


def test_a_first_row_longer_than_the_pieces_may_hold_is_named(tmp_path):
    path = written(tmp_path, "a,b,y\n" + ",".join(["1.5"] * 20000) + "\n1,2,3\n")
    with pytest.raises(SpecError) as caught:
        check(path, limits=Limits(memory_budget=20_000), require_data=True)
    assert caught.value.message == ("`x.csv` line 2 is longer than 32.8 kB, more than a piece of a streamed file "
                                    "may hold")
