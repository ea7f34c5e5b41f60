"""Convolutions: `conv2d ->16 kernel=3 padding=1` (nn.Conv2d over `[C, H, W]`) and
`conv1d 1->8 kernel=5` (nn.Conv1d over `[C, L]`).

In: the channels (`1->16`, or `->16` to take them from the input), `kernel`
(a number, or `3x5` for height x width), `stride`, `padding` (a number, a
shape, or `same` to keep the size), `dilation`, `groups`, and `bias`/`nobias`.
Out: `[out, H', W']` by torch's formula, or a fault for each thing torch would
refuse when it runs: channels that differ from what arrives, groups that do
not divide the channels, `padding=same` with a stride, an input smaller than
the kernel.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Literal

from pydantic import Field

from spec_lang import codes

from ..registry import register
from ..types import TensorType
from .base import Call, Fault, Weighted
from .spatial import Size, SpatialLayer, each, written


class Conv(Weighted, SpatialLayer):
    """What nn.Conv1d and nn.Conv2d share; a subclass says its keyword and how many dims it slides over."""

    in_channels: int | None = Field(None, ge=1, title="input channels",
                                    description="the channels flowing in; left out (`->16`), taken from the input")
    out_channels: int = Field(ge=1, title="output channels",
                              description="the channels it gives")
    kernel: Size = Field(title="kernel size",
                         description="the kernel size: `3`, or `3x5` for height x width")
    stride: Size = Field(1, title="stride",
                         description="the step between positions")
    padding: Size | Literal["same", "valid"] = Field(0, title="padding",
                                                     description="zeros added on each side; `same` keeps the "
                                                                 "size (stride 1 only), `valid` adds none")
    dilation: Size = Field(1, title="dilation",
                           description="the spacing between the kernel's taps")
    groups: int = Field(1, ge=1, title="groups",
                        description="channel groups: each output channel sees the input channels of its group; "
                                    "must divide both channel counts")
    bias: bool = Field(True, title="bias",
                       description="whether the convolution adds a bias (`bias`, or `nobias`)")

    positional = ("out_channels",)
    arrow = ("in_channels", "out_channels")
    flags = {"bias": ("bias", True), "nobias": ("bias", False)}
    input_field = "in_channels"
    input_axis = 0
    input_noun = "input channel"
    output_field = "out_channels"
    size_fields = ("in_channels", "out_channels")

    @classmethod
    def padding_words(cls) -> tuple[str, ...]:
        return ("same", "valid")

    def mismatch_hint(self, arriving: int) -> str:
        out, kernel = self.out_channels, written(self.kernel)
        return (f"write `{self.keyword} {arriving}->{out} kernel={kernel}`, "
                f"or `{self.keyword} ->{out} kernel={kernel}` to take the channels from the input")

    def infer(self, t: TensorType) -> TensorType | Fault:
        found = super().infer(t)
        if isinstance(found, Fault) and found.field == "in_channels":  # say what arrives whole: [1, 28, 28], not 1
            return replace(found, arriving=str(t))
        return found

    def window(self, t: TensorType) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        n = self.spatial
        kernel, stride, dilation = each(self.kernel, n), each(self.stride, n), each(self.dilation, n)
        if self.padding == "same":  # torch pads d*(k-1) in all, so every length is kept
            return kernel, stride, tuple(d * (k - 1) // 2 for k, d in zip(kernel, dilation, strict=True)), dilation
        padding = (0,) * n if self.padding == "valid" else each(self.padding, n)
        return kernel, stride, padding, dilation

    def lengths(self, t: TensorType) -> tuple[int, ...]:
        return t.sizes[1:] if self.padding == "same" else super().lengths(t)

    def output(self, t: TensorType) -> TensorType | Fault:
        fault = self._unfit(t)
        if fault is not None:
            return fault
        if self.padding != "same":
            short = self.too_short(t)
            if short is not None:
                return short
        return self.shaped(t, self.out_channels)

    def _unfit(self, t: TensorType) -> Fault | None:
        """torch's rules on padding and groups, which do not depend on the input's length."""
        if self.padding == "same" and any(s > 1 for s in each(self.stride, self.spatial)):
            return Fault("`{name}` keeps the size with `padding=same`, which torch allows only with stride 1",
                         "padding", "needs stride 1",
                         "write the padding as a number (`padding=1` for a kernel of 3), or leave out the stride",
                         code=codes.SAME_PADDING_STRIDE)
        channels, groups = t.sizes[0], self.groups
        common = math.gcd(channels, self.out_channels)
        fits = max(g for g in range(1, min(groups, common) + 1) if common % g == 0)
        hint = f"the groups must divide both {channels} and {self.out_channels}: e.g. `groups={fits}`"
        if channels % groups:
            return Fault(f"`{{name}}` splits its channels into {groups} groups, but {{why}}: "
                         f"{channels} channels do not split into {groups}", "groups", f"{groups} groups", hint, str(t),
                         code=codes.GROUPS_MISMATCH)
        if self.out_channels % groups:
            return Fault(f"`{{name}}` splits its channels into {groups} groups, but its {self.out_channels} output "
                         f"channels do not split into {groups}", "groups", f"{groups} groups", hint,
                         code=codes.GROUPS_MISMATCH)
        return None

    def short_hint(self, word: str, size: int) -> str:
        return (f"{size} arrives in {word}: use a smaller kernel, add `padding=same`, "
                "or shrink the input less before this layer")

    def parameter_count(self, t: TensorType) -> int:
        weights = self.out_channels * (t.sizes[0] // self.groups) * math.prod(each(self.kernel, self.spatial))
        return weights + (self.out_channels if self.bias else 0)

    def flops(self, t: TensorType) -> int:
        weights = self.out_channels * (t.sizes[0] // self.groups) * math.prod(each(self.kernel, self.spatial))
        return weights * math.prod(self.lengths(t))  # each weight meets one input value per output position

    def call(self, t: TensorType) -> Call:
        options: list[tuple[str, object]] = [("kernel_size", self.kernel)]
        defaults = (("stride", 1), ("padding", 0), ("dilation", 1), ("groups", 1), ("bias", True))
        options += [(name, getattr(self, name)) for name, default in defaults
                    if getattr(self, name) not in (default, (default,) * self.spatial)]
        return Call(self.torch_name, (t.sizes[0], self.out_channels), tuple(options))


def _texts(keyword: str, example: str) -> dict[str, dict[str, tuple[str, str]]]:
    return {"missing": {
        "out_channels": (f"expected a channel count like `16` or `1->16` after `{keyword}`",
                         f"write `{example}`, or leave the input channels out (`->16`) to take them from the input"),
        "kernel": (f"`{keyword}` needs a kernel size", f"write it like `{example}`")}}


@register
class Conv2d(Conv):
    """`conv2d ->16 kernel=3`: a 2-D convolution over images `[C, H, W]`."""

    kind: Literal["conv2d"] = "conv2d"
    keyword = "conv2d"
    torch_name = "Conv2d"
    spatial = 2
    ranks = (3,)
    rank_words = "an image [C, H, W] (channels, height, width)"
    example = "conv2d 1->16 kernel=3 padding=1"
    aliases = ("conv", "conv2D", "convolution", "convolution2d")
    missing = _texts("conv2d", example)["missing"]
    hints = {"kernel": "a kernel of 3 by 3 is `kernel=3`; 3 high and 5 wide is `kernel=3x5`",
             "stride": "a step of 2 in both dims is `stride=2`",
             "padding": "`padding=1` adds one zero on every side; `padding=same` keeps the size",
             "dilation": "`dilation=2` spaces the kernel's taps one apart",
             "out_channels": "a convolution gives at least one channel, e.g. `conv2d 1->16 kernel=3`",
             "in_channels": "an image has at least one channel, e.g. `conv2d 1->16 kernel=3`"}

    def rank_hint(self, t: TensorType) -> str:
        if t.rank == 2:
            return "a sequence [C, L] goes into `conv1d`"
        if t.rank == 1:
            return "give the input its image shape, e.g. `input 1x28x28`; a flat vector goes into `linear`"
        return "give it one image per example, [C, H, W]"


@register
class Conv1d(Conv):
    """`conv1d ->8 kernel=5`: a 1-D convolution over sequences `[C, L]`."""

    kind: Literal["conv1d"] = "conv1d"
    keyword = "conv1d"
    torch_name = "Conv1d"
    spatial = 1
    ranks = (2,)
    rank_words = "a sequence [C, L] (channels, length)"
    example = "conv1d 1->8 kernel=5"
    aliases = ("conv1D", "convolution1d")
    missing = _texts("conv1d", example)["missing"]
    hints = {"kernel": "a kernel over 5 steps is `kernel=5`",
             "stride": "a step of 2 is `stride=2`",
             "padding": "`padding=2` adds two zeros at each end; `padding=same` keeps the length",
             "dilation": "`dilation=2` spaces the kernel's taps one apart",
             "out_channels": "a convolution gives at least one channel, e.g. `conv1d 1->8 kernel=5`",
             "in_channels": "a sequence has at least one channel, e.g. `conv1d 1->8 kernel=5`"}

    def rank_hint(self, t: TensorType) -> str:
        if t.rank == 3:
            return "an image [C, H, W] goes into `conv2d`"
        if t.rank == 1:
            return "give the input channels and length, e.g. `input 1x100` for one channel of 100 steps"
        return "give it one sequence per example, [C, L]"
