"""Where a `data` statement's rows come from: one file, or a set of files named by a glob.

In: the `Data` settings (its `path` as written: `train.csv`, `train.parquet`,
`shards/*.parquet`), the spec's folder, whether the spec may read outside it,
and the limits. Out: `source_of(...)`, a `Source` — the files (`Shard`s, sorted
by their path as written, each resolved and held to the spec's folder like any
data path) and their one format — listed before any is read, their number held
to --max-examples (each file holds at least one row); a set larger than
--max-data-bytes is streamed (`data_stream.source_streams`). `read_shard(...)` reads one of them (or one row group
of a Parquet file: `data_parquet.parquet_row_groups` lists them) into a `Table`,
with the columns the statement chooses and, given `classes`, those text labels'
indices; a streamed read takes the files piece by piece through it. `peek`
gives the first file's columns, for an editor. `data_gather.load_data` reads
them all as one `Table`. Every problem is a `DataProblem` naming the file.
"""

from __future__ import annotations

import glob
import os
import stat
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from spec_lang import codes
from spec_lang.files import kind_of

from .csv_layout import DataProblem
from .data_file import load_table, read_file, read_rows, resolve, split_header
from .data_ids import Ids
from .data_parquet import parquet_names, parquet_table
from .data_table import Table
from .limits import Limits
from .settings import Data

GLOB_CHARACTERS = "*?["
GATHERED = (".csv", ".parquet")  # the formats a glob gathers; any other ending is read as CSV, as one file's is


@dataclass(frozen=True)
class Shard:
    """One file of a source: as the spec (or its glob) names it, relative to the spec's folder."""

    written: str
    path: Path  # resolved
    size: int  # bytes, when listed


@dataclass(frozen=True)
class Source:
    """The files a `data` statement reads, in the order their rows are taken, and their one format."""

    written: str  # the path as the spec writes it (a glob, or one file)
    kind: str  # ".csv" (any ending but these), ".parquet", ".npz" or ".npy"
    shards: tuple[Shard, ...]
    glob: bool  # the files a glob matched (however many), rather than one file named

    @property
    def size(self) -> int:
        return sum(shard.size for shard in self.shards)


def is_glob(written: str) -> bool:
    return any(c in written for c in GLOB_CHARACTERS)


def globbed(written: str, folder: Path) -> bool:
    """Whether `written` is read as a glob: it holds a glob character and names no file as it is
    (`data[1].csv`, a file that exists, is that file)."""
    return is_glob(written) and not os.path.lexists(folder / written)


def kind_of_path(written: str) -> str:
    suffix = Path(written).suffix.lower()
    return suffix if suffix in (".parquet", ".npz", ".npy") else ".csv"


def _ending(written: str) -> str:
    return Path(written).suffix.lower()


def source_of(data: Data, folder: Path, allow_outside: bool, limits: Limits) -> Source:
    """The files `data.path` names, checked and sorted, none of them read yet."""
    written = data.path
    if not globbed(written, folder):
        path = resolve(written, folder, allow_outside)
        return Source(written, kind_of_path(written), (Shard(written, path, _size(path)),), glob=False)
    if "**" in written:
        raise DataProblem(f"`{written}` uses `**`, which would search folders at any depth",
                          "name each level of folders: `shards/*.csv`, or `shards/*/*.csv`", "`**`",
                          code=codes.GLOB_PATTERN)
    resolve(written, folder, allow_outside)  # a pattern reaching out of the folder is refused before it is searched
    shards = [_shard(match, folder, allow_outside) for match in _matches(written, folder, limits)]
    endings = {_ending(shard.written) for shard in shards}  # one ending: a `.csv` and a `.txt` are two formats
    if len(endings) > 1:
        first = shards[0]
        other = next(s for s in shards if _ending(s.written) != _ending(first.written))
        raise DataProblem(f"`{written}` matches files of different formats: `{first.written}` and `{other.written}`",
                          "gather files of one format: name the ending, e.g. `shards/*.csv`", "mixed formats",
                          code=codes.SHARD_FORMATS)
    kind = kind_of_path(shards[0].written)
    if kind not in GATHERED:
        raise DataProblem(f"`{written}` matches {kind} files, but a glob gathers CSV or Parquet files",
                          "save the arrays as one .npz file, or the rows as CSV or Parquet files", f"{kind} files",
                          code=codes.SHARD_FORMATS)
    return Source(written, kind, tuple(shards), glob=True)


def _matches(written: str, folder: Path, limits: Limits) -> list[str]:
    """The paths the glob matches, sorted as strings; at most --max-examples of them."""
    found: list[str] = []
    for match in glob.iglob(written, root_dir=folder):
        if len(found) >= limits.max_examples:
            raise DataProblem(f"`{written}` matches more than {limits.max_examples:,} files, over the limit of "
                              f"{limits.max_examples:,} rows (each file holds at least one)",
                              "gather fewer files, or raise the limit with --max-examples", "too many files",
                              code=codes.TOO_MANY_EXAMPLES)
        found.append(match)
    if not found:
        looked = _fixed_part(written)
        where = "the spec's folder" if looked == "." else f"`{looked}`"
        hint = (f"it looked in {where}: check the name and the ending" if (folder / looked).is_dir() else
                f"there is no folder {where} beside the spec")
        raise DataProblem(f"`{written}` matches no file", hint, "no file matches", code=codes.GLOB_NO_MATCH)
    return sorted(found)


def _fixed_part(written: str) -> str:
    """The folders before the first part with a glob character: where the search starts."""
    parts = Path(written).parts
    fixed = list(parts[:next(i for i, p in enumerate(parts) if is_glob(p))])
    return os.path.normpath(os.path.join(*fixed)) if fixed else "."


def _shard(match: str, folder: Path, allow_outside: bool) -> Shard:
    path = resolve(match, folder, allow_outside)  # a link out of the folder is refused here
    return Shard(match, path, _size(path))


def _size(path: Path) -> int:
    """The size of a regular file; a folder, a device or a missing file is left for `read_file` to refuse."""
    try:
        info = os.stat(path)
    except OSError:
        return 0
    return info.st_size if stat.S_ISREG(info.st_mode) else 0


@dataclass(frozen=True)
class Peek:
    """What a source holds, from its first file alone: for an editor's hover and completion."""

    source: Source
    names: tuple[str, ...] | None  # the first file's columns; None for a CSV file without a header
    columns: int  # how many the first file has
    rows: int | None  # the rows of a single file; None for a glob (its files are not all read)


def peek(data: Data, folder: Path, limits: Limits) -> Peek:
    """The files `data.path` names, and the first one's columns (its header, or a Parquet file's schema)."""
    source = source_of(data, folder, False, limits)
    first = source.shards[0]
    if source.kind == ".parquet":
        names, rows = parquet_names(first.written, read_file(first.written, first.path, limits, ".parquet"))
        return Peek(source, names, len(names), None if source.glob else rows)
    lines = read_rows(first.written, first.path, limits, data.delimiter)
    header, body = split_header(data, lines)
    count = len(header) if header is not None else len(lines[0][1])
    return Peek(source, header, count, None if source.glob else len(body))


def read_shard(data: Data, kind: str, shard: Shard, folder: Path, allow_outside: bool, input_width: int | None,
               class_targets: bool, limits: Limits, ids: Ids | None = None, classes: tuple[str, ...] | None = None,
               row_group: int | None = None) -> Table:
    """One file's rows (a Parquet file's: or one row group's), its messages naming the file.
    `classes` fixes the text labels' indices (a label not among them is refused); without it,
    they are the file's own, sorted."""
    refuse_special(shard)
    if kind == ".parquet":
        return parquet_table(data, shard.written, read_file(shard.written, shard.path, limits, ".parquet"),
                             input_width, class_targets, limits, ids, row_group, classes)
    table = _csv_shard(data.model_copy(update={"path": shard.written}), folder, allow_outside, input_width,
                       class_targets, limits, ids)
    if classes is None or not table.classes:
        return table
    unknown = next((label for label in table.classes if label not in classes), None)
    if unknown is not None:
        raise DataProblem(f"`{shard.written}` holds the class `{unknown}`, which is not one of "
                          + ", ".join(f"`{c}`" for c in classes[:10]), "give every row one of the classes",
                          f"class `{unknown}`", code=codes.TEXT_LABELS)
    return replace(table, targets=relabelled(table, classes), classes=classes)


def _csv_shard(data: Data, folder: Path, allow_outside: bool, input_width: int | None, class_targets: bool,
               limits: Limits, ids: Ids | None) -> Table:
    """A CSV file's rows, read by the one CSV reader (data_file)."""
    return load_table(data, folder, allow_outside, input_width, class_targets, limits, ids, stream=False)


def refuse_special(shard: Shard) -> None:
    """A match that is not a regular file (a folder named `x.csv`, a FIFO), named as a shard."""
    try:
        mode = os.stat(shard.path).st_mode
    except OSError:
        return  # read_file says why
    if not stat.S_ISREG(mode):
        raise DataProblem(f"`{shard.written}` is {kind_of(mode)}, not a data file",
                          "match only data files: name their ending, e.g. `shards/*.csv`", "not a regular file",
                          code=codes.DATA_UNREADABLE)


def relabelled(table: Table, classes: tuple[str, ...]) -> Any:
    """A table's class indices, from its own labels' to those of `classes` (which holds them all)."""
    import numpy as np

    where = np.array([classes.index(label) for label in table.classes], dtype=np.float64)
    return where[np.asarray(table.targets, dtype=np.float64).astype(np.int64)]
