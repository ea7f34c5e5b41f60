"""Tensors in reports: kept as tensors, written as lists or as summaries.

In: parameter and gradient tensors (a run's snapshots, a trace). Out: the
pydantic field types that hold them (`Values`: written to JSON as nested lists;
`Snapshot`: as nested lists or as a `TensorSummary`), `summary(tensor)` (count,
mean, min, max and a sha256 of the values) and `listed(tensors)`, the rule for
when a report lists every value: when the network holds at most
`LISTED_VALUES` values in all. Above that each tensor is written as its
summary, unless `--full-parameters` asks for every value. Nothing here turns a
large tensor into Python floats.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, GetCoreSchemaHandler
from pydantic_core import core_schema

if TYPE_CHECKING:  # torch is imported where a tensor is first handled: the report's schema needs none
    import torch

LISTED_VALUES = 100_000  # a network of more values is reported in summaries
CHUNK = 1 << 20


class TensorSummary(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    shape: tuple[int, ...]
    count: int = Field(description="number of values")
    mean: float | None = Field(description="mean of the values (null when there are none)")
    min: float | None
    max: float | None
    sha256: str = Field(description="sha256 of the values as little-endian float32 bytes, in row-major order")


def summary(tensor: torch.Tensor) -> TensorSummary:
    """The tensor summed up, without copying it into Python floats."""
    count, mean, low, high = stats(tensor)
    return TensorSummary(shape=tuple(tensor.shape), count=count, mean=mean, min=low, max=high, sha256=sha256(tensor))


def stats(tensor: torch.Tensor) -> tuple[int, float | None, float | None, float | None]:
    """(count, mean, min, max): the summary without its hash, as the text report prints it."""
    values = tensor.detach()
    count = values.numel()
    if not count:
        return 0, None, None, None
    return count, _sum(values) / count, values.min().item(), values.max().item()


def _sum(values: torch.Tensor) -> float:
    """The sum in float64, a chunk at a time (a whole float64 copy would double the memory)."""
    import torch

    return sum(chunk.sum(dtype=torch.float64).item() for chunk in values.reshape(-1).split(CHUNK))


def sha256(tensor: torch.Tensor) -> str:
    import torch

    values = tensor.detach().cpu().to(torch.float32).contiguous().numpy().astype("<f4", copy=False)
    return hashlib.sha256(values.data).hexdigest()  # the array's own bytes, not a copy


def listed(tensors: dict[str, torch.Tensor], full: bool = False) -> bool:
    """Whether a report lists every value of these tensors (rather than their summaries)."""
    return full or sum(t.numel() for t in tensors.values()) <= LISTED_VALUES


def as_tensor(value: Any) -> torch.Tensor:
    import torch

    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, list):
        return torch.tensor(value, dtype=torch.float32)
    raise ValueError("expected a tensor or nested lists of floats; a summarised tensor cannot be read back")


def as_lists(value: torch.Tensor) -> Any:
    return value.tolist()


class _Tensor:
    """A `torch.Tensor` field: validated as a tensor (or nested lists), described
    in JSON Schema as `described`, written to JSON as nested lists."""

    def __init__(self, described: Any) -> None:
        self.described = described

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        validate = core_schema.no_info_plain_validator_function(as_tensor)
        return core_schema.json_or_python_schema(
            json_schema=core_schema.chain_schema([handler.generate_schema(self.described), validate]),
            python_schema=validate,
            serialization=core_schema.plain_serializer_function_ser_schema(as_lists, when_used="json"))


if TYPE_CHECKING:
    Values = Annotated[torch.Tensor, _Tensor(list[Any])]
    Snapshot = Annotated[torch.Tensor, _Tensor(list[Any] | TensorSummary | int | float)]  # a 0-d buffer: a number
else:  # the same fields, described without importing torch
    Values = Annotated[Any, _Tensor(list[Any])]
    Snapshot = Annotated[Any, _Tensor(list[Any] | TensorSummary | int | float)]
