"""`linear 2->3`, `linear ->3`, `linear 3`, with `bias` (default) or `nobias`: nn.Linear, on the last dim."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..registry import register
from ..types import TensorType
from .base import Call, Weighted


@register
class Linear(Weighted):
    """`linear 2->3`: a fully connected layer, `x @ W.T + b`, on the last dim."""

    kind: Literal["linear"] = "linear"
    in_features: int | None = Field(None, ge=1, title="input width",
                                    description="the width flowing in; left out (`->3`), taken from the input")
    out_features: int = Field(ge=1, title="output width",
                              description="the width it gives")
    bias: bool = Field(True, title="bias",
                       description="whether the layer adds a bias (`bias`, or `nobias`)")

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

    input_field = "in_features"
    output_field = "out_features"
    size_fields = ("in_features", "out_features")
    keeps_shape = False
    unbatched = True

    def implied_input(self) -> TensorType | None:
        return TensorType.vector(self.in_features) if self.in_features is not None else None

    def mismatch_hint(self, arriving: int) -> str:
        out = self.out_features
        return f"write `linear {arriving}->{out}`, or `linear ->{out}` to infer the width"

    def mismatch_fix(self, arriving: int) -> str:
        return f"write `linear {arriving}->{self.out_features}`"

    def output(self, t: TensorType) -> TensorType:
        return t.with_last(self.out_features)

    def parameter_count(self, t: TensorType) -> int:
        return t.last * self.out_features + (self.out_features if self.bias else 0)

    def flops(self, t: TensorType) -> int:
        return t.values * self.out_features  # every input value meets every output, at each position

    def call(self, t: TensorType) -> Call:
        return Call("Linear", (t.last, self.out_features), (("bias", self.bias),), quiet=("bias",) * self.bias)
