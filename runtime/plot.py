"""`--plot loss.png`: the loss at every step, as a picture.

In: a `Report` and a path. Out: a PNG of the loss curve, with the held-out
loss when the spec has `validate` (log scale when the loss spans several
orders of magnitude), written atomically. Needs matplotlib
(the `plot` extra), imported only here.
"""

from __future__ import annotations

import io
from pathlib import Path

from .files import write_atomic
from .report import Report


def plot_losses(report: Report, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    steps = range(1, len(report.losses) + 1)
    figure, axes = plt.subplots(figsize=(6, 3.5), dpi=120)
    axes.plot(steps, report.losses, color="#1f5fa8", linewidth=1.5, label="training (each step)")
    if report.validation is not None and report.validation.losses:
        per_epoch = report.training.batches_per_epoch
        epochs = [per_epoch * (e + 1) for e in range(len(report.validation.losses))]
        axes.plot(epochs, report.validation.losses, color="#c0392b", linewidth=1.5,
                  label=f"validation ({report.validation.rows} held-out rows, each epoch)")
        axes.legend(fontsize=8)
    positive = [x for x in report.losses if x > 0]
    if positive and max(positive) / min(positive) > 1000:
        axes.set_yscale("log")
    axes.set_xlabel("step")
    axes.set_ylabel(f"loss ({report.loss.name})")
    axes.set_title(f"{report.spec}, seed {report.seed}", fontsize=10)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format=Path(path).suffix.lstrip(".") or "png")
    plt.close(figure)
    write_atomic(path, buffer.getvalue())
