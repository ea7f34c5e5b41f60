"""The type of the tensor flowing between layers, for one example (the batch
dimension is implicit), without torch.

In: sizes, optional dimension names (`C`, `H`, `W`, `T`, `F`, `L`) and a dtype.
Out: a frozen `TensorType` that prints as users read it (`[16, 8, 8]`, or
`[10] int64` for token ids), with the helpers the shape pass and the layers use.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

DType = Literal["float32", "int64"]


@dataclass(frozen=True, slots=True)
class Dim:
    """One per-example dimension: its size and, where it has a meaning, a name."""

    size: int
    name: str = ""


@dataclass(frozen=True, slots=True)
class TensorType:
    """The per-example shape and dtype of a tensor."""

    dims: tuple[Dim, ...]
    dtype: DType = "float32"

    @classmethod
    def of(cls, *sizes: int, names: str = "", dtype: DType = "float32") -> TensorType:
        """`TensorType.of(1, 8, 8, names="CHW")`; names, when given, one letter per size."""
        return cls(tuple(Dim(size, names[i] if i < len(names) else "") for i, size in enumerate(sizes)), dtype)

    @classmethod
    def vector(cls, width: int) -> TensorType:
        return cls((Dim(width),))

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple([dim.size for dim in self.dims])

    @property
    def rank(self) -> int:
        return len(self.dims)

    @property
    def values(self) -> int:
        """How many values one example holds."""
        return math.prod([dim.size for dim in self.dims])

    @property
    def last(self) -> int:
        return self.dims[-1].size

    @property
    def names(self) -> str:
        return "".join(dim.name or "?" for dim in self.dims)

    def with_last(self, size: int, name: str | None = None) -> TensorType:
        last = self.dims[-1]
        return TensorType((*self.dims[:-1], Dim(size, last.name if name is None else name)), "float32")

    def with_sizes(self, *sizes: int, names: str = "", dtype: DType = "float32") -> TensorType:
        return TensorType.of(*sizes, names=names, dtype=dtype)

    def __str__(self) -> str:
        text = "[" + ", ".join(str(size) for size in self.sizes) + "]"
        return text if self.dtype == "float32" else f"{text} {self.dtype}"

    @property
    def written(self) -> str:
        """The shape as a spec writes it: `1x8x8`, `2`."""
        return "x".join(str(size) for size in self.sizes)
