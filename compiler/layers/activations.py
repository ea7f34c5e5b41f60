"""Element-wise activations: relu, sigmoid, tanh, gelu, leaky_relu, softmax.

Each keeps the width it is given and has no parameters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from ..registry import register
from .base import Layer

if TYPE_CHECKING:
    from torch import nn


def _module(name: str, *args: Any, **kwargs: Any) -> nn.Module:
    from torch import nn

    module: nn.Module = getattr(nn, name)(*args, **kwargs)
    return module


@register
class ReLU(Layer):
    kind: Literal["relu"] = "relu"
    keyword = "relu"
    torch_name = "ReLU"

    def build(self, width: int) -> nn.Module:
        return _module("ReLU")


@register
class Sigmoid(Layer):
    kind: Literal["sigmoid"] = "sigmoid"
    keyword = "sigmoid"
    torch_name = "Sigmoid"

    def build(self, width: int) -> nn.Module:
        return _module("Sigmoid")


@register
class Tanh(Layer):
    kind: Literal["tanh"] = "tanh"
    keyword = "tanh"
    torch_name = "Tanh"

    def build(self, width: int) -> nn.Module:
        return _module("Tanh")


@register
class GELU(Layer):
    kind: Literal["gelu"] = "gelu"
    approximate: Literal["none", "tanh"] = Field("none", title="approximation")
    keyword = "gelu"
    torch_name = "GELU"
    example = "gelu approximate=tanh"

    def describe(self) -> str:
        return "GELU()" if self.approximate == "none" else f"GELU(approximate='{self.approximate}')"

    def build(self, width: int) -> nn.Module:
        return _module("GELU", approximate=self.approximate)


@register
class LeakyReLU(Layer):
    kind: Literal["leaky_relu"] = "leaky_relu"
    slope: float = Field(0.01, ge=0, title="negative slope")
    keyword = "leaky_relu"
    torch_name = "LeakyReLU"
    example = "leaky_relu slope=0.2"
    hints = {"slope": "the slope for negative inputs, e.g. `leaky_relu slope=0.01`"}

    def describe(self) -> str:
        return f"LeakyReLU(negative_slope={self.slope:g})"

    def build(self, width: int) -> nn.Module:
        return _module("LeakyReLU", negative_slope=self.slope)


@register
class Softmax(Layer):
    kind: Literal["softmax"] = "softmax"
    keyword = "softmax"
    torch_name = "Softmax"

    def describe(self) -> str:
        return "Softmax(dim=-1)"

    def build(self, width: int) -> nn.Module:
        return _module("Softmax", dim=-1)
