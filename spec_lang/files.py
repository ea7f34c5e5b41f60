"""Reading a user's input file safely, and telling whether two paths are one file.

In: a path, the most bytes it may hold and what it is for (`spec file`,
`CSV file`, `weights file`). Out: its bytes, read only when it is a regular
file no larger than the limit — never blocking on a FIFO, never reading a
device, never reading more than the limit plus one byte — or a `ReadProblem`
whose `kind` the caller turns into its own error. `same_file(a, b)`: whether
two paths name the same file (existing files by identity, others by their
resolved paths). Every reader of a user's file (spec, data, weights) goes
through here; the writer side is `runtime/files.py`. Never imports torch.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

# kinds of `ReadProblem`, for callers to choose their hint by
MISSING, FOLDER, SPECIAL, LOOP, TOO_LARGE, DENIED, OTHER = (
    "missing", "folder", "special", "loop", "too large", "denied", "other")


class ReadProblem(Exception):
    """An input that cannot be read: `kind` is one of the names above, `message` says which file and why."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind, self.message = kind, message


def kind_of(mode: int) -> str:
    """What a file that is not a regular file is, in words."""
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a symbolic link")):
        if test(mode):
            return name
    return "not a regular file"


def read_bounded(path: str | os.PathLike[str], limit: int, what: str, shown: str | None = None) -> bytes:
    """The bytes of the regular file at `path` (symlinks followed), at most `limit` of them."""
    shown = str(path) if shown is None else shown
    try:
        _check_kind(os.stat(path).st_mode, shown, what)  # refuse a device before opening it
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    except OSError as err:
        raise _problem(err, shown) from None
    try:
        info = os.fstat(fd)  # the file opened, which may not be the one looked at
        _check_kind(info.st_mode, shown, what)
        if info.st_size > limit:
            raise ReadProblem(TOO_LARGE, f"`{shown}` is {info.st_size:,} bytes, over the limit of {limit:,}")
        data = _read_at_most(fd, limit + 1)
    except OSError as err:
        raise _problem(err, shown) from None
    finally:
        os.close(fd)
    if len(data) > limit:  # it grew while being read
        raise ReadProblem(TOO_LARGE, f"`{shown}` is over the limit of {limit:,} bytes")
    return data


def _check_kind(mode: int, shown: str, what: str) -> None:
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise ReadProblem(FOLDER, f"`{shown}` is a folder, not a {what}")
    raise ReadProblem(SPECIAL, f"`{shown}` is {kind_of(mode)}, not a regular file")


def _read_at_most(fd: int, count: int) -> bytes:
    chunks, left = [], count
    while left > 0:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _problem(err: OSError, shown: str) -> ReadProblem:
    if err.errno == errno.ENOENT:
        return ReadProblem(MISSING, f"cannot read `{shown}`: no such file")
    if err.errno == errno.ELOOP:
        return ReadProblem(LOOP, f"cannot read `{shown}`: it is a symbolic link that loops")
    if err.errno in (errno.EACCES, errno.EPERM):
        return ReadProblem(DENIED, f"cannot read `{shown}`: permission denied")
    if err.errno in (errno.ENXIO, errno.ENODEV):  # a socket, or a device with no driver behind it
        return ReadProblem(SPECIAL, f"`{shown}` is not a regular file")
    return ReadProblem(OTHER, f"cannot read `{shown}`: {err.strerror or err}")


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether `a` and `b` are one file: the same inode when both exist, else the same resolved path."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return resolved(a) == resolved(b)


def resolved(path: str | os.PathLike[str]) -> Path:
    """`path` absolute with every symbolic link followed as far as it goes (loops left as they are)."""
    return Path(os.path.realpath(path))
