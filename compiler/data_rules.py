"""The rules that decide which rows train, shared by checking, training and the
emitted program, so that each is written once.

In: counts and settings. Out: numbers (no torch here).
"""

from __future__ import annotations


def held_out_rows(fraction: float, rows: int) -> int:
    """How many of `rows` a `validate` share holds out: at least one, and one fewer than all."""
    return max(1, min(rows - 1, round(fraction * rows)))
