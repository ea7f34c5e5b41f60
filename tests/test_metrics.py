"""The metrics of `nqa evaluate` and of a `test` file agree with scikit-learn's: the numbers in
tests/data/metrics_reference.json were not computed by nqa (the file says how they were)."""

from __future__ import annotations

import json

import pytest

from conftest import ROOT
from runtime.metrics import ClassCounts, RegressionSums

REFERENCE = json.loads((ROOT / "tests/data/metrics_reference.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", REFERENCE["classification"], ids=lambda case: case["name"])
def test_classification_metrics_are_sklearns(case):
    counts = ClassCounts(case["labels"])
    half = len(case["y_true"]) // 2  # added in two batches, as rows come
    counts.add(case["y_pred"][:half], case["y_true"][:half])
    counts.add(case["y_pred"][half:], case["y_true"][half:])
    found = counts.metrics()
    assert found.accuracy == pytest.approx(case["accuracy"])
    assert [list(row) for row in found.confusion] == case["confusion"]
    for what in ("precision", "recall", "f1", "support"):
        assert [getattr(c, what) for c in found.classes] == pytest.approx(case[what]), what
    for average in ("macro", "weighted"):
        for what, expected in case[average].items():
            assert getattr(getattr(found, average), what) == pytest.approx(expected), (average, what)
    assert found.weighted.support == len(case["y_true"])


@pytest.mark.parametrize("case", REFERENCE["regression"], ids=lambda case: case["name"])
def test_regression_metrics_are_sklearns(case):
    sums = RegressionSums([f"t{i}" for i in range(len(case["y_true"][0]))])
    sums.add(case["y_pred"][:1], case["y_true"][:1])
    sums.add(case["y_pred"][1:], case["y_true"][1:])
    found = sums.metrics().targets
    assert [t.mae for t in found] == pytest.approx(case["mae"], rel=1e-6, abs=1e-15)
    assert [t.rmse for t in found] == pytest.approx(case["rmse"], rel=1e-6, abs=1e-15)
    assert [t.r2 for t in found] == pytest.approx(case["r2"], rel=1e-12)


def test_one_row_has_no_r2_and_its_errors():
    sums = RegressionSums(["y"])
    sums.add([[1.5]], [[1.0]])
    [target] = sums.metrics().targets
    assert (target.mae, target.rmse, target.r2) == (0.5, 0.5, None)
