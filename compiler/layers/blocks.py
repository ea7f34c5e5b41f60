"""Layers made of layers: `repeat 3 { ... }`, `residual { ... }` and a named block's use (`stem * 2`).

In: the layers inside the braces, each already resolved by the shape pass for the
type that reaches it (a `repeat` holds every copy: three copies of `linear ->64`
are three layers with their own weights). Out: what any layer gives — the output
type, parameters, multiply-accumulates, the torch module — each derived from the
layers inside, and a walk over them for the summary, the drawing and the checks.

In torch a `repeat` and a named block are an `nn.Sequential` inside the model's,
and a `residual` is `compiler.modules.Residual` (an `nn.Sequential` giving
`x + body(x)`), so parameters are named as torch names them: `1.0.weight`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field

from spec_lang import codes

from ..inits import Init
from ..registry import register
from ..statement import StatementModel
from ..types import TensorType
from .base import Call, Fault, Layer

if TYPE_CHECKING:
    from torch import nn


@dataclass(frozen=True)
class Step:
    """One layer of a walk: its module path (`1.0`), its depth, the layer and the types in and out."""

    path: str
    depth: int
    layer: Layer
    arriving: TensorType
    given: TensorType


class Container(Layer):
    """A layer holding layers, chained one after the other."""

    layers: tuple[Any, ...] = Field((), title="the layers inside")  # resolved layers, filled in by the shape pass
    internal: ClassVar[tuple[str, ...]] = ("layers",)
    keeps_shape = False
    body_example: ClassVar[str] = ""  # the statement with its braces, for hints

    def times(self) -> int:
        """How many times the layers in braces are used: a `repeat 3` holds them three times over."""
        return 1

    def copies(self, body: tuple[Any, ...]) -> tuple[Any, ...]:
        """The layers inside, counted out."""
        return body * self.times()

    def chain(self, t: TensorType) -> list[tuple[Layer, TensorType, TensorType]]:
        """Each inner layer with the type reaching it and the type it gives."""
        found = []
        for layer in self.layers:
            given = layer.infer(t)
            if not isinstance(given, TensorType):  # only while `check` is still collecting errors
                given = layer.recover(t) or t
            found.append((layer, t, given))
            t = given
        return found

    def body_output(self, t: TensorType) -> TensorType:
        steps = self.chain(t)
        return steps[-1][2] if steps else t

    def infer(self, t: TensorType) -> TensorType | Fault:
        return self.body_output(t)

    def recover(self, t: TensorType) -> TensorType | None:
        found = self.infer(t)
        return found if isinstance(found, TensorType) else None

    def parameter_count(self, t: TensorType) -> int:
        return sum(layer.parameter_count(a) for layer, a, _ in self.chain(t))

    def flops(self, t: TensorType) -> int:
        return sum(layer.flops(a) for layer, a, _ in self.chain(t))

    def batch_problem(self, t: TensorType, smallest: int) -> Fault | None:
        return next((found for layer, a, _ in self.chain(t) if (found := layer.batch_problem(a, smallest))), None)

    def walk(self, t: TensorType, path: str, depth: int) -> Iterator[Step]:
        """This layer's own step, then its inner layers' (and theirs), in order."""
        yield Step(path, depth, self, t, self.infer(t) if isinstance(self.infer(t), TensorType) else t)  # type: ignore[arg-type]
        for index, (layer, arriving, given) in enumerate(self.chain(t)):
            inner = f"{path}.{index}"
            if isinstance(layer, Container):
                yield from layer.walk(arriving, inner, depth + 1)
            else:
                yield Step(inner, depth + 1, layer, arriving, given)

    def leaves(self) -> Iterator[Layer]:
        for layer in self.layers:
            yield from (layer.leaves() if isinstance(layer, Container) else (layer,))

    def with_init(self, init: Init) -> Layer:
        """The spec's `init` reaches the layers inside."""
        return self.model_copy(update={"layers": tuple(layer.with_init(init) for layer in self.layers)})

    def last_leaf(self) -> Layer:
        """The layer whose output is this one's: the last inside (a residual's own add is its own)."""
        last = self.layers[-1] if self.layers else self
        return last.last_leaf() if isinstance(last, Container) and last is not self else last

    def label(self) -> str:
        """How the block is named in a summary and a drawing: `repeat 3`, `residual`, `stem x2`."""
        return self.keyword

    def call(self, t: TensorType) -> Call:
        return Call("Sequential")

    def describe(self, t: TensorType) -> str:
        return f"{self.call(t).name}: {self.label()}"

    def calls(self, t: TensorType) -> list[Call]:
        """Every module call inside, this one's first: an emitted program defines nqa's own classes once."""
        found = [self.call(t)]
        for layer, arriving, _ in self.chain(t):
            found += layer.calls(arriving) if isinstance(layer, Container) else [layer.call(arriving)]
        return found

    def source(self, t: TensorType) -> str:
        """The module as an emitted program writes it, its inner layers one per line, indented."""
        inner = "".join(f"    {line}\n" for layer, arriving, _ in self.chain(t)
                        for line in (layer.source(arriving) + ",").splitlines())
        call = self.call(t)
        return f"{'nn.' if call.home == 'torch.nn' else ''}{call.name}(\n{inner})"

    def build(self, t: TensorType) -> nn.Module:
        import importlib

        call = self.call(t)
        made: nn.Module = getattr(importlib.import_module(call.home), call.name)(
            *[layer.build(arriving) for layer, arriving, _ in self.chain(t)])
        return made


@register
class Repeat(Container):
    """`repeat 3 { linear ->64; relu }`: the layers in braces three times, each copy with its own weights."""

    kind: Literal["repeat"] = "repeat"
    count: int = Field(ge=1, title="number of copies",
                       description="how many copies of the layers in braces, each with its own weights")
    keyword = "repeat"
    positional = ("count",)
    example = "repeat 3 { linear ->64; relu }"
    hints = {"count": "repeat the layers at least once, e.g. `repeat 3 { linear ->64; relu }`"}
    missing = {"count": ("expected how many times to repeat, e.g. `repeat 3 { ... }`",
                         "write `repeat 3 { linear ->64; relu }`")}

    def times(self) -> int:
        return self.count

    def label(self) -> str:
        return f"repeat {self.count}"


@register
class Residual(Container):
    """`residual { conv2d ->16 kernel=3 padding=same; batch_norm; relu }`: `x + body(x)`; the body keeps the shape."""

    kind: Literal["residual"] = "residual"
    keyword = "residual"
    example = "residual { linear ->16; relu }"

    def infer(self, t: TensorType) -> TensorType | Fault:
        given = self.body_output(t)
        if given.sizes != t.sizes or given.dtype != t.dtype:
            return Fault(f"`residual` adds its input to what its layers give, but they take {t} and give {given}",
                         label=f"gives {given}", hint=f"the layers inside must give back {t}", arriving=str(t),
                         code=codes.RESIDUAL_SHAPE)
        return t

    def call(self, t: TensorType) -> Call:
        return Call("Residual", home="compiler.modules")

    def describe(self, t: TensorType) -> str:
        return "Residual"


class BlockUse(Container):
    """A named block used as a layer: `stem`, or `stem * 2` (its layers twice over, each copy its own weights)."""

    kind: Literal["block"] = "block"
    name: str = Field(title="block name",
                      description="the name of the block to use")
    count: int = Field(1, ge=1, title="number of copies",
                       description="how many times the block is used over (`name * 2`)")
    internal = ("layers", "name", "count")

    def times(self) -> int:
        return self.count

    def label(self) -> str:
        return self.name if self.count == 1 else f"{self.name} x{self.count}"


@register
class BlockDefinition(StatementModel):
    """`block stem { conv2d ->16 kernel=3; relu; max_pool2d 2 }`: layers named once, used as `stem` or `stem * 2`."""

    name: str = Field(title="block name",
                      description="the name the block is used by")
    keyword = "block"
    positional = ("name",)
    example = "block stem { conv2d ->16 kernel=3; relu }"
