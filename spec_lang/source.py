"""Reading a spec file from disk.

In: a path. Out: its text (BOM removed, any line ending), or a `SpecError` with
one clear line for a missing file, a folder, an unreadable, binary or
non-UTF-8 file, or one larger than the limit.
"""

from __future__ import annotations

from pathlib import Path

from .errors import Diagnostic, SpecError

MAX_SOURCE_BYTES = 1_000_000


def read_source(path: str | Path, max_bytes: int = MAX_SOURCE_BYTES) -> str:
    shown = str(path)
    p = Path(path)

    def fail(message: str, hint: str) -> SpecError:
        return SpecError(Diagnostic(message, hint=hint), "", shown)

    if p.is_dir():
        raise fail(f"`{shown}` is a folder, not a spec file", "pass a .nqa file, e.g. specs/mlp.nqa")
    try:
        size = p.stat().st_size
        if size > max_bytes:
            raise fail(f"`{shown}` is {size:,} bytes, over the limit of {max_bytes:,}",
                       "a spec is a few lines of text; pass a smaller file")
        data = p.read_bytes()
    except FileNotFoundError:
        raise fail(f"cannot read `{shown}`: no such file", "check the path") from None
    except PermissionError:
        raise fail(f"cannot read `{shown}`: permission denied", "check the file's permissions") from None
    except OSError as err:
        raise fail(f"cannot read `{shown}`: {err.strerror or err}", "check the path") from None
    if b"\x00" in data:
        raise fail(f"`{shown}` is a binary file, not a spec", "pass a .nqa text file")
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise fail(f"`{shown}` is not UTF-8 text (byte 0x{data[err.start]:02x} on line {line})",
                   "save the file as UTF-8") from None
