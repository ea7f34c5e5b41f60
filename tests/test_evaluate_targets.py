"""`nqa evaluate` refuses targets its loss refuses, as a `data` or `test` file's are refused: a class
index outside the network's classes or not whole, a `bce`/`bce_logits` target outside 0 to 1 — with
exit 2 and the row, never an internal error or a metric that counted the row as another class."""

from __future__ import annotations

import pytest

from runtime.cli import main

CLASSES = """linear 2->4
tanh
linear 4->2
loss cross_entropy
epochs 3
example [0, 0] -> [0]
example [0, 1] -> [1]
"""
BINARY = """linear 2->1
data "train.csv" target=y
loss bce_logits
optimizer adam lr=0.1
epochs 5
"""


def _trained(folder, spec: str):
    (folder / "train.csv").write_text("a,b,y\n0.1,0.2,1\n0.3,0.1,0\n0.5,0.5,1\n")
    path = folder / "n.nqa"
    path.write_text(spec)
    weights = folder / "w.safetensors"
    assert main(["run", str(path), "--save", str(weights), "--quiet"]) == 0
    return path, weights


@pytest.mark.parametrize("row, why", [("0,0,5", "the class index must be a whole number from 0 to 1, not 5"),
                                      ("0,0,-1", "the class index must be a whole number from 0 to 1, not -1"),
                                      ("0,0,1.5", "the class index must be a whole number from 0 to 1, not 1.5")])
def test_a_class_index_the_network_has_no_class_for(tmp_path, capsys, row, why):
    spec, weights = _trained(tmp_path, CLASSES)
    (tmp_path / "t.csv").write_text(row + "\n")
    capsys.readouterr()
    assert main(["evaluate", str(spec), "--load", str(weights), "--data", str(tmp_path / "t.csv")]) == 2
    err = capsys.readouterr().err
    assert f"error[E0315]: `{tmp_path / 't.csv'}` row 1: {why}" in err
    assert "hint: give the index of the right class, from 0 to 1" in err and "Traceback" not in err


@pytest.mark.parametrize("target", ["2", "-1"])
def test_a_bce_logits_target_outside_0_to_1_is_refused_by_evaluate_and_by_check(tmp_path, capsys, target):
    spec, weights = _trained(tmp_path, BINARY)
    (tmp_path / "t.csv").write_text(f"a,b,y\n0.1,0.2,{target}\n")
    capsys.readouterr()
    assert main(["evaluate", str(spec), "--load", str(weights), "--data", str(tmp_path / "t.csv")]) == 2
    err = capsys.readouterr().err
    assert "row 1: `bce_logits` targets must lie between 0 and 1" in err and "Traceback" not in err
    tested = tmp_path / "tested.nqa"
    tested.write_text(BINARY + 'test "t.csv"\n')
    assert main(["check", str(tested)]) == 2  # refused before any training, at the `test` statement
    err = capsys.readouterr().err
    assert "row 1: `bce_logits` targets must lie between 0 and 1" in err
    assert '6 | test "t.csv"' in err


def test_a_probability_target_counts_as_the_class_a_prediction_of_it_would_be(tmp_path, capsys):
    spec, weights = _trained(tmp_path, BINARY)
    (tmp_path / "t.csv").write_text("a,b,y\n0.1,0.2,0.5\n0.3,0.1,0.2\n")
    capsys.readouterr()
    assert main(["evaluate", str(spec), "--load", str(weights), "--data", str(tmp_path / "t.csv"), "--json", "-"]) == 0
    import json

    metrics = json.loads(capsys.readouterr().out)["classification"]
    supports = {row["label"]: row["support"] for row in metrics["classes"]}
    assert supports == {"0": 1, "1": 1}  # 0.5 reads as 1 (as an output of 0.5 predicts 1), 0.2 as 0
