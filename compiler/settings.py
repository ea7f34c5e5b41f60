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

    shape: tuple[int, ...] = Field(min_length=1, title="input shape",
                                   description="the shape of one example: `2`, or `1x8x8` for channels x height "
                                               "x width")
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
    """`epochs 100`: passes over the training data (default 100)."""

    count: int = Field(ge=1, title="number of epochs",
                       description="passes over the training data")
    hints = {"count": "train for at least one epoch, e.g. `epochs 100`"}
    keyword = "epochs"
    sweepable = frozenset({"count"})
    positional = ("count",)
    example = "epochs 100"


@register
class Seed(StatementModel):
    """`seed 0`: the random seed (default 0)."""

    value: int = Field(ge=0, lt=2**63, title="seed",
                       description="the random seed; `--seed` on the command line overrides it")
    hints = {"value": "a seed is a whole number from 0, e.g. `seed 0`"}
    keyword = "seed"
    fixed_hint = "to train several seeds of every combination, use `--runs N` (seeds `seed` to `seed`+N-1)"
    positional = ("value",)
    example = "seed 0"


@register
class Batch(StatementModel):
    """`batch 4`: examples per optimizer step (default: the whole set)."""

    size: int = Field(ge=1, title="batch size",
                      description="examples per optimizer step; left out, the whole set")
    hints = {"size": "a batch holds at least one example, e.g. `batch 4`"}
    keyword = "batch"
    sweepable = frozenset({"size"})
    positional = ("size",)
    example = "batch 4"


@register
class Shuffle(StatementModel):
    """`shuffle`: shuffle the examples every epoch (seeded); `buffer=N`: a streamed data file is shuffled
    N rows at a time (its pieces in a shuffled order)."""

    buffer: int | None = Field(None, ge=1, title="shuffle buffer",
                               description="rows a streamed data file is shuffled among at once; left out, "
                                           "100,000 or what the memory budget holds")
    keyword = "shuffle"
    hints = {"buffer": "the rows shuffled together when a data file is streamed, e.g. `shuffle buffer=100000`"}


@register
class Validate(StatementModel):
    """`validate 0.2`: hold out this share of the rows and report their loss after every epoch."""

    fraction: float = Field(gt=0, lt=1, title="held-out fraction",
                            description="the share of rows held out to measure the validation loss, between 0 and 1")
    keyword = "validate"
    fixed_hint = "every combination of a sweep is measured on the same held-out rows: write one spec per fraction"
    positional = ("fraction",)
    example = "validate 0.2"
    hints = {"fraction": "the share of rows held out for validation, between 0 and 1, e.g. `validate 0.2`"}


@register
class Example(StatementModel):
    """`example [1, 1] -> [10]`: one training example, its input and its target."""

    input: Vector = Field(min_length=1, title="example input",
                          description="the input values of one training example")
    target: Vector = Field(min_length=1, title="example target",
                           description="the values the network should give for it")
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
    """`eval [1, 1]`: an input to run through the trained network."""

    input: Vector = Field(min_length=1, title="`eval` input",
                          description="an input to run through the trained network")
    keyword = "eval"
    positional = ("input",)
    repeatable = True
    example = "eval [1, 1]"

    _vectors = field_validator("input", mode="before")(_as_vector)
    _finite = field_validator("input")(_fits_float32)


@register
class Data(StatementModel):
    """`data "file.csv"`: training rows from a CSV, .npz or Parquet file, or the files a glob matches
    (`shards/*.csv`), relative to the spec's folder."""

    path: str = Field(min_length=1, title="file name",
                      description="the data file, relative to the spec's folder: a CSV, .npz or Parquet "
                                  "file, or a glob of CSV or Parquet files (`shards/*.csv`)")
    inputs: tuple[str, ...] | None = Field(None, title="input columns",
                                           description="the input columns, by header name; left out, the "
                                                       "columns that are not targets")
    target: tuple[str, ...] | None = Field(None, title="target columns",
                                           description="the target column(s), by header name; left out, the "
                                                       "columns that are not inputs")
    header: Literal["auto", "yes", "no"] = Field("auto", title="header",
                                                 description="whether the first row is a header: `yes`, `no`, "
                                                             "or `auto` (a header when none of its cells is a number)")
    delimiter: str = Field(",", title="delimiter",
                           description="the one character between columns, e.g. `\";\"` or `tab`")
    shape: tuple[int, ...] | None = Field(None, min_length=1, title="input shape",
                                          description="the shape of one example's inputs, e.g. `1x8x8`: each "
                                                      "row's input cells, in row-major order")
    normalize: Method | None = Field(None, title="normalisation",
                                     description="scale each input column by the training rows' statistics: "
                                                 "`standard` or `minmax`")
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

    path: str = Field(min_length=1, title="file name",
                      description="the test file, relative to the spec's folder, read as the `data` statement says")
    keyword = "test"
    positional = ("path",)
    example = 'test "test.csv"'
    fixed_hint = "every combination of a sweep is scored on the same test rows"
