"""The `test "file"` statement: rows read when the spec is checked (with the `data` statement's
options), scored by `nqa run` once training ends, in the text report and the JSON report's `test`."""

from __future__ import annotations

import json

import pytest

from conftest import ROOT
from runtime.cli import main

SPEC = """linear 4->8
relu
linear 8->3
data "train.csv" inputs=sepal_length,sepal_width,petal_length,petal_width target=species
test "test.csv"
loss cross_entropy
optimizer adam lr=0.01
epochs 5
"""


@pytest.fixture
def folder(tmp_path, monkeypatch):
    lines = (ROOT / "specs/examples/iris.csv").read_text().splitlines()
    (tmp_path / "train.csv").write_text("\n".join([lines[0]] + lines[1::2]) + "\n")
    (tmp_path / "test.csv").write_text("\n".join([lines[0]] + lines[2::2]) + "\n")
    (tmp_path / "spec.nqa").write_text(SPEC)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_run_reports_the_test_metrics_as_evaluate_gives_them(folder, capsys):
    assert main(["run", "spec.nqa", "--json", "report.json", "--save", "w.safetensors"]) == 0
    text = capsys.readouterr().out
    test = json.loads((folder / "report.json").read_text())["test"]
    assert test["rows"] == 75 and test["data"] == "test.csv" and test["task"] == "classification"
    section = text[text.index("\ntest\n"):]
    assert section.startswith("\ntest\n  rows 75 from test.csv\n  loss ")
    assert f"  accuracy {100 * test['classification']['accuracy']:.2f}%" in section
    assert main(["evaluate", "spec.nqa", "--load", "w.safetensors", "--data", "test.csv", "--json", "-"]) == 0
    alone = json.loads(capsys.readouterr().out)
    assert alone["classification"] == test["classification"]
    assert alone["loss"] == pytest.approx(test["loss"], rel=1e-6)


def test_a_spec_without_test_has_no_test_section(folder, capsys):
    (folder / "spec.nqa").write_text(SPEC.replace('test "test.csv"\n', ""))
    assert main(["run", "spec.nqa", "--json", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["test"] is None


def _checked(capsys) -> str:
    assert main(["check", "spec.nqa"]) == 2
    return capsys.readouterr().err


def test_a_missing_test_file_is_found_by_check(folder, capsys):
    (folder / "test.csv").unlink()
    assert _checked(capsys) == ("error[E0301]: cannot read `test.csv`: no such file\n --> spec.nqa:5:6\n  |\n"
                                "5 | test \"test.csv\"\n  |      ^^^^^^^^^^ no such file\n"
                                "  = hint: paths are relative to the spec's folder\n")


def test_a_class_the_training_data_lacks(folder, capsys):
    with (folder / "test.csv").open("a") as rows:
        rows.write("5.0,3.0,1.5,0.2,rose\n")
    assert _checked(capsys).startswith("error[E0316]: `test.csv` holds the class `rose`, which the network was not "
                                       "trained on (its classes are `setosa`, `versicolor`, `virginica`)\n"
                                       " --> spec.nqa:5:6\n")


def test_a_text_cell_in_the_test_file(folder, capsys):
    with (folder / "test.csv").open("a") as rows:
        rows.write("5.0,x,1.5,0.2,setosa\n")
    err = _checked(capsys)
    assert err.startswith("error[E0311]: `test.csv` line 77, column `sepal_width`: `x` is not a finite number\n"
                          " --> spec.nqa:5:6\n")


def test_test_rows_need_their_targets(folder, capsys):
    (folder / "test.csv").write_text("sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n")
    assert _checked(capsys).startswith("error[E0307]: `test.csv` has no column `species`\n --> spec.nqa:5:6\n")


def test_without_a_data_statement_columns_go_by_width(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "t.csv").write_text("1,2,3\n2,1,3\n")
    (tmp_path / "spec.nqa").write_text("linear 2->1\nexample [1, 1] -> [2]\nexample [0, 1] -> [1]\n"
                                       "test \"t.csv\"\nepochs 3\n")
    assert main(["run", "spec.nqa", "--json", "-"]) == 0
    test = json.loads(capsys.readouterr().out)["test"]
    assert test["task"] == "regression" and test["rows"] == 2
    assert [t["name"] for t in test["regression"]["targets"]] == ["output_0"]


def test_no_output_is_written_over_the_test_file(folder, capsys):
    before = (folder / "test.csv").read_bytes()
    assert main(["run", "spec.nqa", "--json", "test.csv"]) == 2
    assert capsys.readouterr().err == ("error[E0905]: --json `test.csv` would write over the test file `test.csv`\n"
                                       "  = hint: give --json another file name: nqa never writes over its inputs\n")
    assert (folder / "test.csv").read_bytes() == before


def test_runs_and_sweeps_say_the_test_file_is_not_scored(folder, capsys):
    assert main(["run", "spec.nqa", "--runs", "2", "-q"]) == 0
    assert ("nqa: the `test` file is not scored with --runs: train one seed with `nqa run SPEC` to score it "
            "(or score saved weights with `nqa evaluate`)") in capsys.readouterr().err
    (folder / "sweep.nqa").write_text(SPEC.replace("adam lr=0.01", "adam lr=choice(0.01, 0.02)"))
    assert main(["run", "sweep.nqa", "-q"]) == 0
    assert "nqa: the `test` file is not scored in a sweep" in capsys.readouterr().err
