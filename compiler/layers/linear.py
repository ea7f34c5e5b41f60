"""`linear 2->3`, `linear ->3`, `linear 3`, with `bias` (default) or `nobias`: nn.Linear."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from ..registry import register
from .base import Layer

if TYPE_CHECKING:
    from torch import nn


@register
class Linear(Layer):
    kind: Literal["linear"] = "linear"
    in_features: int | None = Field(None, ge=1, title="input width")
    out_features: int = Field(ge=1, title="output width")
    bias: bool = Field(True, title="bias")

    keyword = "linear"
    torch_name = "Linear"
    positional = ("out_features",)
    arrow = ("in_features", "out_features")
    flags = {"bias": ("bias", True), "nobias": ("bias", False)}
    example = "linear 2->3"
    aliases = ("dense", "fully_connected", "fc")  # Keras and others call it so
    hints = {"out_features": "a layer has at least one output, e.g. `linear 2->1`",
             "in_features": "a layer takes at least one input, e.g. `linear 1->3`"}
    missing = {"out_features": ("expected a width like `3` or `2->3` after `linear`",
                                "write `linear 2->3`, or `linear ->3` to infer the input width")}

    def expects(self) -> int | None:
        return self.in_features

    def states_output(self) -> bool:
        return True

    def resolve(self, width: int) -> Linear:
        return self if self.in_features == width else self.model_copy(update={"in_features": width})

    def output_width(self, width: int) -> int:
        return self.out_features

    def parameter_count(self, width: int) -> int:
        return width * self.out_features + (self.out_features if self.bias else 0)

    def describe(self) -> str:
        bias = "" if self.bias else ", bias=False"
        return f"Linear({self.in_features}, {self.out_features}{bias})"

    def build(self, width: int) -> nn.Module:
        from torch import nn

        return nn.Linear(width, self.out_features, bias=self.bias)
