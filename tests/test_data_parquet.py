"""`data "train.parquet"`, as users meet it: training on a Parquet file gives the same losses, bit for
bit, as the same rows in a CSV file; columns are chosen by name or by width, text targets become
sorted class labels; and every refusal (a null, NaN, a value too large for float32, a text or
nested input column, a file that is not Parquet, a CSV-only option, pyarrow missing) is the located
message a user reads, naming the file, the row and the column."""

from __future__ import annotations

import io
import subprocess
import sys
from decimal import Decimal

import pytest

from compiler import Limits, check
from conftest import ROOT
from data_writing import files as write
from data_writing import table
from runtime import train
from spec_lang import SpecError

pa = pytest.importorskip("pyarrow", reason="Parquet files need pyarrow (the extra `parquet`)")
pq = pytest.importorskip("pyarrow.parquet")

ROWS = {"a": [0.1, -2.5, 3.0, 0.75, 1e-3, 2.0], "b": [1.0, 0.5, -1.25, 2.0, 0.0, -0.3],
        "y": [0.2, 1.5, -0.5, 0.8, 0.0, 1.1]}
NET = "linear 2->4\nrelu\nlinear ->1\noptimizer sgd lr=0.05\nepochs 5\nbatch 2\nshuffle\n"


def parquet(columns: dict, row_group_size: int | None = None) -> bytes:
    out = io.BytesIO()
    pq.write_table(pa.table(columns), out, row_group_size=row_group_size)
    return out.getvalue()


def csv_text(columns: dict) -> str:
    names = list(columns)
    rows = zip(*columns.values(), strict=True)
    return ",".join(names) + "\n" + "".join(",".join(repr(v) if isinstance(v, float) else str(v) for v in row) + "\n"
                                            for row in rows)




def refusal(folder, spec: str, files: dict[str, bytes], limits: Limits | None = None) -> str:
    with pytest.raises(SpecError) as caught:
        check(write(folder, spec, **files), limits=limits or Limits())
    return caught.value.render(filename="s.nqa")


def test_a_parquet_file_trains_bit_for_bit_as_the_same_rows_in_a_csv_file(tmp_path):
    from_parquet = train(write(tmp_path, NET + 'data "d.parquet"\n', **{"d.parquet": parquet(ROWS)})).report
    from_csv = train(write(tmp_path, NET + 'data "d.csv"\n', **{"d.csv": csv_text(ROWS)})).report
    assert len(from_csv.losses) == 15 and list(from_parquet.losses) == list(from_csv.losses)


def test_integer_float32_dictionary_and_boolean_columns_in_row_groups_read_as_their_values(tmp_path):
    columns = {"a": pa.array([1, 2, 3, 4, 5, 6], pa.int8()).dictionary_encode(),
               "b": pa.array(ROWS["b"], pa.float32()), "y": pa.array([True, False, True, True, False, False])}
    read = table(write(tmp_path, 'linear 2->1\ndata "d.parquet"\n', **{"d.parquet": parquet(columns, 4)}))
    assert read.rows == 6 and read.input_names == ("a", "b") and read.target_names == ("y",)
    assert read.inputs.tolist()[:4] == [1.0, 1.0, 2.0, 0.5] and read.targets.tolist() == [1, 0, 1, 1, 0, 0]


def test_named_columns_and_text_labels_sorted_as_a_csv_files(tmp_path):
    columns = {"species": ["setosa", "virginica", "setosa", "versicolor"], "w": [1.0, 2.0, 3.0, 4.0],
               "l": [0.5, 0.5, 1.5, 2.5]}
    spec = 'linear 2->3\nloss cross_entropy\ndata "{}" inputs=l,w target=species\n'
    read = table(write(tmp_path, spec.format("d.parquet"), **{"d.parquet": parquet(columns)}))
    from_csv = table(write(tmp_path, spec.format("d.csv"), **{"d.csv": csv_text(columns)}))
    assert read.classes == from_csv.classes == ("setosa", "versicolor", "virginica")
    assert read.targets.tolist() == list(from_csv.targets) == [0, 2, 0, 1]
    assert read.inputs.tolist() == list(from_csv.inputs) == [0.5, 1.0, 0.5, 2.0, 1.5, 3.0, 2.5, 4.0]


def test_shape_reshapes_the_input_columns(tmp_path):
    columns = {f"p{i}": [float(i), float(i + 1)] for i in range(4)} | {"y": [1.0, 0.0]}
    program = check(write(tmp_path, 'linear ->1\ndata "d.parquet" target=y shape=2x2\n',
                          **{"d.parquet": parquet(columns)}))
    assert program.table is not None and program.table.input_shape == (2, 2)
    assert program.spec.input_type.sizes == (2, 2)


REFUSALS = [
    ("null", {"a": [1.0, None, 3.0], "b": [1.0, 2.0, 3.0], "y": [0.0, 1.0, 0.0]}, 'data "d.parquet"',
     "error[E0311]: `d.parquet` row 2, column `a` is empty (null)", "row 2 of this file", "fill in every cell"),
    ("nan", {"a": [1.0, 2.0, 3.0], "b": [1.0, 2.0, float("nan")], "y": [0.0, 1.0, 0.0]}, 'data "d.parquet"',
     "error[E0311]: `d.parquet` row 3, column `b`: nan is not a finite number", "row 3 of this file",
     "every value must be a finite number"),
    ("inf target", {"a": [1.0, 2.0], "b": [1.0, 2.0], "y": [float("-inf"), 1.0]}, 'data "d.parquet"',
     "error[E0311]: `d.parquet` row 1, column `y`: -inf is not a finite number", "row 1 of this file",
     "every value must be a finite number"),
    ("float32", {"a": [1.0, 2.0], "b": [1e39, 2.0], "y": [0.0, 1.0]}, 'data "d.parquet"',
     "error[E0312]: `d.parquet` row 1, column `b`: 1e+39 is too large for float32", "row 1 of this file",
     "float32, which holds values up to about 3.4e38"),
    ("decimal", {"a": [1.0, 2.0], "b": pa.array([Decimal("1"), Decimal("-1e70")], pa.decimal256(76, 0)),
                 "y": [0.0, 1.0]}, 'data "d.parquet"',
     "error[E0312]: `d.parquet` row 2, column `b`: -1e+70 is too large for float32", "row 2 of this file",
     "float32, which holds values up to about 3.4e38"),
    ("text input", {"a": ["x", "y"], "b": [1.0, 2.0], "y": [0.0, 1.0]}, 'data "d.parquet"',
     "error[E0311]: column `a` of `d.parquet` holds text, not numbers (row 1 holds `x`)", "column `a`",
     "every input must be a number"),
    ("nested", {"a": [[1, 2], [3]], "b": [1.0, 2.0], "y": [0.0, 1.0]}, 'data "d.parquet"',
     "error[E0311]: column `a` of `d.parquet` holds values of type list<element: int64>, not numbers",
     "column `a`", "every input must be a number"),
    ("text target, no classes", {"a": [1.0, 2.0], "b": [1.0, 2.0], "y": ["cat", "dog"]}, 'data "d.parquet"',
     "error[E0316]: column `y` of `d.parquet` holds text labels such as `cat`", "text labels",
     "train on classes with `loss cross_entropy`"),
    ("unknown column", {"a": [1.0], "b": [1.0], "y": [0.0]}, 'data "d.parquet" target=z',
     "error[E0307]: `d.parquet` has no column `z`", "no column `z`", "the columns are `a`, `b`, `y`"),
    ("csv option", {"a": [1.0], "b": [1.0], "y": [0.0]}, 'data "d.parquet" delimiter=";"',
     "error[E0318]: `delimiter=` is for CSV files, not for `d.parquet`", "not a CSV option", "leave out `delimiter=`"),
    ("no rows", {"a": pa.array([], pa.float64()), "b": pa.array([], pa.float64()), "y": pa.array([], pa.float64())},
     'data "d.parquet"', "error[E0304]: `d.parquet` has no rows", "empty file", "give the file at least one row"),
    ("width", {"a": [1.0], "b": [1.0]}, 'data "d.parquet"',
     "error[E0309]: `d.parquet` has 2 columns, but the network takes 2 inputs and needs a target column after them",
     "in this file", "give each row 2 inputs and then the target"),
]


@pytest.mark.parametrize("columns, statement, message, label, hint", [r[1:] for r in REFUSALS],
                         ids=[r[0] for r in REFUSALS])
def test_refusals_name_the_file_the_row_and_the_column(tmp_path, columns, statement, message, label, hint):
    text = refusal(tmp_path, "linear 2->1\n" + statement + "\n", {"d.parquet": parquet(columns)})
    lines = text.splitlines()
    assert lines[0] == message and lines[1].startswith(" --> s.nqa:2:"), text
    assert lines[-2].endswith(label) and hint in lines[-1], text


def test_class_labels_must_be_text_in_every_row(tmp_path):
    columns = {"a": [1.0, 2.0, 3.0], "y": ["cat", None, "dog"]}
    text = refusal(tmp_path, 'linear 1->2\nloss cross_entropy\ndata "d.parquet"\n', {"d.parquet": parquet(columns)})
    assert text.startswith("error[E0311]: `d.parquet` row 2, column `y` is empty (null)\n --> s.nqa:3:6\n"), text
    assert "give every row its class label" in text


@pytest.mark.parametrize("content, message", [
    (b"a,b,y\n1,2,3\n", "error[E0302]: `d.parquet` is not a Parquet file"),
    (b"PAR1 not really PAR1", "error[E0302]: cannot read `d.parquet`: "),
], ids=["csv text", "broken footer"])
def test_a_file_that_is_not_parquet_is_refused(tmp_path, content, message):
    text = refusal(tmp_path, 'linear 2->1\ndata "d.parquet"\n', {"d.parquet": content})
    assert text.startswith(message) and "\n --> s.nqa:2:6\n" in text and "write the file with pyarrow" in text, text


def test_a_file_over_the_limits_by_its_footer_is_streamed_rather_than_read_whole(tmp_path):
    content = parquet({"a": [1.0] * 50, "b": [2.0] * 50, "y": [0.0] * 50})
    spec = 'linear 2->1\ndata "d.parquet"\n'
    streamed = ("error[E0335]: `d.parquet` is streamed, so it is trained on in batches, but no `batch` size is "
                "given\n")
    for limits in (Limits(max_examples=10), Limits(max_data_bytes=100)):
        text = refusal(tmp_path, spec, {"d.parquet": content}, limits)
        assert text.startswith(streamed), text


def test_without_pyarrow_the_message_says_how_to_install_it(tmp_path):
    path = write(tmp_path, 'linear 2->1\ndata "d.parquet"\n', **{"d.parquet": parquet(ROWS)})
    code = ("import sys; sys.modules['pyarrow'] = None; from compiler import check; from spec_lang import SpecError\n"
            "try: check(__import__('pathlib').Path(sys.argv[1]))\n"
            "except SpecError as e: print(e.render(filename='s.nqa'))")
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, cwd=ROOT)
    assert done.stdout.startswith("error[E0904]: reading Parquet files needs pyarrow, which is not installed\n"
                                  " --> s.nqa:2:6\n"), done.stdout + done.stderr
    assert "install it with `pip install 'nqa[parquet]'`" in done.stdout


def test_checking_a_parquet_spec_does_not_import_torch(tmp_path):
    path = write(tmp_path, 'linear 2->1\ndata "d.parquet"\n', **{"d.parquet": parquet(ROWS)})
    code = ("import sys, pathlib; from compiler import check; check(pathlib.Path(sys.argv[1])); "
            "print('torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, cwd=ROOT)
    assert (done.returncode, done.stdout) == (0, "False\n"), done.stderr


def test_a_hover_on_the_file_shows_its_rows_and_columns_from_the_footer(tmp_path):
    from runtime.lsp.data_hover import data_file_doc

    path = write(tmp_path, 'data "d.parquet"\n', **{"d.parquet": parquet(ROWS)})
    shown = data_file_doc("d.parquet", "data", path, None)
    assert shown == "**`d.parquet`**: 6 rows, 3 columns\n\ncolumns: `a`, `b`, `y`"


def test_one_row_group_reads_alone_with_the_labels_given_and_rows_counted_in_the_file():
    """The piece a streamed read takes: a row group, its labels' indices those of the whole set."""
    from compiler.csv_layout import DataProblem
    from compiler.data_parquet import parquet_row_groups, parquet_table
    from compiler.settings import Data

    raw = parquet({"x": [1.0, 2.0, 3.0, 4.0, float("nan")], "y": ["b", "a", "c", "a", "d"]}, row_group_size=2)
    assert parquet_row_groups("d.parquet", raw) == (2, 2, 1)
    data, classes = Data(path="d.parquet"), ("a", "b", "c")
    piece = parquet_table(data, "d.parquet", raw, 1, True, Limits(), row_group=1, classes=classes)
    assert piece.inputs.tolist() == [3.0, 4.0] and piece.targets.tolist() == [2, 0] and piece.classes == classes
    with pytest.raises(DataProblem) as caught:
        parquet_table(data, "d.parquet", raw, 1, True, Limits(), row_group=2, classes=classes)
    assert caught.value.message == "`d.parquet` row 5, column `x`: nan is not a finite number"
    raw = parquet({"x": [1.0, 2.0, 3.0], "y": ["b", "a", "d"]}, row_group_size=2)
    with pytest.raises(DataProblem) as caught:
        parquet_table(data, "d.parquet", raw, 1, True, Limits(), row_group=1, classes=classes)
    assert caught.value.message == "`d.parquet` row 3, column `y`: `d` is not one of the classes `a`, `b`, `c`"


IRIS = "linear 4->8\nrelu\nlinear 8->3\nloss cross_entropy\noptimizer adam lr=0.01\nepochs 5\n"
IRIS_COLUMNS = 'inputs=sepal_length,sepal_width,petal_length,petal_width target=species'


def iris(rows: slice) -> dict:
    import csv

    with (ROOT / "specs/examples/iris.csv").open() as file:
        read = list(csv.DictReader(file))[rows]
    return {name: [row[name] if name == "species" else float(row[name]) for row in read] for name in read[0]}


def test_test_evaluate_and_predict_read_parquet_rows_as_csv_rows(tmp_path, monkeypatch, capsys):
    """Trained on Parquet (text labels), scored on a Parquet `test` file, evaluated and predicted from Parquet:
    the same numbers as the same rows in CSV files."""
    import json

    from runtime.cli import main

    monkeypatch.chdir(tmp_path)
    reports = {}
    for kind, written in (("parquet", parquet), ("csv", lambda columns: csv_text(columns).encode())):
        (tmp_path / f"train.{kind}").write_bytes(written(iris(slice(0, None, 2))))
        (tmp_path / f"test.{kind}").write_bytes(written(iris(slice(1, None, 2))))
        (tmp_path / f"{kind}.nqa").write_text(IRIS + f'data "train.{kind}" {IRIS_COLUMNS}\ntest "test.{kind}"\n')
        assert main(["run", f"{kind}.nqa", "--json", f"{kind}.json", "--save", f"{kind}.safetensors", "--no-log"]) == 0
        assert main(["evaluate", f"{kind}.nqa", "--load", f"{kind}.safetensors", "--data", f"test.{kind}",
                     "--json", f"{kind}-evaluate.json"]) == 0
        assert main(["predict", f"{kind}.nqa", "--load", f"{kind}.safetensors", "--data", f"test.{kind}",
                     "-o", f"{kind}-answers.csv"]) == 0
        report = json.loads((tmp_path / f"{kind}.json").read_text())
        reports[kind] = (report["losses"], report["test"]["loss"], report["test"]["rows"],
                         json.loads((tmp_path / f"{kind}-evaluate.json").read_text())["loss"],
                         (tmp_path / f"{kind}-answers.csv").read_text())
    capsys.readouterr()
    assert reports["parquet"][2] == 75 and reports["parquet"] == reports["csv"]
    inputs_only = {name: values for name, values in iris(slice(1, None, 2)).items() if name != "species"}
    (tmp_path / "new.parquet").write_bytes(parquet(inputs_only))
    assert main(["predict", "parquet.nqa", "--load", "parquet.safetensors", "--data", "new.parquet",
                 "-o", "new-answers.csv"]) == 0
    answers = (tmp_path / "new-answers.csv").read_text().splitlines()
    assert len(answers) == 76 and answers[1:] == reports["parquet"][4].splitlines()[1:]


def test_completion_offers_a_parquet_files_column_names(tmp_path):
    pytest.importorskip("lsprotocol", reason="the language server needs pygls (the extra `lsp`)")
    from lsprotocol.types import Position

    from runtime.lsp.completion import complete

    path = write(tmp_path, "", **{"d.parquet": parquet(ROWS)})
    line = 'data "d.parquet" inputs='
    assert [item.label for item in complete(line, path, Position(0, len(line)))] == ["a", "b", "y"]


@pytest.mark.parametrize("kind, big", [(pa.int64(), 2**53 + 1), (pa.int64(), -(2**63)), (pa.uint64(), 2**64 - 1)])
def test_integers_beyond_float64_s_exact_range_read_as_a_csv_file_of_them(tmp_path, kind, big):
    values = [big, 1, 3, 5, 7, 2]
    columns = {"a": pa.array(values, kind), "b": ROWS["b"], "y": ROWS["y"]}
    spec = 'linear 2->1\ndata "d.{}"\n'
    from_parquet = table(write(tmp_path, spec.format("parquet"), **{"d.parquet": parquet(columns)}))
    from_csv = table(write(tmp_path, spec.format("csv"), **{"d.csv": csv_text({**columns, "a": values})}))
    assert from_parquet.inputs.tolist()[::2] == [float(v) for v in values] == from_csv.inputs.tolist()[::2]
