"""Pooling: `max_pool2d 2`, `avg_pool2d 2` over `[C, H, W]`, `max_pool1d 2`,
`avg_pool1d 2` over `[C, L]`, and `global_avg_pool`, the mean of each channel.

In: the window (`2`, or `2x3` for height x width), `stride` (the window by
default, as in torch) and `padding` (0 by default). Out: the pooled type by
torch's formula, or a fault for what torch refuses: padding over half the
window, an input smaller than the window. `global_avg_pool` takes `[C, ...]`
of any rank from 2 and gives `[C]`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from spec_lang import codes

from ..registry import register
from ..types import Dim, TensorType
from .base import Call, Fault, Layer
from .spatial import Size, SpatialLayer, each, written


class Pool(SpatialLayer):
    """What the max and average pools share."""

    kernel: Size = Field(title="pool size",
                         description="the window size, written bare: `max_pool2d 2`")
    stride: Size | None = Field(None, title="stride",
                                description="the step between windows; left out, the window size")
    padding: Size = Field(0, title="padding",
                          description="zeros (or minus infinity for max) added on each side, at most half the window")

    positional = ("kernel",)

    def window(self, t: TensorType) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        n = self.spatial
        kernel = each(self.kernel, n)
        stride = kernel if self.stride is None else each(self.stride, n)
        return kernel, stride, each(self.padding, n), (1,) * n

    def output(self, t: TensorType) -> TensorType | Fault:
        kernel, _, padding, _ = self.window(t)
        for k, p in zip(kernel, padding, strict=True):
            if p > k // 2:
                return Fault(f"`{{name}}` pads by {p}, but torch pads a pool by at most half its window ({k // 2})",
                             "padding", f"at most {k // 2}",
                             f"write `padding={k // 2}` or less, or pool over a larger window", code=codes.POOL_PADDING)
        short = self.too_short(t)
        return short if short is not None else self.shaped(t, t.sizes[0])

    def short_hint(self, word: str, size: int) -> str:
        return f"{size} arrives in {word}: pool over a smaller window, or shrink the input less before this layer"

    def call(self, t: TensorType) -> Call:
        stride = self.kernel if self.stride is None else self.stride
        padding = () if self.padding in (0, (0,) * self.spatial) else (("padding", self.padding),)
        return Call(self.torch_name, (), (("kernel_size", self.kernel), ("stride", stride), *padding))


class Pool2d(Pool):
    spatial = 2
    ranks = (3,)
    rank_words = "an image [C, H, W] (channels, height, width)"
    hints = {"kernel": "a window of 2 by 2 is `2`; 2 high and 3 wide is `2x3`",
             "stride": "the step between windows; by default the window itself",
             "padding": "zeros added on every side, at most half the window"}

    def rank_hint(self, t: TensorType) -> str:
        pool = self.keyword.replace("2d", "1d")
        return f"a sequence [C, L] goes into `{pool} {written(self.kernel)}`" if t.rank == 2 else (
            "give the input its image shape, e.g. `input 1x28x28`")


class Pool1d(Pool):
    spatial = 1
    ranks = (2,)
    rank_words = "a sequence [C, L] (channels, length)"
    hints = {"kernel": "a window over 2 steps is `2`",
             "stride": "the step between windows; by default the window itself",
             "padding": "zeros added at each end, at most half the window"}

    def rank_hint(self, t: TensorType) -> str:
        return f"an image [C, H, W] goes into `{self.keyword.replace('1d', '2d')}`" if t.rank == 3 else (
            "give the input channels and length, e.g. `input 1x100` for one channel of 100 steps")


@register
class MaxPool2d(Pool2d):
    """`max_pool2d 2`: the largest value of each window of an image `[C, H, W]`."""

    kind: Literal["max_pool2d"] = "max_pool2d"
    keyword = "max_pool2d"
    torch_name = "MaxPool2d"
    example = "max_pool2d 2"
    aliases = ("maxpool", "maxpool2d", "maxpooling2d")
    missing = {"kernel": ("`max_pool2d` needs a window size", "write it like `max_pool2d 2`")}


@register
class AvgPool2d(Pool2d):
    """`avg_pool2d 2`: the mean of each window of an image `[C, H, W]`."""

    kind: Literal["avg_pool2d"] = "avg_pool2d"
    keyword = "avg_pool2d"
    torch_name = "AvgPool2d"
    example = "avg_pool2d 2"
    aliases = ("avgpool", "avgpool2d", "averagepooling2d", "average_pool2d")
    missing = {"kernel": ("`avg_pool2d` needs a window size", "write it like `avg_pool2d 2`")}


@register
class MaxPool1d(Pool1d):
    """`max_pool1d 2`: the largest value of each window of a sequence `[C, L]`."""

    kind: Literal["max_pool1d"] = "max_pool1d"
    keyword = "max_pool1d"
    torch_name = "MaxPool1d"
    example = "max_pool1d 2"
    aliases = ("maxpool1d", "maxpooling1d")
    missing = {"kernel": ("`max_pool1d` needs a window size", "write it like `max_pool1d 2`")}


@register
class AvgPool1d(Pool1d):
    """`avg_pool1d 2`: the mean of each window of a sequence `[C, L]`."""

    kind: Literal["avg_pool1d"] = "avg_pool1d"
    keyword = "avg_pool1d"
    torch_name = "AvgPool1d"
    example = "avg_pool1d 2"
    aliases = ("avgpool1d", "averagepooling1d", "average_pool1d")
    missing = {"kernel": ("`avg_pool1d` needs a window size", "write it like `avg_pool1d 2`")}


@register
class GlobalAvgPool(Layer):
    """The mean of each channel over all its positions: `[C, H, W]` -> `[C]`."""

    kind: Literal["global_avg_pool"] = "global_avg_pool"
    keyword = "global_avg_pool"
    torch_name = "GlobalAvgPool"
    aliases = ("globalaveragepooling2d", "globalaveragepooling1d", "globalavgpool", "adaptiveavgpool2d")
    keeps_shape = False

    def output(self, t: TensorType) -> TensorType | Fault:
        if t.rank < 2:
            return Fault("`{name}` averages each channel of [C, ...] over its positions, but {why}",
                         label="takes [C, ...]", arriving=str(t),
                         hint="it follows a `conv2d` or `conv1d`; a flat vector [F] has no positions to average",
                         code=codes.RANK_MISMATCH)
        return TensorType((Dim(t.sizes[0], t.dims[0].name),))

    def call(self, t: TensorType) -> Call:
        return Call("GlobalAvgPool", home="compiler.modules")
