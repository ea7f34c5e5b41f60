"""Writing output files without ever destroying a file the user cares about.

In: a path and text or bytes; or, before any work starts, a command's outputs
and inputs. Out: the file, written to a temporary file in the folder it lands
in, flushed to disk, then renamed over it in one step — so a failed or
interrupted write never leaves a truncated file. A symbolic link is written
through (its target is replaced, keeping its mode; the link stays); a path
that is a folder, a FIFO, a device or a socket, or a link that loops, is
refused. `check_outputs` refuses an output that is one of the command's inputs
(the spec, its data file, the weights it loads) or another of its outputs.
The reader side is `spec_lang/files.py`.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from spec_lang import codes, usage_error
from spec_lang.files import kind_of, resolved, same_file

Paths = Mapping[str, str | os.PathLike[str] | None]


class OutputError(OSError):
    """An output file that cannot be written; the message says which and why."""


def check_writable(path: str | os.PathLike) -> None:
    """Raise `OutputError` now if `path` cannot be written later (a missing folder, a folder,
    FIFO or device in its place, a symbolic link that loops or points into a missing folder)."""
    text = os.fspath(path)
    if text == "":
        raise OutputError("an output needs a file name, not an empty one")
    if text == "-":
        raise OutputError("`-` (standard output) is not taken here: this option writes a file; give it a name")
    if text.endswith(os.sep) or (os.altsep and text.endswith(os.altsep)):
        raise OutputError(f"cannot write `{path}`: a name ending in `{text[-1]}` names a folder, not a file")
    target = final_target(path)
    if not target.parent.is_dir():
        raise OutputError(f"cannot write `{path}`: the folder `{target.parent}` does not exist")


def final_target(path: str | os.PathLike) -> Path:
    """The file that writing `path` replaces: `path` itself, or the end of its symbolic links.
    Raise `OutputError` if that is not a regular file or a file yet to be made."""
    given = Path(path)
    mode = _mode(path)
    if mode is not None and stat.S_ISDIR(mode):
        raise OutputError(f"cannot write `{path}`: it is a folder")
    if mode is not None and not stat.S_ISREG(mode):
        raise OutputError(f"cannot write `{path}`: it is {kind_of(mode)}, and nqa writes only regular files"
                          " (use `-` for standard output where the option takes it)")
    if not given.is_symlink():
        return given
    target = resolved(given)
    if mode is None and not target.parent.is_dir():
        raise OutputError(f"cannot write `{path}`: it is a symbolic link to `{os.readlink(given)}`, "
                          "whose folder does not exist")
    return target


def _mode(path: str | os.PathLike) -> int | None:
    """The mode of the file `path` leads to; None when there is none yet."""
    try:
        return os.stat(path).st_mode
    except OSError as err:
        if err.errno in (errno.ENOENT, errno.ENOTDIR):
            return None  # a new file (its folder is checked apart), or a link to one
        if err.errno == errno.ELOOP:
            raise OutputError(f"cannot write `{path}`: it is a symbolic link that loops") from None
        raise OutputError(f"cannot write `{path}`: {err.strerror or err}") from None


def check_outputs(outputs: Paths, inputs: Paths) -> None:
    """Refuse, before any work, an output (by its option) that is an input (by what it is)
    or another output. Unset ones (None, or standard output) are left out."""
    chosen = {flag: path for flag, path in outputs.items() if path is not None}
    for flag, path in chosen.items():
        try:
            check_writable(path)
        except OutputError as err:
            raise OutputError(f"{flag}: {err}") from None
    for flag, path in chosen.items():
        for what, source in inputs.items():
            if source and same_file(path, source):
                raise usage_error(f"{flag} `{path}` would write over {what} `{source}`",
                                  f"give {flag} another file name: nqa never writes over its inputs",
                                  code=codes.WOULD_OVERWRITE)
    flags = list(chosen)
    for i, first in enumerate(flags):
        for second in flags[i + 1:]:
            if same_file(chosen[first], chosen[second]):
                raise usage_error(f"{first} and {second} both write `{chosen[second]}`",
                                  "give each output its own file name", code=codes.WOULD_OVERWRITE)


def spec_inputs(spec: str | os.PathLike, program) -> Paths:
    """A checked spec's input files: the spec, and the data and test files it names (relative to its folder)."""
    data, test = program.spec.data, getattr(program, "test_table", None)
    return {"the spec": spec, "the data file": Path(spec).parent / data.path if data else None,
            "the test file": Path(spec).parent / test.path if test else None}


def write_atomic(path: str | os.PathLike, data: str | bytes) -> None:
    """Write `data` to `path` atomically; raise `OutputError` naming the file if that fails."""
    target = final_target(path)
    try:
        _write(target, data)
    except OSError as err:
        raise OutputError(f"cannot write `{path}`: {err.strerror or err}") from None


def write_atomic_with(path: str | os.PathLike, write: Callable[[str], None]) -> None:
    """`write_atomic` for a writer that makes a file itself (`write(temporary_path)`), so that
    a large output is never held in memory whole."""
    target = final_target(path)
    try:
        _replace_with(target, write)
    except OSError as err:
        raise OutputError(f"cannot write `{path}`: {err.strerror or err}") from None


def _write(target: Path, data: str | bytes) -> None:
    payload = data.encode("utf-8") if isinstance(data, str) else data

    def write(temp: str) -> None:
        with open(temp, "wb") as handle:
            handle.write(payload)

    _replace_with(target, write)


def _replace_with(target: Path, write: Callable[[str], None]) -> None:
    """A temporary file beside `target`, filled by `write`, flushed to disk and renamed over it."""
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    os.close(fd)
    try:
        write(temp)
        with open(temp, "rb+") as handle:
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


def check_svg_name(flag: str, path: str | None) -> None:
    """A drawing is SVG: refuse a name that says it is another format (`net.png`)."""
    suffix = Path(path).suffix.lower() if path and path != "-" else ""
    if suffix and suffix != ".svg":
        raise usage_error(f"{flag} writes SVG, so `{path}` would hold SVG under a `{suffix}` name",
                          "end the name with .svg", code=codes.OUTPUT_NAME)
