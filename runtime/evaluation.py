"""Scoring a trained network on labelled rows: `nqa evaluate`, and the `test` file of `nqa run`.

In: the network (in eval mode), its checked spec, what its outputs mean
(`outputs.Task`) and a `Table` of rows with targets. Out: `Evaluation` — the
mean loss over the rows (the spec's loss, in eval mode) and the task's metrics
(`metrics`): classification for `cross_entropy` and for `bce`/`bce_logits`
(each output's 0 or 1 against its target, all outputs together), regression
for the other losses. Rows go through the network in batches; the metrics are
gathered batch by batch.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from compiler import CheckedSpec
from compiler.data_table import Table

from .answers import Evaluation
from .metrics import ClassCounts, RegressionSums
from .normalize import Normalization
from .optim import build_loss
from .outputs import Task
from .trained import batches, network_inputs, network_targets, outputs_of


def evaluate_rows(model: nn.Module, spec: CheckedSpec, task: Task, table: Table,
                  normalization: Normalization | None = None) -> Evaluation:
    criterion = build_loss(spec.loss)
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    labels = task.labels if task.kind == "classes" else ("0", "1")
    counts = ClassCounts(labels) if task.kind != "values" else None
    sums = RegressionSums(task.names) if task.kind == "values" else None
    total = 0.0
    for start, stop in batches(table):
        inputs = network_inputs(table, spec, start, stop, normalization).to(device)
        targets = network_targets(table, spec, start, stop).to(device)
        outputs = outputs_of(model, spec, inputs)
        with torch.no_grad():
            shaped = outputs.reshape(len(inputs), *spec.output_type.sizes)
            total += _loss(criterion, shaped, targets) * (stop - start)
        if counts is not None:
            picks = task.predicted(task.probabilities(outputs))
            truth = targets if task.kind == "classes" else task.predicted(targets.reshape(len(inputs), -1).double())
            # a probability target (0 to 1) counts as the class a prediction of it would be
            counts.add(picks.flatten().tolist(), truth.flatten().tolist())
        elif sums is not None:
            sums.add(outputs.double().tolist(), targets.reshape(len(inputs), -1).double().tolist())
    loss = total / table.rows if math.isfinite(total) else None
    if counts is not None:
        return Evaluation(data=table.path, rows=table.rows, loss=loss, task="classification",
                          classification=counts.metrics())
    assert sums is not None  # one of the two
    return Evaluation(data=table.path, rows=table.rows, loss=loss, task="regression", regression=sums.metrics())


def _loss(criterion: nn.Module, outputs: torch.Tensor, targets: torch.Tensor) -> float:
    try:
        return float(criterion(outputs, targets).item())
    except RuntimeError:  # `bce` refuses outputs that are not finite
        return math.nan
