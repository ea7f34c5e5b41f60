"""Writing a spec and its data files into a test's folder, and reading back the table `check` reads.

In: a folder, the spec's text and files by relative path (`shards/p1.csv`: text or bytes). Out:
`files` gives the spec's path (`s.nqa`); `table` gives the `Table` that `check` reads for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from compiler import check
from compiler.data_table import Table


def files(folder: Path, spec: str, **named: Any) -> Path:
    """Files by relative path (`shards/p1.csv`), and the spec `s.nqa`."""
    for name, content in named.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    folder.mkdir(exist_ok=True)
    spec_path = folder / "s.nqa"
    spec_path.write_text(spec)
    return spec_path


def table(path: Path, **options) -> Table:
    """The table `check` reads for the spec at `path`."""
    read = check(path, **options).table
    assert read is not None
    return read
