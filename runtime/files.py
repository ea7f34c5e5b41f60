"""Writing output files so that a failed or interrupted write never leaves a
truncated file where a good one was.

In: a path and text or bytes. Out: the file, written to a temporary file in the
same folder, flushed to disk, then renamed over the target in one step.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


class OutputError(OSError):
    """An output file that cannot be written; the message says which and why."""


def check_writable(path: str | os.PathLike) -> None:
    """Raise `OutputError` now if `path` cannot be written later (a missing folder, a folder in its place)."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"cannot write `{path}`: the folder `{folder}` does not exist")
    if target.is_dir():
        raise OutputError(f"cannot write `{path}`: it is a folder")


def write_atomic(path: str | os.PathLike, data: str | bytes) -> None:
    """Write `data` to `path` atomically; raise `OutputError` naming the file if that fails."""
    try:
        _write(Path(path), data)
    except OSError as err:
        raise OutputError(f"cannot write `{path}`: {err.strerror or err}") from None


def _write(target: Path, data: str | bytes) -> None:
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, _default_mode(target))
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _default_mode(target: Path) -> int:
    """The mode the file keeps if it exists, else what a plain `open` would give it."""
    if target.exists():
        return target.stat().st_mode & 0o777
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask
