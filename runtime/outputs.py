"""What a trained network's outputs mean, by its loss: classes, yes/no answers, or values.

In: the checked spec, the class labels of its training data (from the weights
file, or the spec's data file) and its target column names. Out: `Task` —
`classes` for `cross_entropy` (the highest output is the predicted class; softmax
gives each class's probability), `binary` for `bce` and `bce_logits` (each
output is the probability of a 1, through a sigmoid for `bce_logits`; at 0.5 or
more the answer is 1), `values` for the regression losses — with the label of
each class (the text labels, else `0`, `1`, ...) and the name of each output
(the training data's target columns, else `output_0`, `output_1`, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from compiler import CheckedSpec


@dataclass(frozen=True)
class Task:
    kind: Literal["classes", "binary", "values"]
    labels: tuple[str, ...]  # classes: the label of each class index; binary: ("0", "1"); values: ()
    names: tuple[str, ...]  # each output value's name (binary and values)
    logits: bool = False  # binary outputs are logits (`bce_logits`), turned into probabilities by a sigmoid

    def probabilities(self, outputs: torch.Tensor) -> torch.Tensor:
        """Rows of outputs `[N, outputs]` as probabilities: of each class (classes), or of a 1 (binary)."""
        if self.kind == "classes":
            return torch.softmax(outputs.double(), dim=-1)
        return torch.sigmoid(outputs.double()) if self.logits else outputs.double()

    def predicted(self, probabilities: torch.Tensor) -> torch.Tensor:
        """The class index of each row `[N]` (classes), or each output's 0 or 1 `[N, outputs]` (binary)."""
        if self.kind == "classes":
            return probabilities.argmax(dim=-1)
        return (probabilities >= 0.5).long()


def task_of(spec: CheckedSpec, classes: tuple[str, ...], targets: tuple[str, ...]) -> Task:
    width = spec.output_width
    names = targets if len(targets) == width else (
        tuple(f"{targets[0]}_{i}" for i in range(width)) if len(targets) == 1 and width > 1 else
        tuple(f"output_{i}" for i in range(width)))
    keyword = spec.loss.keyword
    if spec.loss.class_targets:
        labels = tuple(classes[:width]) + tuple(str(i) for i in range(len(classes), width))
        return Task("classes", labels, ())
    if keyword in ("bce", "bce_logits"):
        return Task("binary", ("0", "1"), names, logits=keyword == "bce_logits")
    return Task("values", (), names)


def label_text(label: str) -> str:
    """A class label as a column name takes it: `p_setosa`."""
    return f"p_{label}"
