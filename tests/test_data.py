"""`data "file.csv"` as users meet it: columns by width or by name, text class labels,
training equal to the same rows as `example`s, and every data mistake as a located message."""

from __future__ import annotations

import re

import pytest

from compiler import check
from runtime import train
from runtime.cli import main
from spec_lang import SpecError

NET = "linear 2->1\n"  # two inputs, one output: a 3-column file is 2 inputs and a target
CLASSES = "linear 2->2\nloss cross_entropy\noptimizer sgd lr=0.5\nepochs 20\n"


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """The spec's folder, one below the working folder, which holds a good `out.csv` outside it."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out.csv").write_text("1,2,3\n")
    (tmp_path / "spec").mkdir()
    return tmp_path / "spec"


def write(folder, spec, csv=None, name="x.csv"):
    """Write the spec (and the CSV file, bytes exactly as given) and return the spec's path."""
    if csv is not None:
        (folder / name).write_bytes(csv if isinstance(csv, bytes) else csv.encode())
    path = folder / "s.nqa"
    path.write_text(spec)
    return path


def table(folder, spec, csv, **options):
    return check(write(folder, spec, csv), **options).table


def error(folder, spec, csv=None, **options):
    """The single diagnostic `check` raises for this spec and file."""
    with pytest.raises(SpecError) as caught:
        check(write(folder, spec, csv), **options)
    [diagnostic] = caught.value.diagnostics
    return diagnostic


def rows(t):
    return list(t.inputs), list(t.targets), t.input_names, t.target_names


# --- reading rows ------------------------------------------------------------------

@pytest.mark.parametrize("csv, names", [
    ("1,2,3\n4,5,6\n", ("column 1", "column 2")),
    ("a,b,y\n1,2,3\n4,5,6\n", ("a", "b")),
    ("a,b,y\n\n1,2,3\n  \n,,\n4,5,6\n\n", ("a", "b")),
    ("a,b,y\r\n1,2,3\r\n4,5,6\r\n", ("a", "b")),
    (b"\xef\xbb\xbfa,b,y\r\n1,2,3\r\n4,5,6\r\n", ("a", "b")),
    (b"\xef\xbb\xbf1,2,3\n4,5,6", ("column 1", "column 2")),
], ids=["no header", "header", "blank lines", "windows", "bom", "bom no header"])
def test_columns_by_width_first_inputs_then_target(folder, csv, names):
    inputs, targets, input_names, _ = rows(table(folder, NET + 'data "x.csv"\n', csv))
    assert (inputs, targets, input_names) == ([1, 2, 4, 5], [3, 6], names)


@pytest.mark.parametrize("options, inputs", [
    ("inputs=a,b target=y", [1, 2, 4, 5]),
    ("target=y inputs=b,a", [2, 1, 5, 4]),
    ("target=y", [1, 2, 4, 5]),
    ("inputs=b,a", [2, 1, 5, 4]),
])
@pytest.mark.parametrize("csv", [b"y,a,b\n3,1,2\n6,4,5\n", b"\xef\xbb\xbfy,a,b\r\n3,1,2\r\n\r\n6,4,5\r\n"],
                         ids=["plain", "bom+windows"])
def test_columns_by_name_in_any_order(folder, options, inputs, csv):
    got = rows(table(folder, NET + f'data "x.csv" {options}\n', csv))
    assert got[:2] == (inputs, [3, 6]) and got[3] == ("y",)


# --- training: a file is the same as its rows written as examples ------------------

HEAD = "linear 2->3\nrelu\nlinear 3->1\noptimizer sgd lr=0.05 momentum=0.9\nepochs 7\nbatch 2\n"
ROWS = [(1, 2, 3), (4, 0.1, -6), (-1, 0.5, 2), (0.3, -2.5, 1e-3)]


def examples(some):
    return "".join(f"example [{a}, {b}] -> [{y}]\n" for a, b, y in some)


def csv_of(some, header="a,b,y\n"):
    return header + "".join(f"{a},{b},{y}\n" for a, b, y in some)


@pytest.mark.parametrize("extra", ["", "shuffle\n"])
@pytest.mark.parametrize("in_spec", [0, 1, 3], ids=lambda n: f"{n} examples first")
def test_training_from_a_file_equals_the_same_examples_bit_for_bit(folder, extra, in_spec):
    written = train(write(folder, HEAD + extra + examples(ROWS)), seed=0).report
    mixed = HEAD + extra + examples(ROWS[:in_spec]) + 'data "x.csv"\n'
    from_file = train(write(folder, mixed, csv_of(ROWS[in_spec:])), seed=0).report
    assert from_file.training.examples == 4 and len(from_file.losses) == 14
    assert from_file.losses == written.losses
    assert [t.tolist() for t in from_file.parameters.final.values()] == [
        t.tolist() for t in written.parameters.final.values()]


# --- text class labels -------------------------------------------------------------

ANIMALS = "a,b,animal\n0,1,dog\n1,0,cat\n0,2,dog\n2,0,cat\n"


def test_text_labels_are_sorted_classes_with_accuracy(folder, capsys):
    spec = write(folder, CLASSES + 'data "x.csv"\n', ANIMALS)
    table = check(spec).table
    assert table is not None
    assert list(table.targets) == [1, 0, 1, 0]
    run = train(spec, seed=0)
    assert run.report.training.classes == ("cat", "dog")
    assert run.report.accuracy == 1.0
    assert main(["run", str(spec)]) == 0
    out = capsys.readouterr().out
    assert "classes    0=cat 1=dog" in out and "accuracy 100.0% on the training data" in out


def test_text_labels_without_a_header(folder):
    assert table(folder, CLASSES + 'data "x.csv"\n', "0,1,b\n1,0,a\n1,1,a\n").classes == ("a", "b")


def test_text_labels_need_cross_entropy(folder):
    d = error(folder, "linear 2->2\nloss mse\ndata \"x.csv\"\n", ANIMALS)
    assert d.message == "column `animal` of `x.csv` holds text labels such as `dog`"
    assert "loss cross_entropy" in d.hint and (d.span.line, d.span.column) == (3, 6)


def test_more_classes_than_outputs_is_refused(folder):
    d = error(folder, CLASSES + 'data "x.csv"\n', ANIMALS + "1,1,cow\n")
    assert d.message == "`x.csv` has 3 classes, but the network has 2 outputs"
    assert (d.span.line, d.span.column) == (5, 6)


def test_more_classes_than_outputs_hint_says_how_many_outputs(folder):
    d = error(folder, CLASSES + 'data "x.csv"\n', ANIMALS + "1,1,cow\n")
    assert "-> [0]" not in d.hint and "3" in d.hint


# --- every data mistake, located at the `data` statement ---------------------------

ERRORS = [  # id, `data` statement (after NET), file, message, part of the hint, column
    ("missing", 'data "nope.csv"', None, "cannot read `nope.csv`: no such file", "relative to the spec's folder", 6),
    ("empty", 'data "x.csv"', "", "`x.csv` is empty", "at least one row", 6),
    ("only blanks", 'data "x.csv"', "\n  \r\n,,\n", "`x.csv` is empty", "at least one row", 6),
    ("header only", 'data "x.csv"', "a,b,y\n", "`x.csv` has a header but no rows", "add rows", 6),
    ("ragged", 'data "x.csv"', "a,b,y\n1,2,3\n\n4,5\n",
     "`x.csv` line 4 has 2 columns, but the file has 3", "same number of columns", 6),
    ("not a number", 'data "x.csv"', "a,b,y\n1,2,3\n4,five,6\n",
     "`x.csv` line 3, column `b`: `five` is not a finite number", "must be a finite number", 6),
    ("nan", 'data "x.csv"', "a,b,y\n1,nan,3\n", "`x.csv` line 2, column `b`: `nan` is not a finite number", "", 6),
    ("underscore", 'data "x.csv"', "a,b,y\n1,1_000,3\n",
     "`x.csv` line 2, column `b`: `1_000` is not a finite number", "", 6),
    ("other digits", 'data "x.csv"', "a,b,y\n1,\u0661,3\n",
     "`x.csv` line 2, column `b`: `\u0661` is not a finite number", "", 6),
    ("unknown input", 'data "x.csv" inputs=a,bb target=y', "a,b,y\n1,2,3\n",
     "`x.csv` has no column `bb`", "did you mean `b`?", 14),
    ("unknown target", 'data "x.csv" inputs=a,b target=yy', "a,b,y\n1,2,3\n",
     "`x.csv` has no column `yy`", "did you mean `y`?", 25),
    ("names, no header", 'data "x.csv" target=y', "1,2,3\n",
     "`x.csv` has no header row, so its columns have no names", "add a header row", 6),
    ("too few columns", 'data "x.csv"', "1,2\n4,5\n",
     "`x.csv` has 2 columns, but the network takes 2 inputs and needs a target column after them",
     "2 inputs and then the target", 6),
    ("input width", 'data "x.csv" inputs=a,b,c target=y', "a,b,c,y\n1,2,3,4\n",
     "`x.csv` has 3 input columns, but the network takes 2", "inputs=", 6),
    ("outside", 'data "../out.csv"', None, "`../out.csv` is outside the spec's folder", "--allow-outside-data", 6),
]


@pytest.mark.parametrize("statement, csv, message, hint, column", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_data_errors_are_located_messages(folder, statement, csv, message, hint, column):
    d = error(folder, NET + statement + "\n", csv)
    assert (d.message, d.span.line, d.span.column) == (message, 2, column)
    assert hint in d.hint


@pytest.mark.parametrize("statement, csv, message, hint, column", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
@pytest.mark.parametrize("command", ["run", "check"])
def test_cli_reports_data_errors_with_exit_2(folder, capsys, command, statement, csv, message, hint, column):
    spec = write(folder, NET + statement + "\n", csv)
    assert main([command, str(spec)]) == 2
    err = capsys.readouterr().err
    assert re.search(rf"error\[E0\d{{3}}\]: {re.escape(message)}", err)
    assert f"{spec}:2:{column}" in err and "Traceback" not in err


def test_cli_good_file_exits_0(folder, capsys):
    spec = write(folder, NET + 'data "x.csv"\nepochs 3\n', "a,b,y\n1,2,3\n4,5,6\n")
    assert main(["check", str(spec)]) == 0 and capsys.readouterr().out == f"{spec}: ok\n"
    assert main(["run", str(spec)]) == 0
    assert "3 epochs x 1 batch of 2 examples = 3 steps" in capsys.readouterr().out


def outside_paths(folder):
    (folder / "link.csv").symlink_to(folder.parent / "out.csv")
    return ["../out.csv", str(folder.parent / "out.csv"), "link.csv"]


def test_outside_the_folder_absolute_and_symlinked_are_refused(folder):
    for path in outside_paths(folder):
        d = error(folder, NET + f'data "{path}"\n')
        assert (d.message, d.span.line, d.span.column) == (f"`{path}` is outside the spec's folder", 2, 6)


def test_outside_the_folder_allowed_when_asked(folder, capsys):
    for path in outside_paths(folder):
        spec = write(folder, NET + f'data "{path}"\n')
        assert rows(check(spec, allow_outside=True).table)[:2] == ([1, 2], [3])
        assert main(["check", "--allow-outside-data", str(spec)]) == 0
        assert main(["run", "--allow-outside-data", "-q", str(spec)]) == 0
    assert "Traceback" not in capsys.readouterr().err


def test_dot_dot_back_inside_the_folder_is_fine(folder):
    (folder / "sub").mkdir()
    assert table(folder, NET + 'data "sub/../x.csv"\n', "1,2,3\n").rows == 1


# --- messages that could be clearer, and limits that do not hold -------------------

def test_one_input_column_is_singular(folder):
    d = error(folder, NET + 'data "x.csv" inputs=a target=y\n', "a,b,y\n1,2,3\n")
    assert d.message == "`x.csv` has 1 input column, but the network takes 2" and d.label == "1 input"


def test_bad_target_cell_names_the_column_plainly(folder):
    d = error(folder, "linear 2->2\ndata \"x.csv\"\n", "1,2,3,4\n4,5,6,x\n")
    assert d.message == "`x.csv` line 2, column 4: `x` is not a finite number"
    assert "input" not in d.hint


def test_more_target_columns_than_outputs_names_the_file(folder):
    d = error(folder, NET + 'data "x.csv"\n', "1,2,3,4\n")
    assert "`x.csv`" in d.message and "1 outputs" not in d.message and "2 target columns" in d.message


@pytest.mark.parametrize("statements, csv", [
    ('data "x.csv"', "1,2,3\n4,5,6\n7,8,9\n"),
    ('data "x.csv"', "a,b,y\n1,2,3\n4,5,6\n7,8,9\n"),
    ('example [0, 0] -> [0]\ndata "x.csv"', "1,2,3\n4,5,6\n"),
], ids=["no header", "header", "examples + rows"])
def test_max_examples_counts_every_training_row(folder, capsys, statements, csv):
    assert main(["check", "--max-examples", "2", str(write(folder, NET + statements + "\n", csv))]) == 2
    err = capsys.readouterr().err
    assert "3 rows" in err or "3 examples" in err


def test_a_column_cannot_be_both_input_and_target_nor_named_twice(tmp_path):
    (tmp_path / "abc.csv").write_text("a,b,c\n1,2,3\n")
    for options, message in (
            ("inputs=a,b target=b", "column `b` of `abc.csv` is named both as an input and as the target"),
            ("inputs=a,a target=c", "column `a` is named twice in `inputs=`")):
        spec = tmp_path / "s.nqa"
        spec.write_text(f'linear 2->1\ndata "abc.csv" {options}\n')
        with pytest.raises(SpecError) as caught:
            check(spec)
        assert caught.value.message == message


def test_a_stray_word_in_a_column_of_numbers_is_an_error_at_its_line(tmp_path):
    (tmp_path / "a.csv").write_text("a,b\n1,2\n3,4e\n")
    spec = tmp_path / "s.nqa"
    spec.write_text('linear 1->1\ndata "a.csv"\n')
    with pytest.raises(SpecError) as caught:
        check(spec)
    assert caught.value.message == "`a.csv` line 3, column `b`: `4e` is not a finite number"


@pytest.mark.parametrize("csv", ["a,b,y\n1,2,3\n", "a,b,y\n"], ids=["with rows", "header only"])
def test_header_no_on_a_file_with_a_header_says_so(folder, csv):
    d = error(folder, 'linear 2->1\ndata "x.csv" header=no\n', csv)
    assert d.message == "`x.csv` line 1 holds names, not numbers: `a`, `b`, `y`"
    assert d.hint == "it looks like a header row: remove `header=no`, or write `header=yes`"
    assert d.label == "line 1 of this file" and (d.span.line, d.span.column) == (2, 6)
