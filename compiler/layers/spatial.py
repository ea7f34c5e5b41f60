"""What convolutions and pools share: their sizes over the spatial dims
(`kernel=3` or `kernel=3x5`, `stride`, `padding`, `dilation`), checked as the
statement binds, and torch's formula for the length each spatial dim gives.

In: the values a statement gives (an int, a shape tuple such as `(3, 5)`, or
the word `same` for a convolution's padding) and the input type. Out: one
size per spatial dim, the output lengths, and the `Fault` for an input too
short for the window, which names the dim (`height`, `width`, `length`) and
the size the layer needs there.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from spec_lang import codes

from ..types import Dim, TensorType
from .base import Fault, Layer

Size = int | tuple[int, ...]  # one size for every spatial dim, or one per dim (height x width)
DIM_WORDS = {1: ("length",), 2: ("height", "width")}
PADDING_WORDS = ("same", "valid")  # as torch spells them: keep the size, or no padding


def each(value: Size, spatial: int) -> tuple[int, ...]:
    """One size per spatial dim: `3` -> (3, 3) over height and width."""
    return value if isinstance(value, tuple) else (value,) * spatial


def written(value: Any) -> str:
    return "x".join(str(v) for v in value) if isinstance(value, tuple) else str(value)


def out_length(length: int, kernel: int, stride: int, padding: int, dilation: int = 1) -> int:
    """torch's output length for a window sliding over `length` (floor mode); < 1 when it does not fit."""
    return (length + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


class SpatialLayer(Layer):
    """A layer sliding a window over the dims after the channels: `[C, L]` or `[C, H, W]`."""

    spatial: ClassVar[int] = 2  # how many dims the window slides over
    smallest: ClassVar[dict[str, int]] = {"kernel": 1, "stride": 1, "dilation": 1, "padding": 0}
    keeps_shape = False

    @field_validator("kernel", "stride", "dilation", "padding", mode="before", check_fields=False)
    @classmethod
    def _sizes(cls, value: Any, info: ValidationInfo) -> Any:
        """An int, or a shape with one size per spatial dim; `padding` may also be a word torch knows."""
        field = info.field_name or ""
        what = cls.title_of(field)
        words = cls.padding_words() if field == "padding" else ()
        if value is None or value in words:
            return value
        if isinstance(value, str):
            also = " or `same`" if words else ""
            raise PydanticCustomError("spatial_word", "{what} must be a number{also}, not `{given}`",
                                      {"what": what, "also": also, "given": value})
        if isinstance(value, tuple) and len(value) != cls.spatial:
            dims = " x ".join(DIM_WORDS[cls.spatial])
            rule = f"one size per dim ({dims}) or a single number" if cls.spatial > 1 else "a single number"
            raise PydanticCustomError("spatial_rank", "{what} of `{name}` is {rule}, not `{given}`",
                                      {"what": what, "name": cls.keyword, "rule": rule, "given": written(value)})
        for size in value if isinstance(value, tuple) else (value,):
            if isinstance(size, float) and not size.is_integer():
                raise PydanticCustomError("int_from_float", "not a whole number")
            if isinstance(size, (int, float)) and size < cls.smallest[field]:
                raise PydanticCustomError("greater_than_equal", "too small", {"ge": cls.smallest[field]})
        return tuple(int(v) for v in value) if isinstance(value, tuple) else int(value)

    @classmethod
    def padding_words(cls) -> tuple[str, ...]:
        """The words its `padding` takes besides sizes (a convolution's `same`)."""
        return ()

    def window(self, t: TensorType) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        """(kernel, stride, padding, dilation), one size per spatial dim; padding `same` as what keeps the size."""
        raise NotImplementedError

    def lengths(self, t: TensorType) -> tuple[int, ...]:
        kernel, stride, padding, dilation = self.window(t)
        return tuple(out_length(n, k, s, p, d)
                     for n, k, s, p, d in zip(t.sizes[1:], kernel, stride, padding, dilation, strict=True))

    def too_short(self, t: TensorType) -> Fault | None:
        """The first spatial dim the window does not fit in, as a fault on `kernel`."""
        kernel, _, padding, dilation = self.window(t)
        for word, size, k, p, d in zip(DIM_WORDS[self.spatial], t.sizes[1:], kernel, padding, dilation, strict=True):
            need = d * (k - 1) + 1 - 2 * p
            if size < need:
                padded = f" with padding {p}" if p else ""
                return Fault(f"`{{name}}` needs at least {need} in {word}{padded}, but {{why}}", "kernel",
                             f"needs {word} {need} or more", self.short_hint(word, size), str(t),
                             code=codes.KERNEL_TOO_LARGE)
        return None

    def short_hint(self, word: str, size: int) -> str:
        return f"the input is {size} in {word} here: use a smaller kernel, or add padding"

    def shaped(self, t: TensorType, channels: int) -> TensorType:
        """The output type: `channels`, then the output lengths, keeping the input's dim names."""
        dims = (Dim(channels, t.dims[0].name),) + tuple(
            Dim(n, dim.name) for n, dim in zip(self.lengths(t), t.dims[1:], strict=True))
        return TensorType(dims)
