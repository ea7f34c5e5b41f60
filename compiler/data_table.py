"""The rows a data file holds, as `check` reads them and training uses them.

In: the values read from a CSV, .npz or Parquet file. Out: a frozen `Table`:
inputs and targets as flat row-major arrays, one example's input and target
shape, the column (or array) names and the class labels. No torch here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

from .csv_layout import DataWarning


class Widths:
    """The values of one example's inputs and of its targets, from their shapes."""

    input_shape: tuple[int, ...]
    target_shape: tuple[int, ...]

    @property
    def input_width(self) -> int:
        return math.prod(self.input_shape)

    @property
    def target_width(self) -> int:
        return math.prod(self.target_shape)


@dataclass(frozen=True)
class Table(Widths):
    """Rows read from a data file: flat row-major arrays, `input_width` and `target_width` values a row.
    From a CSV file they are `array('d')`; from an .npz file, the file's own NumPy arrays (any numeric dtype);
    from a Parquet file (or files of a glob, once one is Parquet or has text labels), NumPy float64 arrays."""

    streamed: ClassVar[bool] = False  # read whole (`data_stream.StreamedTable` is read a piece at a time)
    path: str
    inputs: Any  # array('d') | numpy.ndarray, flat
    targets: Any
    input_names: tuple[str, ...]  # the columns, or the .npz array
    target_names: tuple[str, ...]
    classes: tuple[str, ...] = ()  # class label of each target index, when targets were text
    warnings: tuple[DataWarning, ...] = ()
    input_shape: tuple[int, ...] = ()  # one example's inputs (a CSV row: its input columns)
    target_shape: tuple[int, ...] = ()  # one example's targets; () is a single value
    shaped: bool = False  # the inputs' shape is stated (`shape=`), or the file's arrays have one; else a vector

    @property
    def rows(self) -> int:
        return len(self.inputs) // max(1, self.input_width)

    def row(self, values: Any, index: int, width: int) -> list[float]:
        """Row `index` of `values` (`inputs` or `targets`) as Python numbers."""
        return list(values[index * width:(index + 1) * width].tolist())
