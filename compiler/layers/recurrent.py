"""Recurrent layers: `lstm ->32` and `gru ->32` over a sequence `[T, F]`.

In: the features per step (`lstm 8->32`, or `->32` to take them from the
input), the hidden size, `layers=` (stacked layers, 1 by default) and the
flag `sequence`. Out: the last step's output `[32]`, or with `sequence` every
step's `[T, 32]`. torch's recurrent modules return a tuple, so each is
wrapped in a module of `compiler.modules` that nn.Sequential can chain
(`LSTM(8, 32)`, holding an nn.LSTM with batch_first=True).
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar, Literal

from pydantic import Field

from ..registry import register
from ..types import Dim, TensorType
from .base import Call, Fault, Weighted


class Recurrent(Weighted):
    """What lstm and gru share; a subclass says its keyword and how many gates each step has."""

    input_size: int | None = Field(None, ge=1, title="input features",
                                   description="the features of each step flowing in; left out (`->32`), taken "
                                               "from the input")
    hidden_size: int = Field(ge=1, title="hidden size",
                             description="the features of the hidden state it gives")
    layers: int = Field(1, ge=1, title="number of layers",
                        description="how many recurrent layers are stacked")
    sequence: bool = Field(False, title="sequence",
                           description="give every step's output (`[T, hidden]`), not only the last step's")

    gates: ClassVar[int] = 4
    positional = ("hidden_size",)
    arrow = ("input_size", "hidden_size")
    flags = {"sequence": ("sequence", True)}
    input_field = "input_size"
    input_axis = -1
    input_noun = "input feature"
    output_field = "hidden_size"
    size_fields = ("input_size", "hidden_size")
    ranks = (2,)
    rank_words = "a sequence [T, F] (time steps x features)"
    keeps_shape = False

    def rank_hint(self, t: TensorType) -> str:
        if t.rank == 1:
            return (f"shape the input as steps x features, e.g. `input {t.last}x1` "
                    f"for {t.last} steps of one value each")
        return ("an image [C, H, W] is not a sequence: use `conv2d` layers, then `flatten` and `linear`"
                if t.rank == 3 else "give it one sequence per example, [T, F]")

    def mismatch_hint(self, arriving: int) -> str:
        out = self.hidden_size
        return (f"write `{self.keyword} {arriving}->{out}`, "
                f"or `{self.keyword} ->{out}` to take the features from the input")

    def infer(self, t: TensorType) -> TensorType | Fault:
        found = super().infer(t)
        if isinstance(found, Fault) and found.field == "input_size":  # say what arrives whole: [20, 3], not 3
            return replace(found, arriving=str(t))
        return found

    def output(self, t: TensorType) -> TensorType:
        hidden = Dim(self.hidden_size, "F")
        return TensorType((t.dims[0], hidden) if self.sequence else (hidden,))

    def _weights(self, features: int) -> int:
        """Input and recurrent weights over all stacked layers (each layer after the first reads the hidden size)."""
        h = self.hidden_size
        return sum(self.gates * h * ((features if layer == 0 else h) + h) for layer in range(self.layers))

    def parameter_count(self, t: TensorType) -> int:
        return self._weights(t.last) + 2 * self.gates * self.hidden_size * self.layers  # two biases per gate

    def flops(self, t: TensorType) -> int:
        return t.sizes[0] * self._weights(t.last)  # every weight is used once per step

    def call(self, t: TensorType) -> Call:
        options: tuple[tuple[str, object], ...] = (("num_layers", self.layers),) if self.layers != 1 else ()
        options += (("sequence", True),) if self.sequence else ()
        return Call(self.torch_name, (t.last, self.hidden_size), options, home="compiler.modules")


def _missing(keyword: str) -> dict[str, tuple[str, str]]:
    return {"hidden_size": (f"expected a hidden size like `32` or `8->32` after `{keyword}`",
                            f"write `{keyword} 8->32`, or `{keyword} ->32` to take the features from the input")}


def _hints(keyword: str) -> dict[str, str]:
    return {"hidden_size": f"a recurrent layer keeps at least one value per step, e.g. `{keyword} ->32`",
            "input_size": f"each step has at least one feature, e.g. `{keyword} 1->32`",
            "layers": f"layers stacked in one `{keyword}`, e.g. `{keyword} ->32 layers=2`"}


@register
class LSTM(Recurrent):
    """`lstm ->32`: a long short-term memory over the steps of `[T, F]`; gives the last step."""

    kind: Literal["lstm"] = "lstm"
    keyword = "lstm"
    torch_name = "LSTM"
    gates = 4
    example = "lstm 8->32"
    missing = _missing("lstm")
    hints = _hints("lstm")


@register
class GRU(Recurrent):
    """`gru ->32`: a gated recurrent unit over the steps of `[T, F]`; gives the last step."""

    kind: Literal["gru"] = "gru"
    keyword = "gru"
    torch_name = "GRU"
    gates = 3
    example = "gru 8->32"
    missing = _missing("gru")
    hints = _hints("gru")
