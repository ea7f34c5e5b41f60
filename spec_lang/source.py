"""Reading a spec file from disk.

In: a path, or a stream such as standard input. Out: its text as written
(byte-order mark and line endings kept), or a `SpecError` with one clear line
for a missing file, a folder, a FIFO or device, a symbolic link that loops, an
unreadable, binary or non-UTF-8 file, or one larger than the limit. The file
is read through `files.read_bounded`: never more than the limit.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from . import codes
from .errors import Diagnostic, SpecError
from .files import DENIED, FOLDER, MISSING, SPECIAL, TOO_LARGE, ReadProblem, read_bounded

MAX_SOURCE_BYTES = 1_000_000

_HINTS = {MISSING: "check the path", FOLDER: "pass a .nqa file, e.g. specs/mlp.nqa",
          SPECIAL: "pass a .nqa text file", TOO_LARGE: "a spec is a few lines of text; pass a smaller file",
          DENIED: "check the file's permissions"}


def read_source(path: str | Path, max_bytes: int = MAX_SOURCE_BYTES) -> str:
    shown = str(path)

    try:
        data = read_bounded(path, max_bytes, "spec file")
    except ReadProblem as problem:
        code = codes.FILE_TOO_LARGE if problem.kind == TOO_LARGE else codes.SPEC_UNREADABLE
        raise SpecError(Diagnostic(problem.message, hint=_HINTS.get(problem.kind, "check the path"), code=code),
                        "", shown) from None
    return _text(data, shown)


def read_stream(stream: BinaryIO, shown: str = "<stdin>", max_bytes: int = MAX_SOURCE_BYTES) -> str:
    """A spec from a stream (`nqa check -` reads standard input), bounded as a file is."""
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise SpecError(Diagnostic(f"{shown} holds more than {max_bytes:,} bytes, over the limit for a spec",
                                   hint="a spec is a few lines of text; pass a smaller one",
                                   code=codes.FILE_TOO_LARGE), "", shown)
    return _text(data, shown)


def _text(data: bytes, shown: str) -> str:
    """The bytes of a spec as text, or a `SpecError` saying why they are not."""

    def fail(message: str, hint: str) -> SpecError:
        return SpecError(Diagnostic(message, hint=hint, code=codes.SPEC_NOT_TEXT), "", shown)

    if b"\x00" in data:
        raise fail(f"`{shown}` is a binary file, not a spec", "pass a .nqa text file")
    try:
        return data.decode("utf-8")  # a byte-order mark is left to `parse`, which takes one
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise fail(f"`{shown}` is not UTF-8 text (byte 0x{data[err.start]:02x} on line {line})",
                   "save the file as UTF-8") from None
