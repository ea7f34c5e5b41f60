"""Reading a spec file from disk.

In: a path. Out: its text (BOM removed, any line ending), or a `SpecError` with
one clear line for a missing file, a folder, a FIFO or device, a symbolic link
that loops, an unreadable, binary or non-UTF-8 file, or one larger than the
limit. The file is read through `files.read_bounded`: never more than the limit.
"""

from __future__ import annotations

from pathlib import Path

from .errors import Diagnostic, SpecError
from .files import DENIED, FOLDER, MISSING, SPECIAL, TOO_LARGE, ReadProblem, read_bounded

MAX_SOURCE_BYTES = 1_000_000

_HINTS = {MISSING: "check the path", FOLDER: "pass a .nqa file, e.g. specs/mlp.nqa",
          SPECIAL: "pass a .nqa text file", TOO_LARGE: "a spec is a few lines of text; pass a smaller file",
          DENIED: "check the file's permissions"}


def read_source(path: str | Path, max_bytes: int = MAX_SOURCE_BYTES) -> str:
    shown = str(path)

    def fail(message: str, hint: str) -> SpecError:
        return SpecError(Diagnostic(message, hint=hint), "", shown)

    try:
        data = read_bounded(path, max_bytes, "spec file")
    except ReadProblem as problem:
        raise fail(problem.message, _HINTS.get(problem.kind, "check the path")) from None
    if b"\x00" in data:
        raise fail(f"`{shown}` is a binary file, not a spec", "pass a .nqa text file")
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise fail(f"`{shown}` is not UTF-8 text (byte 0x{data[err.start]:02x} on line {line})",
                   "save the file as UTF-8") from None
