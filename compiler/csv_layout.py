"""What a CSV file's layout says before its cells are read as numbers.

In: the rows `read_rows` found (each its line number and its cells) and the
`Data` settings. Out: a `DataProblem` for a file not laid out as the settings
say — its columns separated by another character (`;`, a tab, `|`; `;` with
decimal commas), a quoted cell running onto the next lines, an empty last
column from a comma ending every line, a header row read as data because one
of its names is a number — and `DataWarning`s for what reads but is likely a
mistake: `header=yes` on a row of numbers, two columns of the same name. Also
the pieces every data message uses: `number(cell)` (a cell's value, as a spec
writes numbers) and `quoted(text)` (text from the file, shortened, with control
characters spelt out so that none reaches a terminal).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import NamedTuple

from spec_lang import codes
from spec_lang.errors import visible

from .settings import Data

Row = tuple[int, list[str]]  # the file's line number (where the row ends), and the cells


class DataProblem(Exception):
    """A problem with a data file; `check` turns it into a located diagnostic."""

    def __init__(self, message: str, hint: str, label: str = "in this file", field: str = "path", *,
                 code: str) -> None:
        super().__init__(message)
        self.message, self.hint, self.label, self.field = message, hint, label, field
        self.code = code  # the kind of problem (spec_lang/codes.py)


class DataWarning(NamedTuple):
    """Something in a data file that reads, but is likely a mistake; `field` is the `data` option it concerns."""

    message: str
    hint: str
    code: str  # the kind of warning (spec_lang/codes.py)
    label: str = "in this file"
    field: str = "path"


_NUMBER = re.compile(r"\s*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*")
DECIMAL_COMMA = re.compile(r"\s*[+-]?[0-9]+,[0-9]+\s*")
SAMPLE = 100  # rows looked at to tell how a file is laid out
NOT_LABELS = ("nan", "inf", "infinity")  # words that are not class labels but numbers that are not finite


def number(cell: str) -> float | None:
    """A cell's number, written as in a spec (digits 0 to 9, a point, an exponent),
    finite; else None. `float` alone would take `1_000` and other scripts' digits."""
    if not _NUMBER.fullmatch(cell):
        return None
    value = float(cell)
    return value if math.isfinite(value) else None


def quoted(text: str, limit: int = 40) -> str:
    """Text from the file as a message shows it: in backquotes, shortened, controls spelt out."""
    return f"`{visible(text.strip()[:limit])}`"


def delimiter_word(delimiter: str) -> tuple[str, str]:
    """The delimiter as a message names it, with and without an article: ("a comma", "comma"), ("`;`", "`;`")."""
    word = {",": "comma", "\t": "tab"}.get(delimiter)
    return (f"a {word}", word) if word else (f"`{visible(delimiter)}`",) * 2


_DELIMITERS = {",": "`,`", ";": "`;`", "\t": "tabs", "|": "`|`"}
_OPTION = {";": 'delimiter=";"', "\t": "delimiter=tab", "|": 'delimiter="|"'}


def check_layout(data: Data, rows: list[Row]) -> None:
    """Refuse a file whose columns are separated by another character than `data.delimiter`,
    or that has a quoted cell running across lines."""
    _check_delimiter(data, rows[:SAMPLE])
    refuse_line_breaks(data.path, rows)


def refuse_line_breaks(written: str, rows: list[Row], last: bool = True) -> None:
    """Refuse a quoted cell running across lines (`rows` are a whole file's, or a piece's: `last`
    when its last row is the file's)."""
    for index, (line, cells) in enumerate(rows):
        breaks = sum(cell.count("\n") for cell in cells)
        if breaks:
            _across_lines(written, line, breaks, cells, last and index == len(rows) - 1)


def _check_delimiter(data: Data, sample: list[Row]) -> None:
    """Every row holds another delimiter and reads as one column; or every row holds a
    `;` where commas were expected (a spreadsheet's export where `,` is the decimal point)."""
    given = data.delimiter
    for other, said in _DELIMITERS.items():
        if other == given or not all(other in given.join(cells) for _, cells in sample):
            continue
        if not ((other == ";" and given == ",") or all(len(cells) == 1 for _, cells in sample)):
            continue
        how = f"`{data.path}` separates its columns with {said}, not {_DELIMITERS.get(given, quoted(given))}"
        if other == ";" and any(DECIMAL_COMMA.fullmatch(cell) for _, cells in sample
                                for cell in ",".join(cells).split(";")):
            raise DataProblem(how + ", and writes numbers with a decimal comma (`1,5`)",
                              "save it with a decimal point (`1.5`), then read it with `delimiter=\";\"`",
                              "decimal commas", code=codes.CSV_LAYOUT)
        hint = f"write `data \"{data.path}\" {_OPTION[other]}`" if other in _OPTION else (
            "leave out `delimiter=`: this file separates its columns with commas")
        raise DataProblem(how, hint, f"columns separated by {said}", "delimiter" if given != "," else "path",
                          code=codes.CSV_LAYOUT)


def _across_lines(written: str, line: int, breaks: int, cells: list[str], last: bool) -> None:
    """A quoted cell holding a line break: a row that starts on one line and ends on another
    (or, with its quote never closed, at the end of the file)."""
    unclosed = last and cells[-1].endswith("\n")  # a quote never closed takes in the rest of the file
    start = line - breaks + (1 if unclosed else 0)
    if unclosed:
        raise DataProblem(f"`{written}` line {start}: a quote opened in this row is never closed",
                          f'close the quote (`"`) on line {start}', f"line {start} of this file", code=codes.CSV_LAYOUT)
    raise DataProblem(f"`{written}` line {start}: a quoted cell runs onto line {start + 1}",
                      "keep each row on one line: remove the line break inside the quotes, or escape it as `\\n`",
                      f"line {start} of this file", code=codes.CSV_LAYOUT)


def header_warnings(data: Data, header: tuple[str, ...] | None, first: Row) -> list[DataWarning]:
    """`header=yes` on a row of numbers, and a column name given twice."""
    warnings = []
    line, cells = first
    if data.header == "yes" and all(number(cell) is not None for cell in cells):
        warnings.append(DataWarning(
            f"`{data.path}` line {line} holds only numbers, but `header=yes` reads it as column names",
            f"if line {line} is data, leave out `header=yes`: read as names, its numbers are not trained on",
            codes.HEADER_OF_NUMBERS, "names, not numbers", "header"))
    twice = next(iter(repeated(name for name in header or () if name)), None)
    if twice is not None:
        columns = [str(i + 1) for i, name in enumerate(header or ()) if name == twice]
        warnings.append(DataWarning(
            f"`{data.path}` names {len(columns)} columns {quoted(twice)} (columns {', '.join(columns)})",
            "give every column its own name: `inputs=` and `target=` pick the first of them",
            codes.DUPLICATE_COLUMN_NAME, "a name given twice"))
    return warnings


def check_header_guess(data: Data, rows: list[Row]) -> None:
    """With `header=auto`, line 1 is read as data when one of its cells is a number. When
    its other cells are text over columns of numbers, it is a header with a numeric name."""
    if data.header != "auto" or len(rows) < 2:
        return
    line, first = rows[0]
    texts = [i for i, cell in enumerate(first) if number(cell) is None and cell.strip()]
    rest = rows[1:SAMPLE]
    if len(texts) * 2 < len(first) or not all(i < len(cells) and number(cells[i]) is not None
                                              for i in texts for _, cells in rest):
        return
    numeric = [cell for cell in first if number(cell) is not None]
    raise DataProblem(f"`{data.path}` line {line} looks like a header, but {quoted(numeric[0])} in it is a number, "
                      "so it was read as data", f"write `header=yes` to read line {line} as column names",
                      f"line {line} of this file", code=codes.CSV_HEADER)


def check_trailing_comma(written: str, delimiter: str, header: tuple[str, ...] | None, body: list[Row]) -> None:
    """An empty last column in every row: each line ends with the delimiter."""
    sample = body[:SAMPLE]
    if not all(len(cells) > 1 and not cells[-1].strip() for _, cells in sample):
        return
    if header is not None and header[-1] and len(header) == len(sample[0][1]):
        return  # a named column that happens to be empty: its cells are reported one by one
    column = len(sample[0][1])
    mark, word = delimiter_word(delimiter)
    raise DataProblem(f"`{written}` ends its lines with {mark}: its column {column} is empty",
                      f"remove the {word} at the end of each line", f"empty column {column}", code=codes.CSV_LAYOUT)


def repeated(names: Iterable[str]) -> list[str]:
    """The names that come again after their first time, in the order they come again (in linear time)."""
    seen: set[str] = set()
    again = []
    for name in names:
        if name in seen:
            again.append(name)
        seen.add(name)
    return again
