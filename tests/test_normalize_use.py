"""A network trained with `normalize` is used on raw rows: `nqa predict`, `nqa evaluate` and a spec's
`test` file scale them by the training rows' statistics that the weights carry, so they answer as the
run's own `eval` lines do; weights saved without statistics are refused for a spec that normalises."""

from __future__ import annotations

import csv
import io
import json

import pytest

from runtime.cli import main

COLUMNS = ["a", "b"]
SPEC = """linear 2->8
relu
linear 8->2
data "train.csv" target=y
normalize
optimizer adam lr=0.05
loss cross_entropy
epochs 40
seed 1
eval [1000, 0.001]
eval [3000, 0.004]
"""


def _rows(count: int, start: int) -> str:
    """Two columns on scales a million apart; the class is which side of the middle the second lies."""
    lines = []
    for i in range(start, start + count):
        b = (i * 37 % 101) / 20000
        lines.append(f"{1000 + i * 13 % 2000},{b},{'high' if b > 0.0025 else 'low'}")
    return "a,b,y\n" + "\n".join(lines) + "\n"


@pytest.fixture
def trained(tmp_path):
    (tmp_path / "train.csv").write_text(_rows(80, 0))
    (tmp_path / "new.csv").write_text(_rows(30, 500))
    spec = tmp_path / "n.nqa"
    spec.write_text(SPEC)
    weights, report = tmp_path / "w.safetensors", tmp_path / "r.json"
    assert main(["run", str(spec), "--save", str(weights), "--json", str(report), "--quiet"]) == 0
    return tmp_path, spec, weights, json.loads(report.read_text())


def test_predict_scales_raw_rows_as_the_run_scaled_its_eval_inputs(trained, capsys):
    folder, spec, weights, report = trained
    rows = folder / "evals.csv"
    rows.write_text("a,b\n" + "\n".join(",".join(f"{v:g}" for v in e["input"]) for e in report["eval"]) + "\n")
    capsys.readouterr()
    assert main(["predict", str(spec), "--load", str(weights), "--data", str(rows)]) == 0
    answers = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [a["predicted"] for a in answers] == [e["predicted"] for e in report["eval"]]
    for answer, result in zip(answers, report["eval"], strict=True):
        assert float(answer[f"p_{result['predicted']}"]) == pytest.approx(result["probability"], rel=1e-5)


def test_evaluate_and_the_test_statement_agree_on_scaled_rows(trained, capsys):
    folder, spec, weights, _ = trained
    capsys.readouterr()
    assert main(["evaluate", str(spec), "--load", str(weights), "--data", str(folder / "new.csv"),
                 "--json", "-"]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated["classification"]["accuracy"] >= 0.9  # unscaled, the net could not tell the classes apart
    tested = folder / "t.nqa"
    tested.write_text(SPEC + 'test "new.csv"\n')
    assert main(["run", str(tested), "--json", "-"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["test"]["classification"] == evaluated["classification"]
    assert report["test"]["loss"] == pytest.approx(evaluated["loss"], rel=1e-6)


def test_weights_without_statistics_are_refused_for_a_spec_that_normalises(trained, capsys):
    folder, spec, _, _ = trained
    plain = folder / "plain.nqa"
    plain.write_text(SPEC.replace("normalize\n", ""))
    bare = folder / "bare.safetensors"
    assert main(["run", str(plain), "--save", str(bare), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["predict", str(spec), "--load", str(bare), "--input", "[1000, 0.001]"]) == 2
    err = capsys.readouterr().err
    assert "holds no input statistics, but this spec normalises its inputs (`normalize`)" in err
    assert "Traceback" not in err
