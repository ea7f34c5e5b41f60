"""The run's settings: input, epochs, example, eval, seed, batch, shuffle, validate, data.

In: a setting statement's arguments. Out: a frozen model per statement. Each
setting may be given once, except `example` and `eval`.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from .registry import register
from .statement import StatementModel, fits_float32

Vector = tuple[float, ...]
Method = Literal["standard", "minmax"]  # how `normalize` scales each input (compiler/normalize.py)


def _as_vector(value: Any) -> Any:
    """A bare number where a vector is expected is a vector of one."""
    return (value,) if isinstance(value, (int, float)) else value


FLOAT32_HINT = "networks compute in float32, which holds values up to about 3.4e38"


def _fits_float32(vector: tuple[float, ...]) -> tuple[float, ...]:
    for value in vector:
        if not fits_float32(value):
            raise PydanticCustomError("float32", "{value} is too large for float32", {"value": f"{value:g}"})
    return vector


def _sizes(value: Any) -> Any:
    """Every size of a shape is at least 1."""
    for size in value or ():
        if size < 1:
            raise PydanticCustomError("size", "a shape's sizes are at least 1, not {size}", {"size": size})
    return value


@register
class Input(StatementModel):
    """`input 2` (a vector of two), `input 1x8x8` (channels x height x width), `input 20x1` (steps x features)."""

    shape: tuple[int, ...] = Field(min_length=1, title="input shape")
    keyword = "input"
    positional = ("shape",)
    example = "input 2"
    hints = {"shape": "the size of one example, e.g. `input 2` or `input 1x8x8`"}

    _vector = field_validator("shape", mode="before")(_as_vector)
    _positive = field_validator("shape")(_sizes)

    @property
    def width(self) -> int:
        return math.prod(self.shape)


@register
class Epochs(StatementModel):
    count: int = Field(ge=1, title="number of epochs")
    hints = {"count": "train for at least one epoch, e.g. `epochs 100`"}
    keyword = "epochs"
    sweepable = frozenset({"count"})
    positional = ("count",)
    example = "epochs 100"


@register
class Seed(StatementModel):
    value: int = Field(ge=0, lt=2**63, title="seed")
    hints = {"value": "a seed is a whole number from 0, e.g. `seed 0`"}
    keyword = "seed"
    fixed_hint = "to train several seeds of every combination, use `--runs N` (seeds `seed` to `seed`+N-1)"
    positional = ("value",)
    example = "seed 0"


@register
class Batch(StatementModel):
    size: int = Field(ge=1, title="batch size")
    hints = {"size": "a batch holds at least one example, e.g. `batch 4`"}
    keyword = "batch"
    sweepable = frozenset({"size"})
    positional = ("size",)
    example = "batch 4"


@register
class Shuffle(StatementModel):
    keyword = "shuffle"


@register
class Validate(StatementModel):
    fraction: float = Field(gt=0, lt=1, title="held-out fraction")
    keyword = "validate"
    fixed_hint = "every combination of a sweep is measured on the same held-out rows: write one spec per fraction"
    positional = ("fraction",)
    example = "validate 0.2"
    hints = {"fraction": "the share of rows held out for validation, between 0 and 1, e.g. `validate 0.2`"}


@register
class Example(StatementModel):
    input: Vector = Field(min_length=1, title="example input")
    target: Vector = Field(min_length=1, title="example target")
    keyword = "example"
    arrow = ("input", "target")
    positional = ("input",)
    repeatable = True
    example = "example [1, 1] -> [10]"
    missing = {"target": ("`example` needs a target", "write the target after an arrow: `example [1, 1] -> [10]`")}

    _vectors = field_validator("input", "target", mode="before")(_as_vector)
    _finite = field_validator("input", "target")(_fits_float32)


@register
class Eval(StatementModel):
    input: Vector = Field(min_length=1, title="`eval` input")
    keyword = "eval"
    positional = ("input",)
    repeatable = True
    example = "eval [1, 1]"

    _vectors = field_validator("input", mode="before")(_as_vector)
    _finite = field_validator("input")(_fits_float32)


@register
class Data(StatementModel):
    path: str = Field(min_length=1, title="file name")
    inputs: tuple[str, ...] | None = Field(None, title="input columns")
    target: tuple[str, ...] | None = Field(None, title="target columns")
    header: Literal["auto", "yes", "no"] = Field("auto", title="header")
    delimiter: str = Field(",", title="delimiter")
    shape: tuple[int, ...] | None = Field(None, min_length=1, title="input shape")
    normalize: Method | None = Field(None, title="normalisation")
    keyword = "data"
    positional = ("path",)
    example = 'data "xor.csv"'
    hints = {"delimiter": 'the character between columns, e.g. `delimiter=";"`, or `delimiter=tab`',
             "shape": "the shape of one example's inputs, e.g. `shape=1x8x8`",
             "normalize": "`normalize=standard` (mean 0, standard deviation 1) or `normalize=minmax` (each input "
                          "to 0..1)"}

    _shape = field_validator("shape", mode="before")(_as_vector)
    _positive = field_validator("shape")(_sizes)

    @field_validator("delimiter", mode="before")
    @classmethod
    def _delimiter(cls, value: Any) -> Any:
        if value == "tab":
            return "\t"
        if not isinstance(value, str) or len(value) != 1 or value in '"\r\n' or value.isalnum() or value in ".+-":
            raise PydanticCustomError("delimiter", "the delimiter must be one character that is not part of a "
                                      "number or a quote, such as `;` or `tab`")
        return value

    @field_validator("inputs", "target", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        return (value,) if isinstance(value, (str, int)) else value


@register
class Test(StatementModel):
    """`test "test.csv"`: rows never trained on, scored when training ends (read as the `data` statement says)."""

    path: str = Field(min_length=1, title="file name")
    keyword = "test"
    positional = ("path",)
    example = 'test "test.csv"'
    fixed_hint = "every combination of a sweep is scored on the same test rows"
