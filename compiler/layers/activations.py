"""Element-wise activations: relu, sigmoid, tanh, gelu, leaky_relu, softmax.

Each keeps the shape it is given and has no parameters; `softmax` acts on the last dim.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..registry import register
from ..types import TensorType
from .base import Call, Layer


@register
class ReLU(Layer):
    """`relu`: max(0, x) on every value."""

    kind: Literal["relu"] = "relu"
    keyword = "relu"
    torch_name = "ReLU"
    unbatched = True


@register
class Sigmoid(Layer):
    """`sigmoid`: 1 / (1 + e^-x) on every value, into (0, 1)."""

    kind: Literal["sigmoid"] = "sigmoid"
    keyword = "sigmoid"
    torch_name = "Sigmoid"
    unbatched = True


@register
class Tanh(Layer):
    """`tanh`: the hyperbolic tangent of every value, into (-1, 1)."""

    kind: Literal["tanh"] = "tanh"
    keyword = "tanh"
    torch_name = "Tanh"
    unbatched = True


@register
class GELU(Layer):
    """`gelu`: x times the normal distribution's CDF at x, on every value."""

    kind: Literal["gelu"] = "gelu"
    approximate: Literal["none", "tanh"] = Field("none", title="approximation",
                                                 description="how GELU is computed: `none` exactly, `tanh` by "
                                                             "the tanh approximation")
    keyword = "gelu"
    torch_name = "GELU"
    unbatched = True
    sweepable = frozenset({"approximate"})
    example = "gelu approximate=tanh"

    def call(self, t: TensorType) -> Call:
        return Call("GELU", (), () if self.approximate == "none" else (("approximate", self.approximate),))


@register
class LeakyReLU(Layer):
    """`leaky_relu`: x above zero, slope x x below, on every value."""

    kind: Literal["leaky_relu"] = "leaky_relu"
    slope: float = Field(0.01, ge=0, title="negative slope",
                         description="the slope below zero: the output is slope x input there")
    keyword = "leaky_relu"
    torch_name = "LeakyReLU"
    unbatched = True
    sweepable = frozenset({"slope"})
    example = "leaky_relu slope=0.2"
    hints = {"slope": "the slope for negative inputs, e.g. `leaky_relu slope=0.01`"}

    def call(self, t: TensorType) -> Call:
        return Call("LeakyReLU", (), (("negative_slope", self.slope),))


@register
class Softmax(Layer):
    """`softmax`: the last dim's values as probabilities summing to 1."""

    kind: Literal["softmax"] = "softmax"
    keyword = "softmax"
    torch_name = "Softmax"
    unbatched = True

    def call(self, t: TensorType) -> Call:
        return Call("Softmax", (), (("dim", -1),))
