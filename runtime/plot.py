"""`--plot loss.png`: the loss at every step, as a picture.

In: a `Report` and a path. Out: a PNG of the loss curve: each step's loss, the
mean of each epoch at its last step when an epoch has several steps, and the
held-out loss when the spec has `validate` (log scale when the loss spans
several orders of magnitude), written atomically. Needs matplotlib (the
`plot` extra), imported only here.
"""

from __future__ import annotations

import io
from pathlib import Path

from .files import write_atomic
from .report import Report


def plot_losses(report: Report, path: Path) -> None:
    from matplotlib import pyplot as plt

    figure = loss_figure(report)
    buffer = io.BytesIO()
    figure.savefig(buffer, format=Path(path).suffix.lstrip(".") or "png")
    plt.close(figure)
    write_atomic(path, buffer.getvalue())


def loss_figure(report: Report):
    """The matplotlib figure of the loss curves (close it with `pyplot.close`)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    steps, per_epoch = len(report.losses), report.training.batches_per_epoch
    figure, axes = plt.subplots(figsize=(6, 3.5), dpi=120)
    several = per_epoch > 1
    axes.plot(range(1, steps + 1), report.losses, color="#1f5fa8", linewidth=0.8 if several else 1.5,
              alpha=0.45 if several else 1.0, label="training (each step)")
    if several and report.epoch_losses:
        ends = [min(per_epoch * (e + 1), steps) for e in range(len(report.epoch_losses))]
        axes.plot(ends, report.epoch_losses, color="#1a3a6b", linewidth=1.8, label="training (mean of each epoch)")
    if report.validation is not None and report.validation.losses:
        epochs = [per_epoch * (e + 1) for e in range(len(report.validation.losses))]
        axes.plot(epochs, report.validation.losses, color="#c0392b", linewidth=1.5,
                  label=f"validation ({report.validation.rows} held-out rows, each epoch)")
    if several or report.validation is not None:
        axes.legend(fontsize=8)
    positive = [x for x in report.losses if x > 0]
    if positive and max(positive) / min(positive) > 1000:
        axes.set_yscale("log")
    axes.set_xlabel("step")
    axes.set_ylabel(f"loss ({report.loss.name})")
    axes.set_title(f"{report.spec}, seed {report.seed}", fontsize=10)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    return figure
