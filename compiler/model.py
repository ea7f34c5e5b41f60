"""The checked spec: everything the runtime needs, validated and frozen.

In: the settings and resolved layers found by `check`. Out: `CheckedSpec`
(pydantic; layers, optimizer and loss are discriminated unions on `kind`) and
`Program`, which pairs it with the source text and the span of each layer so
that later stages can still point at the file, and with the warnings `check`
found (what is accepted but is likely a mistake).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any, Union

from pydantic import BaseModel, ConfigDict, Field

from spec_lang import ast
from spec_lang.errors import Diagnostic

from . import layers as _layers
from . import losses as _losses
from . import optimizers as _optimizers
from .data_file import Table
from .registry import FAMILIES, layer_classes
from .settings import Data, Example, Vector
from .sweep import Sweep
from .types import TensorType

if TYPE_CHECKING:  # to the type checker, each union is its base class
    from .layers.base import Layer as LayerModel
    from .losses import Loss as LossModel
    from .optimizers import Optimizer as OptimizerModel
else:
    def _union(classes: list[type]) -> Any:
        return Annotated[Union[tuple(classes)], Field(discriminator="kind")]

    LayerModel = _union(layer_classes())
    OptimizerModel = _union(list(FAMILIES["optimizer"].values()))
    LossModel = _union(list(FAMILIES["loss"].values()))


class LayerInfo(BaseModel):
    """One row of the model summary, for one example (the batch dimension is left out)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    index: int
    name: str = Field(description="the layer's torch module as its constructor call, e.g. `Linear(2, 3)`")
    input_width: int = Field(description="the values of one example flowing in: the product of `input_shape`")
    output_width: int = Field(description="the values of one example flowing out: the product of `output_shape`")
    parameters: int
    input_shape: tuple[int, ...] = Field((), description="the per-example shape flowing in, e.g. [1, 8, 8]")
    output_shape: tuple[int, ...] = Field((), description="the per-example shape flowing out, e.g. [16, 8, 8]")
    input_dtype: str = Field("float32", description="float32, or int64 for token ids")
    output_dtype: str = Field("float32", description="float32, or int64 for token ids")
    flops: int = Field(0, description="multiply-accumulates per example (MACs, as torchinfo counts them)")


class CheckedSpec(BaseModel):
    """Built by `check` from parts validated one statement at a time (so the check
    path never builds this model's own validator); validate it yourself with
    `CheckedSpec.model_validate(...)`."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    input_type: TensorType
    layers: tuple[LayerModel, ...]
    optimizer: OptimizerModel = Field(default_factory=lambda: _optimizers.DEFAULT)
    loss: LossModel = Field(default_factory=lambda: _losses.DEFAULT)
    epochs: int = 100
    examples: tuple[Example, ...] = ()
    evals: tuple[Vector, ...] = ()
    seed: int = 0
    batch: int | None = None
    shuffle: bool = False
    held_out: float | None = None  # `validate`: share of the rows held out to measure validation loss
    data: Data | None = None

    @cached_property
    def _types(self) -> tuple[TensorType, ...]:
        found = [self.input_type]
        for layer in self.layers:
            given = layer.infer(found[-1])
            if not isinstance(given, TensorType):  # only while `check` is still collecting errors: as the shape
                given = layer.recover(found[-1]) or found[-1]  # pass goes on, as if the layer were right
            found.append(given)
        return tuple(found)

    def types(self) -> tuple[TensorType, ...]:
        """The type flowing into each layer, then the network's output type (one more than the layers)."""
        return self._types

    def summary(self) -> tuple[LayerInfo, ...]:
        types = self.types()
        return tuple(LayerInfo(index=index, name=layer.describe(t), input_width=t.values,
                               output_width=out.values, parameters=layer.parameter_count(t),
                               input_shape=t.sizes, output_shape=out.sizes, input_dtype=t.dtype,
                               output_dtype=out.dtype, flops=layer.flops(t))
                     for index, (layer, t, out) in enumerate(zip(self.layers, types, types[1:], strict=False)))

    @property
    def input_width(self) -> int:
        """The values of one example."""
        return self.input_type.values

    @property
    def output_type(self) -> TensorType:
        return self.types()[-1]

    @property
    def output_width(self) -> int:
        """The values the network gives for one example."""
        return self.output_type.values

    @property
    def parameter_count(self) -> int:
        types = self.types()
        return sum(layer.parameter_count(t) for layer, t in zip(self.layers, types, strict=False))


@dataclass(frozen=True)
class Program:
    """A checked spec with the text it came from. For a sweep (a spec with `choice(...)`
    values), `sweep` holds every combination, each checked, and `spec` is the first."""

    spec: CheckedSpec
    source: str
    filename: str
    layer_spans: tuple[ast.Span, ...]
    data_span: ast.Span | None = None
    table: Table | None = None  # the rows of a `data` file, read when the spec was checked
    warnings: tuple[Diagnostic, ...] = ()  # severity "warning", in source order; they stop nothing
    sweep: Sweep | None = None


_ = _layers  # the layer classes must be registered before the unions above are built
