"""The fast way through a CSV file of numbers: every cell at once, read by pyarrow or NumPy.

In: the table `data_file` read cell by cell from the file's first lines (the
head: where the header, the layout and the columns are decided, and where
most mistakes show), which columns it took (`Layout`), and the file's bytes
after the head. Out: the whole table, its inputs and targets as flat NumPy
float64 arrays; or None whenever the rest might read otherwise than cell by
cell: a character that is not part of a number (a letter, a quote, a byte
outside ASCII), a lone carriage return, a row of another width, an empty
cell, a value that is not finite or beyond float32, an input that is not an
id the network takes, more rows than --max-examples. `data_file` then reads
the whole file cell by cell, which finds the first problem and words it.

Only digits, `.`, `e`, `E`, signs, blanks and the delimiter pass: in them
Python's `float` (what the careful reader calls), pyarrow's reader and
NumPy's `loadtxt` take the same numbers, each rounded correctly, and refuse
the same cells (tests/test_csv_fast.py holds them to it). pyarrow (the
`parquet` extra) is imported when a file is read and used when installed;
else NumPy's `loadtxt`. Neither makes a Python object per cell.
"""

from __future__ import annotations

import io
from dataclasses import replace
from typing import Any, NamedTuple

from .csv_layout import SAMPLE
from .data_ids import Ids
from .data_table import Table
from .limits import Limits
from .statement import FLOAT32_MAX

HEAD_LINES = 2 * SAMPLE + 2  # lines read cell by cell before the rest is read at once
_NUMBER_BYTES = b"0123456789.eE+- \t\r\n"


class Layout(NamedTuple):
    """What the careful reader decided from the head of a file."""

    columns: int  # columns in a row
    inputs: list[int]  # the input columns, in order
    targets: list[int]  # the target columns, in order
    rows: int  # rows it read, the header included


def head_end(raw: bytes, delimiter: str) -> int | None:
    """Where the first `HEAD_LINES` lines of a file end, when the rest may be read fast; None
    for a shorter file, one that starts with a byte-order mark, or a delimiter that is part of a number."""
    if len(delimiter) != 1 or delimiter in "0123456789.eE+- \r\n" or not delimiter.isascii():
        return None
    if raw.startswith(b"\xef\xbb\xbf"):
        return None
    at = -1
    for _ in range(HEAD_LINES):
        at = raw.find(b"\n", at + 1)
        if at < 0:
            return None
    return at + 1


def joined(head: Table, layout: Layout, raw: bytes, cut: int, delimiter: str, limits: Limits,
           ids: Ids | None) -> Table | None:
    """`head` followed by the rows of `raw[cut:]`, read at once; None when in any doubt."""
    if head.classes or layout.columns < 2 or not raw[cut:cut + 1] or not _numbers_only(raw, cut, delimiter.encode()):
        return None
    blocks = _blocks(raw, cut, delimiter, layout.columns)
    if blocks is None:
        return None
    rows = sum(_rows(block) for block in blocks)
    if rows == 0 or layout.rows + rows > limits.max_examples + 1:
        return None
    inputs = _filled(head.inputs, blocks, rows, layout.inputs, ids)
    targets = _filled(head.targets, blocks, rows, layout.targets, None) if inputs is not None else None
    if inputs is None or targets is None:
        return None
    return replace(head, inputs=inputs, targets=targets)


def _numbers_only(raw: bytes, cut: int, delimiter: bytes) -> bool:
    """Only the characters of numbers and the delimiter after `cut` (the head's line ends there),
    and each carriage return before a line feed. Counted over the whole file and the head, so
    that the rest is never copied."""
    allowed = _NUMBER_BYTES + delimiter
    head = raw[:cut]
    if len(raw.translate(None, allowed)) != len(head.translate(None, allowed)):
        return False
    return b"\r" not in raw or raw.count(b"\r") - head.count(b"\r") == raw.count(b"\r\n") - head.count(b"\r\n")


def _blocks(raw: bytes, cut: int, delimiter: str, count: int) -> list[Any] | None:
    """The rows after `cut` as blocks of rows, each a list of its `count` columns as float64 NumPy
    arrays (pyarrow's), or one array of rows (NumPy's, without pyarrow); None when it refuses the text."""
    try:
        import pyarrow as pa
        from pyarrow import csv
    except ImportError:
        return _numpy_columns(raw, cut, delimiter, count)
    names = [f"c{i}" for i in range(count)]
    try:
        table = csv.read_csv(
            pa.BufferReader(pa.py_buffer(memoryview(raw)[cut:])),
            read_options=csv.ReadOptions(column_names=names),
            parse_options=csv.ParseOptions(delimiter=delimiter, quote_char=False, double_quote=False,
                                           escape_char=False, newlines_in_values=False, ignore_empty_lines=True),
            convert_options=csv.ConvertOptions(column_types=dict.fromkeys(names, pa.float64()), null_values=[],
                                               strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowException, ValueError):
        return None
    return [[batch.column(i).to_numpy() for i in range(count)] for batch in table.to_batches()]


def _numpy_columns(raw: bytes, cut: int, delimiter: str, count: int) -> list[Any] | None:
    """The columns read by NumPy's `loadtxt`; None when it refuses the text or finds another width."""
    import warnings

    import numpy as np

    text = io.BytesIO(raw)
    text.seek(cut)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # `loadtxt` warns of a text with no rows: not for this reader to read
            values = np.loadtxt(text, dtype=np.float64, delimiter=delimiter, comments=None, quotechar=None,
                                ndmin=2, encoding="ascii")
    except (ValueError, UserWarning, UnicodeError):
        return None
    if values.shape[1] != count:
        return None
    return [values]


def _filled(head: Any, blocks: list[Any], rows: int, chosen: list[int], ids: Ids | None) -> Any:
    """`head`'s values, then the chosen columns row by row, as one flat float64 array; None
    for a value the careful reader would refuse (not finite, beyond float32, not an id)."""
    import numpy as np

    first = np.frombuffer(head, dtype=np.float64) if len(head) else np.zeros(0)
    flat = np.empty(len(first) + rows * len(chosen), dtype=np.float64)
    flat[:len(first)] = first
    body = flat[len(first):].reshape(rows, len(chosen))
    at = 0
    for block in blocks:
        size = _rows(block)
        if isinstance(block, np.ndarray):  # NumPy's rows: copied row by row
            together = chosen == list(range(chosen[0], chosen[0] + len(chosen)))
            body[at:at + size] = block[:, chosen[0]:chosen[0] + len(chosen)] if together else block[:, chosen]
        else:
            for place, index in enumerate(chosen):
                body[at:at + size, place] = block[index]
        at += size
    if not (body.max(initial=0.0) <= FLOAT32_MAX and body.min(initial=0.0) >= -FLOAT32_MAX):  # NaN fails too
        return None
    return flat if ids is None or _ids_fit(body, ids) else None


def _rows(block: Any) -> int:
    """The rows of a block: a list of columns (pyarrow's), or a 2-dimensional array (NumPy's)."""
    return len(block) if hasattr(block, "ndim") else len(block[0])


def _ids_fit(values: Any, ids: Ids) -> bool:
    """Every value a whole number from 0, below the count of ids (as `Ids.problem` says, all at once)."""
    import numpy as np

    whole = (values == np.floor(values)).all() and (values >= 0).all()
    return bool(whole and (ids.count is None or (values < ids.count).all()))
