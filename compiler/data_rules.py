"""The rules that decide which rows train, shared by checking, training and the
emitted program, so that each is written once.

In: counts and settings. Out: numbers (no torch here).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import CheckedSpec


def held_out_rows(fraction: float, rows: int) -> int:
    """How many of `rows` a `validate` share holds out: at least one, and one fewer than all."""
    return max(1, min(rows - 1, round(fraction * rows)))


def batch_rows(size: int, batch: int | None) -> list[int]:
    """The rows of each batch of an epoch of `size` rows in batches of `batch` (None: one batch)."""
    step = batch or size or 1  # no rows: no batches
    return [min(step, size - start) for start in range(0, size, step)]


def trained_rows(rows: int, held_out: float | None) -> int:
    """The rows left to train on once `validate` holds its share out."""
    return rows - (held_out_rows(held_out, rows) if held_out and rows >= 2 else 0)


def smallest_batch(rows: int, held_out: float | None, batch: int | None) -> int:
    """The fewest rows one optimizer step trains on: the last batch of an epoch, or the only one."""
    held = held_out_rows(held_out, rows) if held_out and rows >= 2 else 0
    trained = rows - held
    step = batch or trained
    return trained % step or step


def plain_vector(spec: CheckedSpec) -> bool:
    """Whether one example goes in as a plain vector, as the tutorial feeds it (a single training
    row, an `eval`): a vector input, and only layers whose modules take one without a batch dim.
    Otherwise it goes in as a batch of one row."""
    return spec.input_type.rank == 1 and all(layer.unbatched for layer in spec.flat()[0])


def rows_per_step(rows: int, held_out: float | None, batch: int | None) -> int:
    """The most rows one optimizer step (or one held-out pass) runs through the network at once."""
    held = held_out_rows(held_out, rows) if held_out and rows >= 2 else 0
    trained = rows - held
    return max(min(batch, trained) if batch else trained, held)
