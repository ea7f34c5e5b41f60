"""`nqa predict`: a network trained and saved by `nqa run --save` answers new rows as its run's own
`eval` lines do; the CSV it writes keeps the input columns and adds the answers."""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np
import pytest

from conftest import ROOT
from runtime.cli import main

IRIS, TEMPS = "specs/examples/iris.nqa", "specs/examples/temperatures.nqa"
COLUMNS = "sepal_length,sepal_width,petal_length,petal_width"


def _trained(factory, spec: str, epochs: int):
    """Weights saved by `nqa run --save` and the run's JSON report."""
    folder = factory.mktemp("trained")
    weights, report = folder / "w.safetensors", folder / "report.json"
    assert main(["run", str(ROOT / spec), "--epochs", str(epochs), "--save", str(weights), "--json", str(report),
                 "--quiet"]) == 0
    return weights, json.loads(report.read_text())


@pytest.fixture(scope="module")
def iris(tmp_path_factory):
    return _trained(tmp_path_factory, IRIS, 20)


@pytest.fixture(scope="module")
def temps(tmp_path_factory):
    return _trained(tmp_path_factory, TEMPS, 200)


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_a_classifier_answers_the_eval_rows_as_its_run_did(iris, tmp_path, capsys):
    weights, report = iris
    rows = tmp_path / "new.csv"
    rows.write_text(COLUMNS + "\n" + "\n".join(",".join(f"{v:g}" for v in e["input"]) for e in report["eval"]) + "\n")
    assert main(["predict", str(ROOT / IRIS), "--load", str(weights), "--data", str(rows)]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0] == COLUMNS + ",predicted,p_setosa,p_versicolor,p_virginica"
    for row, result in zip(_rows(text), report["eval"], strict=True):
        assert [float(row[c]) for c in COLUMNS.split(",")] == result["input"]
        assert row["predicted"] == result["predicted"]
        scale = max(result["output"])
        chances = [math.exp(v - scale) for v in result["output"]]
        expected = [c / sum(chances) for c in chances]
        assert [float(row[f"p_{c}"]) for c in ("setosa", "versicolor", "virginica")] == pytest.approx(
            expected, rel=1e-5, abs=1e-9)
        assert float(row[f"p_{row['predicted']}"]) == pytest.approx(result["probability"], rel=1e-5)


def test_one_input_gives_exactly_the_eval_output(iris, capsys):
    weights, report = iris
    first = report["eval"][0]
    vector = "[" + ", ".join(repr(v) for v in first["input"]) + "]"
    assert main(["predict", str(ROOT / IRIS), "--load", str(weights), "--input", vector, "--json", "-"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["output"] == first["output"]
    assert (answer["predicted"], answer["probability"]) == (first["predicted"], first["probability"])
    assert set(answer["probabilities"]) == {"setosa", "versicolor", "virginica"}
    assert main(["predict", str(ROOT / IRIS), "--load", str(weights), "--input", vector]) == 0
    text = capsys.readouterr().out
    assert f"predicted {first['predicted']} (p=" in text
    assert text.splitlines()[0] == "input  [5.1, 3.5, 1.4, 0.2]"


def test_a_regression_names_its_output_after_the_target_and_writes_a_file(temps, tmp_path, capsys):
    weights, report = temps
    rows, out = tmp_path / "c.csv", tmp_path / "out.csv"
    rows.write_text("celsius\n" + "\n".join(f"{e['input'][0]:g}" for e in report["eval"]) + "\n")
    assert main(["predict", str(ROOT / TEMPS), "--load", str(weights), "--data", str(rows), "-o", str(out)]) == 0
    assert capsys.readouterr().err.endswith(f"{out}: 3 predictions written\n")
    found = _rows(out.read_text())
    assert list(found[0]) == ["celsius", "fahrenheit"]
    assert [float(r["fahrenheit"]) for r in found] == pytest.approx([e["output"][0] for e in report["eval"]], rel=1e-6)


def test_target_columns_may_be_there_and_are_left_out(temps, capsys):
    weights, _ = temps
    assert main(["predict", str(ROOT / TEMPS), "--load", str(weights), "--data",
                 str(ROOT / "specs/examples/temperatures.csv")]) == 0
    found = _rows(capsys.readouterr().out)
    assert len(found) == 29 and list(found[0]) == ["celsius", "fahrenheit"]
    assert found[0]["celsius"] == "-40" and float(found[0]["fahrenheit"]) == pytest.approx(-40, abs=1.0)


def test_many_rows_go_through_in_batches_with_the_same_answers(iris, tmp_path, capsys):
    weights, _ = iris
    lines = (ROOT / "specs/examples/iris.csv").read_text().splitlines()
    rows = tmp_path / "many.csv"
    rows.write_text("\n".join([lines[0]] + lines[1:] * 10) + "\n")  # 1,500 rows: two batches
    assert main(["predict", str(ROOT / IRIS), "--load", str(weights), "--data", str(rows)]) == 0
    found = _rows(capsys.readouterr().out)
    assert len(found) == 1500
    assert [r["predicted"] for r in found[:150]] == [r["predicted"] for r in found[1350:]]
    assert float(found[0]["p_setosa"]) == pytest.approx(float(found[1200]["p_setosa"]), rel=1e-5)


def test_an_npz_file_without_targets(iris, tmp_path, capsys):
    weights, report = iris
    spec = tmp_path / "iris.nqa"
    spec.write_text((ROOT / IRIS).read_text().replace(
        'data "iris.csv" inputs=sepal_length,sepal_width,petal_length,petal_width target=species', 'data "iris.csv"'))
    (tmp_path / "iris.csv").write_text((ROOT / "specs/examples/iris.csv").read_text())
    np.savez(tmp_path / "new.npz", x=np.array([e["input"] for e in report["eval"]], dtype=np.float32))
    assert main(["predict", str(spec), "--load", str(weights), "--data", str(tmp_path / "new.npz")]) == 0
    found = _rows(capsys.readouterr().out)
    assert list(found[0])[:5] == ["x_0", "x_1", "x_2", "x_3", "predicted"]
    assert [r["predicted"] for r in found] == [e["predicted"] for e in report["eval"]]


def test_a_bce_network_answers_0_or_1_with_its_probability(tmp_path, capsys):
    (tmp_path / "d.csv").write_text("a,b,y\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n")
    spec = tmp_path / "s.nqa"
    spec.write_text('linear 2->8\ntanh\nlinear 8->1\nsigmoid\nloss bce\ndata "d.csv" inputs=a,b target=y\n'
                    "optimizer adam lr=0.05\nepochs 300\neval [0, 1]\n")
    weights, report = tmp_path / "w.safetensors", tmp_path / "r.json"
    assert main(["run", str(spec), "--save", str(weights), "--json", str(report), "--quiet"]) == 0
    [result] = json.loads(report.read_text())["eval"]
    assert "predicted" not in result or result["predicted"] is None  # classes are for cross_entropy
    assert main(["predict", str(spec), "--load", str(weights), "--data", str(tmp_path / "d.csv")]) == 0
    found = _rows(capsys.readouterr().out)
    assert list(found[0]) == ["a", "b", "y", "p_y"]
    assert [r["y"] for r in found] == [str(int(float(r["p_y"]) >= 0.5)) for r in found]
    assert float(found[1]["p_y"]) == pytest.approx(result["output"][0], rel=1e-6)
    assert main(["evaluate", str(spec), "--load", str(weights), "--data", str(tmp_path / "d.csv"), "--json", "-"]) == 0
    scored = json.loads(capsys.readouterr().out)["classification"]
    assert [c["label"] for c in scored["classes"]] == ["0", "1"]
    truth = ["0", "1", "1", "0"]
    assert scored["accuracy"] == sum(r["y"] == t for r, t in zip(found, truth, strict=True)) / 4
