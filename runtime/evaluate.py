"""`nqa evaluate SPEC --load W --data test.csv [--json PATH|-] [--plot cm.png]`.

In: the parsed command line. Out: the loss and the metrics of the trained
network on the file's labelled rows (`evaluation.Evaluation`): as text on
standard output, as JSON with `--json` (`-`: only JSON on standard output),
and for a classifier the confusion matrix drawn with `--plot` (needs
matplotlib, imported only then). Every output is written atomically, and none
may be the spec, its data, the weights or the rows read.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from compiler import Limits
from spec_lang import codes, usage_error, visible

from .answers import Evaluation
from .evaluation import evaluate_rows
from .files import check_outputs, spec_inputs, write_atomic
from .json_text import json_text
from .metrics_text import evaluation_lines
from .trained import load_network, read_rows


def evaluate_command(args, limits: Limits) -> int:
    from .commands import needs_matplotlib

    needs_matplotlib(args.plot)
    outputs = {"--json": None if args.json in (None, "-") else args.json, "--plot": args.plot}
    inputs = {"the spec": args.spec, "the --load file": args.load, "the --data file": args.data}
    check_outputs(outputs, inputs)
    loaded = load_network(args.spec, args.load, limits, args.allow_outside_data, "nqa evaluate")
    check_outputs(outputs, {**inputs, **spec_inputs(args.spec, loaded.program)})
    if args.plot and loaded.task.kind == "values":
        raise usage_error("--plot draws the confusion matrix of a classifier, and this network's loss "
                          f"`{loaded.program.spec.loss.keyword}` makes it a regression", "leave out --plot",
                          code=codes.CONFLICTING_OPTIONS)
    table = read_rows(loaded, args.data, limits, need_targets=True)
    result = evaluate_rows(loaded.model, loaded.program.spec, loaded.task, table, loaded.normalization)
    if args.plot:
        plot_confusion(result, Path(args.plot))
    if args.json == "-":
        sys.stdout.write(json_text(result))
        return 0
    if args.json:
        write_atomic(args.json, json_text(result))
    sys.stdout.write("\n".join(evaluation_lines(result)) + "\n")
    return 0


def plot_confusion(result: Evaluation, path: Path) -> None:
    """The confusion matrix as a picture: true classes down, predicted across, each cell's count in it."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    metrics = result.classification
    assert metrics is not None  # asked for classifiers only
    labels = [visible(c.label) for c in metrics.classes]
    size = max(3.0, 0.6 * len(labels) + 2)
    figure, axes = plt.subplots(figsize=(size, size), dpi=120)
    axes.imshow(metrics.confusion, cmap="Blues")
    axes.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    axes.set_yticks(range(len(labels)), labels)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    high = max((max(row) for row in metrics.confusion), default=0)
    for i, row in enumerate(metrics.confusion):
        for j, count in enumerate(row):
            axes.text(j, i, str(count), ha="center", va="center", color="white" if count > high / 2 else "black")
    axes.set_title(f"{visible(result.data)}: accuracy {100 * metrics.accuracy:.1f}%")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format=path.suffix.lstrip(".").lower() or "png")
    plt.close(figure)
    write_atomic(path, buffer.getvalue())
