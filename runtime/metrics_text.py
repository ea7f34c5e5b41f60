"""An `Evaluation` as text: the loss, then the classification table and confusion matrix, or the
regression table. In: an `evaluation.Evaluation`. Out: lines of text (no trailing newline), labels
from the data with their control characters spelt out."""

from __future__ import annotations

from spec_lang import visible

from .answers import Evaluation
from .metrics import ClassificationMetrics, RegressionMetrics


def evaluation_lines(e: Evaluation) -> list[str]:
    from .text_report import num

    lines = [f"rows {e.rows:,} from {visible(e.data)}", f"loss {num(e.loss) if e.loss is not None else 'not finite'}"]
    if e.classification is not None:
        lines += classification_lines(e.classification)
    if e.regression is not None:
        lines += regression_lines(e.regression)
    return lines


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in
                             enumerate(zip(row, widths, strict=True))).rstrip() for row in rows]


def _score(value: float) -> str:
    return f"{value:.4f}"


def classification_lines(m: ClassificationMetrics) -> list[str]:
    lines = [f"accuracy {100 * m.accuracy:.2f}%", "", "per class"]
    rows = [["class", "precision", "recall", "f1", "support"]]
    rows += [[visible(c.label), _score(c.precision), _score(c.recall), _score(c.f1), str(c.support)]
             for c in m.classes]
    rows += [[name, _score(a.precision), _score(a.recall), _score(a.f1), str(a.support)]
             for name, a in (("macro avg", m.macro), ("weighted avg", m.weighted))]
    lines += _table(rows)
    lines += ["", "confusion matrix (rows: true class, columns: predicted)"]
    labels = [visible(c.label) for c in m.classes]
    lines += _table([["", *labels]] + [[label, *map(str, row)] for label, row in zip(labels, m.confusion,
                                                                                      strict=True)])
    return lines


def regression_lines(m: RegressionMetrics) -> list[str]:
    from .text_report import num

    rows = [["target", "MAE", "RMSE", "R²"]]
    rows += [[visible(t.name), num(t.mae), num(t.rmse), num(t.r2) if t.r2 is not None else "-"] for t in m.targets]
    return _table(rows)
