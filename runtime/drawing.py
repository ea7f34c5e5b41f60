"""The trained weights that `--draw` shows, as the nested lists `compiler.draw` reads.

In: a run's final parameter tensors by state_dict name. Out: nested lists by
the same names. A network of at most `LISTED_VALUES` values gives every value.
A larger one gives only what a drawing can show, without turning its large
tensors into Python floats: a column of the drawing shows at most
`MAX_SHOWN` units, the first and the last ones, so each tensor keeps its
first and last `MAX_SHOWN // 2` rows and columns; the rows between are empty
and the columns between are 0. A connection's thickness is then relative to
the largest weight drawn rather than the largest in the network.
"""

from __future__ import annotations

import torch

from compiler.draw import MAX_SHOWN

from .tensors import listed

EDGE = MAX_SHOWN // 2


def drawn_weights(tensors: dict[str, torch.Tensor]) -> dict[str, list]:
    if listed(tensors):
        return {name: t.tolist() for name, t in tensors.items()}
    return {name: _ends(t) for name, t in tensors.items()}


def _ends(tensor: torch.Tensor) -> list:
    if tensor.dim() == 1:
        return _row(tensor)
    rows = tensor.shape[0]
    return [_row(tensor[k]) if k < EDGE or k >= rows - EDGE else [] for k in range(rows)]


def _row(values: torch.Tensor) -> list[float]:
    count = values.shape[0]
    if count <= MAX_SHOWN:
        return values.tolist()
    return values[:EDGE].tolist() + [0.0] * (count - 2 * EDGE) + values[-EDGE:].tolist()
