"""What a data file holds, for a hover on its name in `data "rows.csv"` or `test "rows.csv"`.

In: the name as written, the statement (`data` or `test`), the spec's path
and the `Program` checked from it (None when the spec has errors). Out:
markdown giving the rows, the columns (inputs and targets) and the class
labels: from the table `check` read, or, when the spec did not check, from
the file's header (a Parquet file's schema; a glob's first file's) read by
the compiler's own bounded reader (`data_sources.peek`), or the reason the
file cannot be read.
"""

from __future__ import annotations

from pathlib import Path

from compiler.csv_layout import DataProblem
from compiler.data_sources import peek
from compiler.data_table import Table
from compiler.limits import Limits
from compiler.model import Program
from compiler.settings import Data
from spec_lang.errors import SpecError

SHOWN = 20  # names listed before "and N more"


def names(found: tuple[str, ...]) -> str:
    listed = ", ".join(f"`{name}`" for name in found[:SHOWN])
    return listed + (f" and {len(found) - SHOWN:,} more" if len(found) > SHOWN else "")


def table_doc(written: str, table: Table) -> str:
    columns = len(table.input_names) + len(table.target_names)
    word = "arrays" if Path(written).suffix.lower() == ".npz" else "columns"
    lines = [f"**`{written}`**: {table.rows:,} rows, {columns:,} {word}",
             f"inputs: {names(table.input_names)} (one example: `{list(table.input_shape)}`)",
             f"target: {names(table.target_names)}"]
    if table.classes:
        lines.append(f"{len(table.classes):,} classes: " + ", ".join(
            f"{index} = `{label}`" for index, label in enumerate(table.classes[:SHOWN]))
            + (" …" if len(table.classes) > SHOWN else ""))
    return "\n\n".join(lines)


def data_file_doc(written: str, statement: str, path: Path, program: Program | None) -> str:
    if program is not None:
        table = program.table if statement == "data" else program.test_table
        if table is not None and table.path == written:
            return table_doc(written, table)
    return _rows_doc(written, path)


def _rows_doc(written: str, path: Path) -> str:
    """The rows and the columns of a data file (of a glob's first file), read without the rest of the spec."""
    if not written:
        return ""
    if Path(written).suffix.lower() == ".npz":  # every other name is read as CSV or Parquet, as `check` reads it
        return f"**`{written}`**: its arrays are listed once the spec checks"
    try:
        seen = peek(Data(path=written), path.parent, Limits())
    except (DataProblem, SpecError, ValueError) as problem:
        return f"**`{written}`**: {problem}"
    files = len(seen.source.shards)
    head = (f"{files:,} file{'s' * (files != 1)}, the first `{seen.source.shards[0].written}` of" if seen.rows is None
            else f"{seen.rows:,} rows,")
    lines = [f"**`{written}`**: {head} {seen.columns:,} columns"]
    lines.append(f"columns: {names(seen.names)}" if seen.names else "no header row")
    return "\n\n".join(lines)
