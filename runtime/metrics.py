"""A trained network's scores on labelled rows, as scikit-learn defines them.

In: batches of predicted and true class indices (`ClassCounts.add`), or of
outputs and targets (`RegressionSums.add`), added as they come so that no
file is held whole. Out: `ClassificationMetrics` — accuracy; per class
precision, recall, F1 and support (a class never predicted has precision 0,
sklearn's `zero_division=0`); their macro average (over the classes found in
the true or the predicted rows, as sklearn's own label set) and their average
weighted by support; the confusion matrix (rows: true class, columns:
predicted) — or `RegressionMetrics`: MAE, RMSE and R² per target (R² as
sklearn's `r2_score`: 1 - SS_res/SS_tot; with constant targets 1.0 when every
prediction is exact, else 0.0; none for fewer than two rows). No torch here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ClassScore(_Frozen):
    label: str
    precision: float = Field(description="right among the rows predicted as this class (0 when none were)")
    recall: float = Field(description="found among the rows of this class (0 when there are none)")
    f1: float = Field(description="2 TP / (2 TP + FP + FN), 0 when that is 0/0")
    support: int = Field(description="rows of this class")


class Average(_Frozen):
    precision: float
    recall: float
    f1: float
    support: int


class ClassificationMetrics(_Frozen):
    accuracy: float = Field(description="share of rows whose predicted class is the true one")
    classes: tuple[ClassScore, ...]
    macro: Average = Field(description="plain mean over the classes found in the true or the predicted rows")
    weighted: Average = Field(description="mean over the classes weighted by their support")
    confusion: tuple[tuple[int, ...], ...] = Field(description="rows: the true class; columns: the predicted one, "
                                                               "in the order of `classes`")


class TargetScore(_Frozen):
    name: str
    mae: float = Field(description="mean absolute error")
    rmse: float = Field(description="root of the mean squared error")
    r2: float | None = Field(description="coefficient of determination, as sklearn's r2_score; None for one row")


class RegressionMetrics(_Frozen):
    targets: tuple[TargetScore, ...]


class ClassCounts:
    """The confusion matrix, filled batch by batch."""

    def __init__(self, labels: Sequence[str]) -> None:
        self.labels = tuple(labels)
        self.matrix = [[0] * len(self.labels) for _ in self.labels]

    def add(self, predicted: Sequence[int], actual: Sequence[int]) -> None:
        for guess, truth in zip(predicted, actual, strict=True):
            self.matrix[truth][guess] += 1

    def metrics(self) -> ClassificationMetrics:
        matrix, count = self.matrix, len(self.labels)
        total = sum(map(sum, matrix))
        scores = []
        for c in range(count):
            tp = matrix[c][c]
            predicted = sum(matrix[r][c] for r in range(count))
            support = sum(matrix[c])
            fp, fn = predicted - tp, support - tp
            scores.append(ClassScore(label=self.labels[c], precision=_ratio(tp, tp + fp), recall=_ratio(tp, tp + fn),
                                     f1=_ratio(2 * tp, 2 * tp + fp + fn), support=support))
        found = [s for c, s in enumerate(scores) if s.support or any(matrix[r][c] for r in range(count))]
        return ClassificationMetrics(accuracy=_ratio(sum(matrix[c][c] for c in range(count)), total),
                                     classes=tuple(scores), macro=_average(found, total, weighted=False),
                                     weighted=_average(scores, total, weighted=True),
                                     confusion=tuple(tuple(row) for row in matrix))


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def _average(scores: list[ClassScore], total: int, weighted: bool) -> Average:
    def mean(values: list[float]) -> float:
        if weighted:
            return _ratio(math.fsum(v * s.support for v, s in zip(values, scores, strict=True)), total)
        return _ratio(math.fsum(values), len(values))

    return Average(precision=mean([s.precision for s in scores]), recall=mean([s.recall for s in scores]),
                   f1=mean([s.f1 for s in scores]), support=total)


class RegressionSums:
    """Per target: absolute and squared errors summed, and the targets' mean and spread (Welford's way)."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = tuple(names)
        width = len(self.names)
        self.rows = 0
        self.absolute, self.squared = [0.0] * width, [0.0] * width
        self.mean, self.spread = [0.0] * width, [0.0] * width

    def add(self, outputs: Sequence[Sequence[float]], targets: Sequence[Sequence[float]]) -> None:
        for output, target in zip(outputs, targets, strict=True):
            self.rows += 1
            for j, (guess, truth) in enumerate(zip(output, target, strict=True)):
                error = guess - truth
                self.absolute[j] += abs(error)
                self.squared[j] += error * error
                moved = truth - self.mean[j]
                self.mean[j] += moved / self.rows
                self.spread[j] += moved * (truth - self.mean[j])

    def metrics(self) -> RegressionMetrics:
        n = max(self.rows, 1)
        return RegressionMetrics(targets=tuple(
            TargetScore(name=name, mae=self.absolute[j] / n, rmse=math.sqrt(self.squared[j] / n),
                        r2=_r2(self.squared[j], self.spread[j], self.rows))
            for j, name in enumerate(self.names)))


def _r2(residual: float, total: float, rows: int) -> float | None:
    if rows < 2:
        return None
    if total == 0.0:
        return 1.0 if residual == 0.0 else 0.0
    return 1.0 - residual / total
