"""A CSV file read at once (pyarrow, or NumPy without it) gives what reading it cell by cell gives:
the same values to the bit, names, classes and warnings, or the same located problem, on
generated files with awkward cells and rows; and through `check` and training, the same tensors."""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from contextlib import contextmanager
from unittest import mock

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler import check
from compiler.csv_fast import HEAD_LINES
from compiler.csv_layout import DataProblem
from compiler.data_file import _careful_table, csv_table
from compiler.data_ids import Ids
from compiler.limits import Limits
from compiler.settings import Data
from runtime.data import dataset
from spec_lang import SpecError, codes

NUMERIC = ["-0", "+1", "1.", ".5", "+.5", "1e-310", " 2.5 ", "\t3", "1E+05", "00012", "2.4703282292062328e-324",
           "123456789012345678901234567890e-20", "0.1000000000000000055511151231257827", "3.4028234663852886e38",
           "-3.4028235e38", "1e39", "1e400", "1e", "e5", "+-1", "-.e1", "1.5.5", "1..", "7 8", "-", "", " ", "12"]
OTHER = ["inf", "-nan", "Infinity", "1_0", "0x1", "1,5", "a", '"1"', "\u00e9", "1d5", "\u0661", "1\r2", "NA", "null"]
FAR = ["1e39", "-3.4028235e38", "1e400", "10", "2.5", "-1"]
LABELS = ["ant", "zebra", "Cat", "cat ", "\u00a0dog", "caf\u00e9", "nan", "-Inf", "1", "2.5", "", " ", '"cat"', "c\0t",
          "cat\r", "1_0"]
NUMBER_CHARS = "0123456789.eE+- "


@contextmanager
def without_pyarrow(gone: bool):
    """pyarrow made unimportable, as where it is not installed (when `gone`)."""
    if not gone:
        yield
        return
    with mock.patch.dict(sys.modules, {"pyarrow": None, "pyarrow.csv": None}):
        yield


def outcome(read):
    """What a reader gives, compared to the bit: the table, or the problem as a user sees it."""
    try:
        t = read()
    except DataProblem as problem:
        return ("problem", problem.message, problem.hint, problem.label, problem.field, problem.code)
    bits = [np.asarray(v, dtype=np.float64).view(np.int64).tolist() for v in (t.inputs, t.targets)]
    return ("table", *bits, t.path, t.input_names, t.target_names, t.classes, t.warnings, t.input_shape,
            t.target_shape, t.shaped)


def both(data, raw, width=2, class_targets=False, limits=None, ids=None):
    limits = limits or Limits()
    fast = outcome(lambda: csv_table(data, data.path, raw, width, class_targets, limits, ids))
    careful = outcome(lambda: _careful_table(data, data.path, raw, width, class_targets, limits, ids)[0])
    return fast, careful


@st.composite
def files(draw):
    """A 3-column file long enough to be read fast, with awkward cells, labels and lines put in, and its delimiter."""
    rng = random.Random(draw(st.integers(0, 2**32)))
    count = draw(st.integers(HEAD_LINES - 2, HEAD_LINES + 40))
    cell: tuple[Callable[[], str], ...] = (
        lambda: repr(rng.uniform(-1e6, 1e6)), lambda: f"{rng.gauss(0, 1):.{rng.randint(0, 9)}g}",
        lambda: repr(rng.random() * 10.0 ** rng.randint(-320, 38)))
    if draw(st.booleans()):
        cell = (lambda: str(rng.randint(0, 9)),)  # ids
    lines = [[rng.choice(cell)() for _ in range(3)] for _ in range(count)]
    labelled = [0, 0, 0, 0, count, count, HEAD_LINES - 1, HEAD_LINES, draw(st.integers(1, count))][
        draw(st.integers(0, 8))]  # the first rows' targets are words: all, those of the head, some
    for row in lines[:labelled]:
        row[2] = rng.choice(["cat", "dog", " cat"])
    if labelled and draw(st.booleans()):  # a label the head does not have, or one that is not a label
        lines[draw(st.integers(HEAD_LINES - 10, count - 1))][2] = draw(st.sampled_from(LABELS))
    header = draw(st.sampled_from([None, ["a", "b", "y"], ["a", "b", "y"], ["a", "b", "1"]]))
    for _ in range(draw(st.sampled_from([0, 0, 1, 1, 2, 3]))):
        row = draw(st.integers(HEAD_LINES - 10, count - 1) | st.integers(0, count - 1))
        lines[row][draw(st.integers(0, 2))] = draw(st.sampled_from(NUMERIC) | st.sampled_from(OTHER)
                                                   | st.text(NUMBER_CHARS, min_size=1, max_size=5))
    if draw(st.booleans()):  # one cell far down that only a value's check refuses
        lines[-1][draw(st.integers(0, 2))] = draw(st.sampled_from(FAR))
    delimiter = draw(st.sampled_from([",", ",", ",", ";", "\t", "|"]))
    text = [delimiter.join(row) for row in ([header] if header else []) + lines]
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2]))):
        at = draw(st.integers(0, len(text) - 1))
        text[at] = draw(st.sampled_from(["", "  ", ",,", "1,2", "1,2,3,4", "1,2,3,", "\r"]))
    end = draw(st.sampled_from(["\n", "\r\n"]))
    raw = (end.join(text) + draw(st.sampled_from(["", end]))).encode()
    return (b"\xef\xbb\xbf" + raw if draw(st.booleans()) and draw(st.booleans()) else raw), delimiter


@pytest.mark.parametrize("gone", [False, True], ids=["pyarrow", "numpy"])
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(file=files(), header=st.sampled_from(["auto", "yes", "no"]), class_targets=st.booleans(),
       ids=st.sampled_from([None, Ids(10, "embedding 10->4"), Ids(None, "embedding")]),
       limit=st.sampled_from([1_000_000, HEAD_LINES + 5]))
def test_read_at_once_as_cell_by_cell(gone, file, header, class_targets, ids, limit):
    raw, delimiter = file
    data = Data(path="x.csv", header=header, delimiter=delimiter)
    with without_pyarrow(gone):
        fast, careful = both(data, raw, 2, class_targets, Limits(max_examples=limit), ids)
    assert fast == careful


@pytest.mark.parametrize("gone", [False, True], ids=["pyarrow", "numpy"])
@pytest.mark.parametrize("rows, header, tail", [
    (HEAD_LINES * 3, "a,b,y", "\n"), (HEAD_LINES + 1, "", "\r\n"), (HEAD_LINES * 2, "a,b,y", "")])
def test_plain_numbers_are_read_at_once(gone, rows, header, tail):
    """A file of numbers only is read at once (NumPy arrays, not the cell-by-cell reader's `array`)."""
    rng = np.random.default_rng(rows)
    values = rng.standard_normal((rows, 3)) * 10.0 ** rng.integers(-30, 30)
    lines = [",".join(repr(float(v)) for v in row) for row in values]
    raw = (tail or "\n").join(([header] if header else []) + lines).encode() + tail.encode()
    data = Data(path="x.csv")
    with without_pyarrow(gone):
        table = csv_table(data, data.path, raw, 2, False, Limits())
        fast, careful = both(data, raw)
    assert isinstance(table.inputs, np.ndarray) and table.rows == rows
    assert fast == careful and fast[0] == "table"


@pytest.mark.parametrize("gone", [False, True], ids=["pyarrow", "numpy"])
@pytest.mark.parametrize("label", LABELS)
def test_text_labels_far_down(gone, label):
    """A file of text labels: read at once with pyarrow, a label first met far down (`ant`
    sorts first, so every index moves) included; a label that is not one is worded as before."""
    rng = random.Random(5)
    lines = ["a,b,y"] + [f"{rng.random()!r},{rng.randint(0, 9)},{rng.choice(['cat', 'dog', ' cat'])}"
                         for _ in range(3 * HEAD_LINES)]
    lines[2 * HEAD_LINES] = f"1,2,{label}"
    raw = "\n".join(lines).encode() + b"\n"
    data = Data(path="x.csv")
    with without_pyarrow(gone):
        fast, careful = both(data, raw, class_targets=True)
        read = None if fast[0] == "problem" else csv_table(data, data.path, raw, 2, True, Limits())
    assert fast == careful
    if label in ("ant", "zebra", "Cat", "cat ", "\u00a0dog", "caf\u00e9", "1_0", "cat\r"):  # `\r\n` ends a line
        assert read is not None and isinstance(read.inputs, np.ndarray) != gone and "cat" in read.classes
    else:
        assert read is None or not isinstance(read.inputs, np.ndarray)


def test_a_value_at_line_400_is_named_as_before(tmp_path):
    """A bad cell far down a large file: the message names its line, its column and its text."""
    lines = ["a,b,y"] + [f"{i},{i / 7!r},{i % 3}" for i in range(1000)]
    lines[400] = "1,2.5.1,0"
    (tmp_path / "x.csv").write_text("\n".join(lines) + "\n")
    (tmp_path / "s.nqa").write_text('data "x.csv"\nlinear 2->1\n')
    with pytest.raises(SpecError) as caught:
        check(tmp_path / "s.nqa")
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.message == "`x.csv` line 401, column `b`: `2.5.1` is not a finite number"
    assert diagnostic.code == codes.BAD_DATA_VALUE


def test_training_tensors_are_the_rows_as_written(tmp_path):
    """Through `check` and `dataset`: inputs and targets are the file's numbers, each as Python's
    `float` reads it, then float32."""
    rng = random.Random(3)
    rows = [[repr(rng.uniform(-5, 5)) for _ in range(3)] for _ in range(2 * HEAD_LINES)]
    rows[HEAD_LINES + 7][1] = "1e-310"
    (tmp_path / "x.csv").write_text("a,b,y\n" + "\n".join(",".join(r) for r in rows) + "\n")
    (tmp_path / "s.nqa").write_text('data "x.csv"\nlinear 2->1\n')
    program = check(tmp_path / "s.nqa")
    assert program.table is not None and isinstance(program.table.inputs, np.ndarray)
    data = dataset(program.spec, 0, program.table)
    want = torch.tensor([[float(c) for c in r] for r in rows], dtype=torch.float32)
    assert torch.equal(data.inputs, want[:, :2]) and torch.equal(data.targets, want[:, 2:])


@pytest.mark.parametrize("loss, target, message", [
    ("bce", "1.5", "`x.csv` row 351: `bce` targets must lie between 0 and 1"),
    ("cross_entropy", "2", "`x.csv` row 351: the class index must be a whole number from 0 to 1, not 2"),
])
def test_a_target_far_down_is_refused_by_its_row(tmp_path, loss, target, message):
    """A target the loss refuses, in a file read at once: the row is named as before."""
    lines = ["a,b,y"] + [f"{i},{i / 7!r},{i % 2}" for i in range(1000)]
    lines[351] = f"1,2,{target}"
    (tmp_path / "x.csv").write_text("\n".join(lines) + "\n")
    end = "sigmoid\n" if loss == "bce" else ""
    (tmp_path / "s.nqa").write_text(f'data "x.csv"\nlinear 2->{2 if loss != "bce" else 1}\n{end}loss {loss}\n')
    with pytest.raises(SpecError) as caught:
        check(tmp_path / "s.nqa")
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.message == message
