"""Token ids: what a network whose first layer takes ids (`embedding 50->8`) accepts as input values.

In: the bound layer statements. Out: `Ids` (how many ids the first layer knows, and its statement as
written, for hints), or None when the first layer takes floats; and `Ids.problem(value)`: why a value
is not one of those ids (not a whole number, or outside 0 to count - 1), or None. Every reader of
inputs (a CSV cell, an .npz array, an `example` or `eval`) holds its values to this one rule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .layers import Layer
from .shapes import leaf_bounds, statement_text
from .statement import Bound


@dataclass(frozen=True)
class Ids:
    """The ids the network takes: whole numbers from 0 to `count` - 1 (`count` None: any whole number from 0)."""

    count: int | None
    statement: str  # the first layer as written: `embedding 50->8`

    @property
    def hint(self) -> str:
        if self.count is None:
            return f"`{self.statement}` takes whole-number ids from 0"
        return f"`{self.statement}` takes ids 0 to {self.count - 1}"

    @property
    def span_label(self) -> str:
        return "takes ids" if self.count is None else f"takes ids 0 to {self.count - 1}"

    def problem(self, value: float, shown: str) -> str | None:
        """Why `value` (written as `shown`) is not an id the network takes, or None."""
        if not math.isfinite(value) or value != math.floor(value):
            return f"{shown} is not a whole-number id"
        if value < 0 or (self.count is not None and value >= self.count):
            return f"id {shown} is outside 0 to {self.count - 1}" if self.count else f"id {shown} is negative"
        return None


def ids_of(layers: list[Bound]) -> Ids | None:
    """The ids the first layer takes, if it takes ids (its `id_count()` says how many)."""
    bound = next(leaf_bounds(layers), None)
    if bound is None:
        return None
    first: Layer = bound.model  # type: ignore[assignment]
    if not first.takes_ids:
        return None
    return Ids(first.id_count(), statement_text(bound.statement))
