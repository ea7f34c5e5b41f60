"""The checked spec: everything the runtime needs, validated and frozen.

In: the settings and resolved layers found by `check`. Out: `CheckedSpec`
(pydantic; layers, optimizer and loss are discriminated unions on `kind`) and
`Program`, which pairs it with the source text and the span of each layer so
that later stages can still point at the file, and with the warnings `check`
found (what is accepted but is likely a mistake).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any, Union

from pydantic import BaseModel, ConfigDict, Field

from spec_lang import ast
from spec_lang.errors import Diagnostic

from . import layers as _layers
from . import losses as _losses
from . import optimizers as _optimizers
from .control import Clip, Stop
from .data_file import Table
from .layers.base import inferred
from .layers.blocks import Container, Step
from .registry import FAMILIES, layer_classes
from .schedules import Warmup
from .settings import Data, Example, Method, Vector
from .sweep import Sweep
from .types import TensorType

if TYPE_CHECKING:  # to the type checker, each union is its base class
    from .inits import Init as InitModel
    from .layers.base import Layer as LayerModel
    from .losses import Loss as LossModel
    from .optimizers import Optimizer as OptimizerModel
    from .schedules import Schedule as ScheduleModel
else:
    def _union(classes: list[type]) -> Any:
        return Annotated[Union[tuple(classes)], Field(discriminator="kind")]

    LayerModel = _union(layer_classes(blocks=True))
    OptimizerModel = _union(list(FAMILIES["optimizer"].values()))
    LossModel = _union(list(FAMILIES["loss"].values()))
    ScheduleModel = _union(list(FAMILIES["schedule"].values()))
    InitModel = _union(list(FAMILIES["init"].values()))


class LayerInfo(BaseModel):
    """One row of the model summary, for one example (the batch dimension is left out)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    index: int
    path: str = Field("", description="the module's path in the network, as torch names its parameters: "
                                      "`1`, or `1.0` for the first layer inside the block at 1")
    block: bool = Field(False, description="a block (`repeat`, `residual`, a named block): the rows after it "
                                           "whose paths start with its own are the layers inside it, and its "
                                           "parameters and MACs are theirs")
    name: str = Field(description="the layer's torch module as its constructor call, e.g. `Linear(2, 3)`")
    input_width: int = Field(description="the values of one example flowing in: the product of `input_shape`")
    output_width: int = Field(description="the values of one example flowing out: the product of `output_shape`")
    parameters: int
    input_shape: tuple[int, ...] = Field((), description="the per-example shape flowing in, e.g. [1, 8, 8]")
    output_shape: tuple[int, ...] = Field((), description="the per-example shape flowing out, e.g. [16, 8, 8]")
    input_dtype: str = Field("float32", description="float32, or int64 for token ids")
    output_dtype: str = Field("float32", description="float32, or int64 for token ids")
    flops: int = Field(0, description="multiply-accumulates per example (MACs, as torchinfo counts them)")
    init: str | None = Field(None, description="how its weights started, as `init` says: the torch.nn.init "
                                               "function and its arguments (biases 0); None: torch's own start")


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
    shuffle_buffer: int | None = None  # `shuffle buffer=N`: rows shuffled together when the data is streamed
    held_out: float | None = None  # `validate`: share of the rows held out to measure validation loss
    data: Data | None = None
    schedule: ScheduleModel | None = None  # how the learning rate moves (`schedules.lr_plan`)
    warmup: Warmup | None = None
    stop: Stop | None = None  # early stopping
    clip: Clip | None = None  # gradient clipping, between backward and step
    init: InitModel | None = None  # the `init` statement; each weighted layer carries its own, resolved
    normalize: Method | None = None  # `normalize`, or `data`'s `normalize=`: inputs scaled by training statistics

    @cached_property
    def _types(self) -> tuple[TensorType, ...]:
        found = [self.input_type]
        for layer in self.layers:
            given = inferred(layer, found[-1])
            if not isinstance(given, TensorType):  # only while `check` is still collecting errors: as the shape
                given = layer.recover(found[-1]) or found[-1]  # pass goes on, as if the layer were right
            found.append(given)
        return tuple(found)

    def types(self) -> tuple[TensorType, ...]:
        """The type flowing into each layer, then the network's output type (one more than the layers)."""
        return self._types

    @cached_property
    def _steps(self) -> tuple[Step, ...]:
        found: list[Step] = []
        types = self.types()
        for index, (layer, t, out) in enumerate(zip(self.layers, types, types[1:], strict=False)):
            if isinstance(layer, Container):
                found += layer.walk(t, str(index), 0)
            else:
                found.append(Step(str(index), 0, layer, t, out))
        return tuple(found)

    def steps(self) -> tuple[Step, ...]:
        """Every layer with its module path (`1.0`) and the types in and out: a block, then the layers inside it."""
        return self._steps

    def flat(self) -> tuple[tuple[LayerModel, ...], tuple[TensorType, ...]]:
        """The layers data goes through, blocks counted out, and the type into each, then the output:
        what `layers` and `types()` are for a network without blocks."""
        leaves = [step for step in self._steps if not isinstance(step.layer, Container)]
        return tuple(s.layer for s in leaves), tuple([self.input_type] + [s.given for s in leaves])

    def summary(self) -> tuple[LayerInfo, ...]:
        return tuple(LayerInfo(index=index, path=step.path, block=isinstance(step.layer, Container),
                               name=step.layer.describe(step.arriving), input_width=step.arriving.values,
                               output_width=step.given.values, parameters=step.layer.parameter_count(step.arriving),
                               input_shape=step.arriving.sizes, output_shape=step.given.sizes,
                               input_dtype=step.arriving.dtype, output_dtype=step.given.dtype,
                               flops=step.layer.flops(step.arriving), init=_init_text(step.layer))
                     for index, step in enumerate(self.steps()))

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


def _init_text(layer: LayerModel) -> str | None:
    init = getattr(layer, "init", None)  # layers with weights have one
    if init is None:
        return None
    return f"{init.torch_init}({', '.join(f'{k}={v!r}' for k, v in init.torch_kwargs().items())})"


@dataclass(frozen=True)
class Program:
    """A checked spec with the text it came from. For a sweep (a spec with `choice(...)`
    values), `sweep` holds every combination, each checked, and `spec` is the first."""

    spec: CheckedSpec
    source: str
    filename: str
    layer_spans: tuple[ast.Span, ...]  # each layer's statement, in `spec.layers`' order (a block's whole)
    data_span: ast.Span | None = None
    table: Table | None = None  # the rows of a `data` file, read when the spec was checked
    warnings: tuple[Diagnostic, ...] = ()  # severity "warning", in source order; they stop nothing
    path_spans: Mapping[str, ast.Span] = field(default_factory=dict)  # module path (`1.0`) -> its statement

    def span_of(self, name: str) -> ast.Span | None:
        """The statement that made a module or parameter, by its torch name (`1.0.weight`):
        the innermost layer whose path the name starts with."""
        parts = name.split(".")
        for end in range(len(parts), 0, -1):
            found = self.path_spans.get(".".join(parts[:end]))
            if found is not None:
                return found
        index = int(parts[0]) if parts[0].isdigit() else -1
        return self.layer_spans[index] if 0 <= index < len(self.layer_spans) else None
    sweep: Sweep | None = None
    test_table: Table | None = None  # the rows of a `test` file, scored once training ends


_ = _layers  # the layer classes must be registered before the unions above are built
