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
from array import array
from dataclasses import replace
from typing import Any, NamedTuple

from .csv_layout import NOT_LABELS, SAMPLE, number
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
    if layout.columns < 2 or not raw[cut:cut + 1]:
        return None
    blocks: list[Any] | None
    if head.classes:  # text labels: pyarrow reads the target column as text
        labelled = _labelled(head, layout, raw, cut, delimiter)
        if labelled is None:
            return None
        blocks, head = labelled
    elif _numbers_only(raw, cut, delimiter.encode()):
        blocks = _blocks(raw, cut, delimiter, layout.columns)
    else:
        return None
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
        import pyarrow  # noqa: F401  # only whether it is there
    except ImportError:
        return _numpy_columns(raw, cut, delimiter, count)
    table = _arrow_table(raw, cut, delimiter, count, None)
    return None if table is None else [[batch.column(i).to_numpy() for i in range(count)]
                                       for batch in table.to_batches()]


def _arrow_table(raw: bytes, cut: int, delimiter: str, count: int, text: int | None) -> Any:
    """pyarrow's table of the rows after `cut`: float64 columns, column `text` as text; None when it
    refuses the text."""
    import pyarrow as pa
    from pyarrow import csv

    names = [f"c{i}" for i in range(count)]
    types = {name: pa.string() if i == text else pa.float64() for i, name in enumerate(names)}
    try:
        return csv.read_csv(
            pa.BufferReader(pa.py_buffer(memoryview(raw)[cut:])),
            read_options=csv.ReadOptions(column_names=names),
            parse_options=csv.ParseOptions(delimiter=delimiter, quote_char=False, double_quote=False,
                                           escape_char=False, newlines_in_values=False, ignore_empty_lines=True),
            convert_options=csv.ConvertOptions(column_types=types, null_values=[], strings_can_be_null=False,
                                               quoted_strings_can_be_null=False))
    except (pa.ArrowException, ValueError):
        return None


def _labelled(head: Table, layout: Layout, raw: bytes, cut: int, delimiter: str) -> tuple[list[Any], Table] | None:
    """The blocks of a file whose target column holds text labels (its other columns numbers), the
    labels as class indices of the whole file's sorted labels, and `head` with its indices made
    those; None without pyarrow, or for a quote, a NUL, a lone carriage return, or a label that
    is empty or a number (the careful reader words those)."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
    except ImportError:
        return None
    if raw.find(b'"', cut) >= 0 or raw.find(b"\0", cut) >= 0 or (
            raw.count(b"\r", cut) != raw.count(b"\r\n", cut)):
        return None
    [column] = layout.targets
    table = _arrow_table(raw, cut, delimiter, layout.columns, column)
    if table is None:
        return None
    written = pc.unique(table.column(column)).to_pylist()  # as the file writes them, blanks around
    if any(not cell.strip() or number(cell) is not None or cell.strip().lstrip("+-").lower() in NOT_LABELS
           for cell in written):
        return None
    classes = sorted(set(head.classes) | {cell.strip() for cell in written})
    index = {label: i for i, label in enumerate(classes)}
    import numpy as np

    of_written = np.array([index[cell.strip()] for cell in written], dtype=np.float64)
    earlier = np.array([index[label] for label in head.classes], dtype=np.float64)
    blocks = []
    for batch in table.to_batches():
        columns = [batch.column(i).to_numpy() if i != column else None for i in range(layout.columns)]
        columns[column] = of_written[pc.index_in(batch.column(column), value_set=pa.array(written)).to_numpy()]
        blocks.append(columns)
    targets = earlier[np.frombuffer(head.targets, dtype=np.float64).astype(np.int64)]
    return blocks, replace(head, targets=array("d", targets.tobytes()), classes=tuple(classes))


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
