"""`dropout p=0.1`: nn.Dropout, active in training and off in eval mode."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..registry import register
from ..types import TensorType
from .base import Call, Layer


@register
class Dropout(Layer):
    """`dropout p=0.1`: while training, zeroes each value with probability p and scales the rest by 1/(1-p)."""

    kind: Literal["dropout"] = "dropout"
    p: float = Field(0.5, ge=0, lt=1, title="dropout probability `p`",
                     description="the probability of zeroing each value while training, from 0 up to (not including) 1")
    keyword = "dropout"
    torch_name = "Dropout"
    unbatched = True
    sweepable = frozenset({"p"})
    positional = ("p",)
    example = "dropout p=0.1"
    hints = {"p": "the share of inputs zeroed in training, from 0 up to (not including) 1, e.g. `dropout p=0.1`"}

    def call(self, t: TensorType) -> Call:
        return Call("Dropout", (), (("p", self.p),))
