"""The checked spec: everything the runtime needs, validated and frozen.

In: the settings and resolved layers found by `check`. Out: `CheckedSpec`
(pydantic; layers, optimizer and loss are discriminated unions on `kind`) and
`Program`, which pairs it with the source text and the span of each layer so
that later stages can still point at the file, and with the warnings `check`
found (what is accepted but is likely a mistake).
"""

from __future__ import annotations

from dataclasses import dataclass
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
    """One row of the model summary."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    index: int
    name: str
    input_width: int
    output_width: int
    parameters: int


class CheckedSpec(BaseModel):
    """Built by `check` from parts validated one statement at a time (so the check
    path never builds this model's own validator); validate it yourself with
    `CheckedSpec.model_validate(...)`."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    input_width: int
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

    def summary(self) -> tuple[LayerInfo, ...]:
        rows, width = [], self.input_width
        for index, layer in enumerate(self.layers):
            out = layer.output_width(width)
            rows.append(LayerInfo(index=index, name=layer.describe(), input_width=width,
                                  output_width=out, parameters=layer.parameter_count(width)))
            width = out
        return tuple(rows)

    @property
    def output_width(self) -> int:
        width = self.input_width
        for layer in self.layers:
            width = layer.output_width(width)
        return width

    @property
    def parameter_count(self) -> int:
        return sum(row.parameters for row in self.summary())


@dataclass(frozen=True)
class Program:
    """A checked spec with the text it came from."""

    spec: CheckedSpec
    source: str
    filename: str
    layer_spans: tuple[ast.Span, ...]
    data_span: ast.Span | None = None
    table: Table | None = None  # the rows of a `data` file, read when the spec was checked
    warnings: tuple[Diagnostic, ...] = ()  # severity "warning", in source order; they stop nothing


_ = _layers  # the layer classes must be registered before the unions above are built
