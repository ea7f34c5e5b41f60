"""Normalisation: `batch_norm` (nn.BatchNorm1d for `[F]` or `[C, L]`, BatchNorm2d
for `[C, H, W]`, BatchNorm3d for `[C, D, H, W]`, chosen from the rank) and
`layer_norm` (nn.LayerNorm over the last dim).

In: the input type and the options `eps` (both) and `momentum` (batch_norm).
Out: the same type, 2 parameters per channel (batch_norm; its running mean
and variance are buffers, not parameters) or per value of the last dim
(layer_norm).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from spec_lang import codes

from ..registry import register
from ..types import TensorType
from .base import Call, Fault, Layer

_EPS_HINT = "a small number added to the variance so it is never 0, e.g. `eps=1e-5`"


@register
class BatchNorm(Layer):
    """`batch_norm`: each channel normalised by its batch statistics, then scaled and shifted."""

    kind: Literal["batch_norm"] = "batch_norm"
    eps: float = Field(1e-5, gt=0, title="`eps`",
                       description="added to the variance, for numerical stability")
    momentum: float = Field(0.1, ge=0, le=1, title="`momentum`",
                            description="how far each batch moves the running statistics")
    keyword = "batch_norm"
    sweepable = frozenset({"eps", "momentum"})
    example = "batch_norm momentum=0.1"
    aliases = ("batchnorm", "batchnorm1d", "batchnorm2d", "batchnorm3d", "batchnormalization")
    hints = {"eps": _EPS_HINT,
             "momentum": "how far each batch moves the running mean and variance, from 0 to 1, "
                         "e.g. `momentum=0.1`"}
    ranks = (1, 2, 3, 4)
    rank_words = "[F], [C, L], [C, H, W] or [C, D, H, W]"

    def torch_class(self, t: TensorType) -> str:
        return f"BatchNorm{max(t.rank - 1, 1)}d"

    def channels(self, t: TensorType) -> int:
        return t.sizes[0]

    def values_per_channel(self, t: TensorType) -> int:
        """How many values of one example each channel's statistics see: with 1, training
        needs batches of at least 2 (torch refuses to normalise a single value)."""
        return t.values // t.sizes[0]

    def batch_problem(self, t: TensorType, smallest: int) -> Fault | None:
        if smallest > 1 or self.values_per_channel(t) > 1:
            return None
        return Fault(f"`{{name}}` on {t} normalises each channel over the rows of a batch, but a batch of "
                     f"1 row gives it a single value", label="needs batches of 2 rows or more",
                     hint="train on batches of at least 2 rows (`batch` and the row count decide the last "
                          "batch), or use `layer_norm`", code=codes.BATCH_OF_ONE)

    def parameter_count(self, t: TensorType) -> int:
        return 2 * self.channels(t)

    def flops(self, t: TensorType) -> int:
        return t.values  # one scale-and-shift per value

    def call(self, t: TensorType) -> Call:
        options: tuple[tuple[str, object], ...] = (("eps", self.eps),) if self.eps != 1e-5 else ()
        options += (("momentum", self.momentum),) if self.momentum != 0.1 else ()
        return Call(self.torch_class(t), (self.channels(t),), options)


@register
class LayerNorm(Layer):
    """`layer_norm`: each example normalised over its last dim, then scaled and shifted."""

    kind: Literal["layer_norm"] = "layer_norm"
    eps: float = Field(1e-5, gt=0, title="`eps`",
                       description="added to the variance, for numerical stability")
    keyword = "layer_norm"
    sweepable = frozenset({"eps"})
    example = "layer_norm eps=1e-6"
    aliases = ("layernorm", "layernormalization")
    hints = {"eps": _EPS_HINT}

    def parameter_count(self, t: TensorType) -> int:
        return 2 * t.last

    def flops(self, t: TensorType) -> int:
        return t.values

    def call(self, t: TensorType) -> Call:
        return Call("LayerNorm", (t.last,), (("eps", self.eps),) if self.eps != 1e-5 else ())
