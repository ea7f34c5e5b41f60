"""`loss mse|l1|huber|cross_entropy|bce|bce_logits`: validated loss settings.

In: the options after the loss's name. Out: a frozen model with the torch
class name and arguments, `target_problem(target, outputs)`, which says why
a target does not fit the network (or None), and `network_problem(last_layer,
output_type)`, a `NetworkProblem` when the end of the network does not suit the
loss: an error when it cannot work, a warning when it works worse than meant
(an activation the loss applies again). No torch here.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, NamedTuple

from pydantic import Field

from spec_lang import codes

from .layers.activations import Sigmoid, Softmax
from .layers.base import Layer
from .messages import plural
from .registry import member
from .statement import StatementModel
from .types import TensorType


class NetworkProblem(NamedTuple):
    """Why the end of the network does not suit the loss, and whether it stops the spec."""

    message: str
    hint: str
    code: str  # the kind of problem (spec_lang/codes.py)
    severity: Literal["error", "warning"] = "error"
    about: Literal["outputs", "last layer", "flatten"] = "outputs"  # what to point at besides the loss
    # ("flatten": the output has dims to flatten; the hint is completed with where)


def _applied_twice(loss: str, layer: str, applies: str) -> NetworkProblem:
    return NetworkProblem(
        f"the network ends with `{layer}`, and `loss {loss}` applies {applies} again",
        f"remove the last `{layer}`: `loss {loss}` takes the raw outputs and applies {applies} itself",
        codes.APPLIED_TWICE, "warning", "last layer")


class Loss(StatementModel):
    kind: str
    torch_name: ClassVar[str] = ""
    sweepable = None  # every setting may vary in a sweep
    class_targets: ClassVar[bool] = False

    def torch_kwargs(self) -> dict[str, Any]:
        return self.model_dump(exclude={"kind"})

    def target_problem(self, target: tuple[float, ...], outputs: int) -> str | None:
        if len(target) in (1, outputs):
            return None
        return f"the target has {len(target)} values, but the network has {plural(outputs, 'output')}"

    def target_hint(self, outputs: int) -> str:
        """What to write when an example's target does not fit."""
        if outputs == 1:
            return "give 1 target value"
        return f"give {outputs} target values, or one value to use for every output"

    def network_problem(self, last_layer: Layer | None, output: TensorType) -> NetworkProblem | None:
        """What is wrong with the end of the network (its last layer, the type it gives) for this loss, else None."""
        return None


@member("loss")
class MSE(Loss):
    """`loss mse`: the mean squared error (nn.MSELoss)."""

    kind: Literal["mse"] = "mse"
    keyword = "mse"
    aliases = ("mean_squared_error", "l2", "squared")
    torch_name = "MSELoss"


@member("loss")
class L1(Loss):
    """`loss l1`: the mean absolute error (nn.L1Loss)."""

    kind: Literal["l1"] = "l1"
    keyword = "l1"
    aliases = ("mae", "mean_absolute_error", "abs")
    torch_name = "L1Loss"


@member("loss")
class Huber(Loss):
    """`loss huber`: squared below `delta`, linear above (nn.HuberLoss)."""

    kind: Literal["huber"] = "huber"
    delta: float = Field(1.0, gt=0, title="`delta`",
                         description="where the loss turns from squared to linear")
    keyword = "huber"
    aliases = ("smooth_l1",)
    torch_name = "HuberLoss"
    example = "loss huber delta=1.0"


class _Probabilities(Loss):
    """A loss whose targets are probabilities, from 0 to 1 (`bce`, `bce_logits`)."""

    def target_hint(self, outputs: int) -> str:
        return f"`{self.keyword}` compares probabilities: write targets from 0 to 1, e.g. `-> [1]`"

    def target_problem(self, target: tuple[float, ...], outputs: int) -> str | None:
        if any(not 0 <= value <= 1 for value in target):
            return f"`{self.keyword}` targets must lie between 0 and 1"
        return super().target_problem(target, outputs)


@member("loss")
class BCE(_Probabilities):
    """`loss bce`: binary cross-entropy on probabilities in [0, 1] (nn.BCELoss)."""

    kind: Literal["bce"] = "bce"
    keyword = "bce"
    aliases = ("binary_cross_entropy", "binary_crossentropy")  # the second is Keras's name
    torch_name = "BCELoss"

    def network_problem(self, last_layer: Layer | None, output: TensorType) -> NetworkProblem | None:
        if isinstance(last_layer, (Sigmoid, Softmax)):
            return None
        return NetworkProblem(
            "`loss bce` needs outputs between 0 and 1, but the network does not end with `sigmoid`",
            "end the network with `sigmoid`, or use `loss bce_logits`, which applies it for you",
            codes.LOSS_OUTPUT_MISMATCH)


@member("loss")
class BCEWithLogits(_Probabilities):
    """`loss bce_logits`: binary cross-entropy on raw scores, a sigmoid built in (nn.BCEWithLogitsLoss)."""

    kind: Literal["bce_logits"] = "bce_logits"
    keyword = "bce_logits"
    aliases = ("bce_with_logits", "bcewithlogits", "binary_cross_entropy_with_logits")
    torch_name = "BCEWithLogitsLoss"

    def network_problem(self, last_layer: Layer | None, output: TensorType) -> NetworkProblem | None:
        return _applied_twice("bce_logits", "sigmoid", "a sigmoid") if isinstance(last_layer, Sigmoid) else None


@member("loss")
class CrossEntropy(Loss):
    """`loss cross_entropy`: classification, one score per class, the target a class index (nn.CrossEntropyLoss)."""

    kind: Literal["cross_entropy"] = "cross_entropy"
    keyword = "cross_entropy"
    aliases = ("ce", "crossentropy", "nll", "categorical_cross_entropy", "softmax_cross_entropy",
               "categorical_crossentropy", "sparse_categorical_crossentropy")  # the last two are Keras's names
    torch_name = "CrossEntropyLoss"
    class_targets = True

    def network_problem(self, last_layer: Layer | None, output: TensorType) -> NetworkProblem | None:
        if output.rank != 1:
            return NetworkProblem(
                f"`loss cross_entropy` needs one score per class for each example, a vector, "
                f"but the network gives {output}", "add `flatten`", codes.LOSS_OUTPUT_MISMATCH, about="flatten")
        outputs = output.last
        if outputs < 2:
            return NetworkProblem(
                f"`loss cross_entropy` needs one output per class, at least 2, but the network has {outputs}",
                "give the last layer one output per class, e.g. `linear ->3` for three classes",
                codes.LOSS_OUTPUT_MISMATCH)
        return _applied_twice("cross_entropy", "softmax", "a softmax") if isinstance(last_layer, Softmax) else None

    def target_hint(self, outputs: int) -> str:
        return f"give the index of the right class, from 0 to {outputs - 1}, e.g. `-> [0]`"

    def target_problem(self, target: tuple[float, ...], outputs: int) -> str | None:
        if len(target) != 1:
            return f"`cross_entropy` takes one class index as target, not {len(target)} values"
        value = target[0]
        if value != int(value) or not 0 <= value < outputs:
            return f"the class index must be a whole number from 0 to {outputs - 1}, not {value:g}"
        return None


DEFAULT = MSE()
