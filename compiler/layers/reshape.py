"""`flatten`: every per-example dim into one (nn.Flatten), `[16, 4, 4]` -> `[256]`."""

from __future__ import annotations

from typing import Literal

from ..registry import register
from ..types import TensorType
from .base import Call, Layer


@register
class Flatten(Layer):
    """`flatten`: every value of one example in one vector: `[16, 4, 4]` gives `[256]`."""

    kind: Literal["flatten"] = "flatten"
    keyword = "flatten"
    torch_name = "Flatten"
    keeps_shape = False

    def output(self, t: TensorType) -> TensorType:
        return TensorType.vector(t.values)

    def call(self, t: TensorType) -> Call:
        return Call("Flatten")
