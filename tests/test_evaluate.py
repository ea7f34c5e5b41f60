"""`nqa evaluate`: the loss and metrics of a saved network on labelled rows agree with the same
numbers worked out here, plainly, from the answers `nqa predict` gives for those rows."""

from __future__ import annotations

import csv
import io
import json
import math

import pytest

from conftest import ROOT
from runtime.cli import main

IRIS, TEMPS = "specs/examples/iris.nqa", "specs/examples/temperatures.nqa"
IRIS_CSV, TEMPS_CSV = ROOT / "specs/examples/iris.csv", ROOT / "specs/examples/temperatures.csv"
CLASSES = ("setosa", "versicolor", "virginica")


@pytest.fixture(scope="module")
def iris(tmp_path_factory):
    path = tmp_path_factory.mktemp("w") / "iris.safetensors"
    assert main(["run", str(ROOT / IRIS), "--epochs", "3", "--save", str(path), "--quiet"]) == 0
    return path


@pytest.fixture(scope="module")
def temps(tmp_path_factory):
    path = tmp_path_factory.mktemp("w") / "temps.safetensors"
    assert main(["run", str(ROOT / TEMPS), "--epochs", "100", "--save", str(path), "--quiet"]) == 0
    return path


def _json(capsys, *argv: str) -> dict:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def _predicted(capsys, spec: str, weights, data) -> list[dict[str, str]]:
    assert main(["predict", spec, "--load", str(weights), "--data", str(data)]) == 0
    return list(csv.DictReader(io.StringIO(capsys.readouterr().out)))


def test_classification_metrics_are_those_of_the_predictions(iris, capsys):
    found = _json(capsys, "evaluate", str(ROOT / IRIS), "--load", str(iris), "--data", str(IRIS_CSV), "--json", "-")
    answers = _predicted(capsys, str(ROOT / IRIS), iris, IRIS_CSV)
    truth = [row["species"] for row in csv.DictReader(IRIS_CSV.open())]
    guess = [row["predicted"] for row in answers]
    assert found["rows"] == 150 and found["task"] == "classification"
    metrics = found["classification"]
    assert metrics["accuracy"] == pytest.approx(sum(t == g for t, g in zip(truth, guess, strict=True)) / 150)
    assert metrics["confusion"] == [[sum(t == a and g == b for t, g in zip(truth, guess, strict=True))
                                     for b in CLASSES] for a in CLASSES]
    for score in metrics["classes"]:
        c = score["label"]
        tp = sum(t == c and g == c for t, g in zip(truth, guess, strict=True))
        predicted, support = guess.count(c), truth.count(c)
        assert score["precision"] == pytest.approx(tp / predicted if predicted else 0.0)
        assert score["recall"] == pytest.approx(tp / support)
        assert score["f1"] == pytest.approx(2 * tp / (predicted + support))
        assert score["support"] == support
    assert metrics["weighted"]["recall"] == pytest.approx(metrics["accuracy"])  # as in sklearn, by definition
    expected_loss = -sum(math.log(float(row[f"p_{t}"])) for row, t in zip(answers, truth, strict=True)) / 150
    assert found["loss"] == pytest.approx(expected_loss, rel=1e-5)


def test_regression_metrics_are_those_of_the_predictions(temps, capsys):
    found = _json(capsys, "evaluate", str(ROOT / TEMPS), "--load", str(temps), "--data", str(TEMPS_CSV),
                  "--json", "-")
    answers = _predicted(capsys, str(ROOT / TEMPS), temps, TEMPS_CSV)
    truth = [float(row["fahrenheit"]) for row in csv.DictReader(TEMPS_CSV.open())]
    guess = [float(row["fahrenheit"]) for row in answers]
    errors = [g - t for g, t in zip(guess, truth, strict=True)]
    mean = sum(truth) / len(truth)
    [target] = found["regression"]["targets"]
    assert target["name"] == "fahrenheit"
    assert target["mae"] == pytest.approx(sum(map(abs, errors)) / len(errors), rel=1e-6)
    assert target["rmse"] == pytest.approx(math.sqrt(sum(e * e for e in errors) / len(errors)), rel=1e-6)
    assert target["r2"] == pytest.approx(1 - sum(e * e for e in errors) / sum((t - mean) ** 2 for t in truth),
                                         rel=1e-6)
    assert found["loss"] == pytest.approx(sum(e * e for e in errors) / len(errors), rel=1e-5)


def test_the_text_shows_the_table_and_the_confusion_matrix(iris, tmp_path, capsys):
    written = tmp_path / "e.json"
    assert main(["evaluate", str(ROOT / IRIS), "--load", str(iris), "--data", str(IRIS_CSV),
                 "--json", str(written)]) == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert lines[0] == f"rows 150 from {IRIS_CSV}"
    assert lines[3:5] == ["", "per class"]
    assert lines[5].split() == ["class", "precision", "recall", "f1", "support"]
    assert [line.split()[0] for line in lines[6:9]] == list(CLASSES)
    assert "confusion matrix (rows: true class, columns: predicted)" in lines
    assert json.loads(written.read_text())["rows"] == 150


def test_plot_draws_the_confusion_matrix(iris, tmp_path, capsys):
    picture = tmp_path / "cm.png"
    assert main(["evaluate", str(ROOT / IRIS), "--load", str(iris), "--data", str(IRIS_CSV),
                 "--plot", str(picture)]) == 0
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_of_a_regression_is_refused(temps, tmp_path, capsys):
    assert main(["evaluate", str(ROOT / TEMPS), "--load", str(temps), "--data", str(TEMPS_CSV),
                 "--plot", str(tmp_path / "cm.png")]) == 2
    assert capsys.readouterr().err.startswith("error[E0902]: --plot draws the confusion matrix of a classifier, and "
                                              "this network's loss `mse` makes it a regression\n")


def test_rows_without_targets_or_with_an_unknown_class(iris, tmp_path, capsys):
    rows = tmp_path / "new.csv"
    rows.write_text("sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n")
    assert main(["evaluate", str(ROOT / IRIS), "--load", str(iris), "--data", str(rows)]) == 2
    assert capsys.readouterr().err.startswith(f"error[E0307]: `{rows}` has no column `species`\n")
    rows.write_text("sepal_length,sepal_width,petal_length,petal_width,species\n5.1,3.5,1.4,0.2,rose\n")
    assert main(["evaluate", str(ROOT / IRIS), "--load", str(iris), "--data", str(rows)]) == 2
    assert capsys.readouterr().err.startswith(
        f"error[E0316]: `{rows}` holds the class `rose`, which the network was not trained on (its classes are "
        "`setosa`, `versicolor`, `virginica`)\n")


def test_a_file_of_one_class_keeps_the_training_labels(iris, tmp_path, capsys):
    rows = tmp_path / "virginica.csv"
    lines = IRIS_CSV.read_text().splitlines()
    rows.write_text("\n".join([lines[0]] + [line for line in lines if line.endswith(",virginica")]) + "\n")
    found = _json(capsys, "evaluate", str(ROOT / IRIS), "--load", str(iris), "--data", str(rows), "--json", "-")
    assert [c["label"] for c in found["classification"]["classes"]] == list(CLASSES)
    assert [c["support"] for c in found["classification"]["classes"]] == [0, 0, 50]


def test_the_schema_command_knows_the_evaluation(capsys):
    schema = _json(capsys, "schema", "evaluate")
    assert set(schema["properties"]) >= {"loss", "rows", "task", "classification", "regression"}
    assert "Prediction" in json.dumps(_json(capsys, "schema", "predict")["title"])
