"""An open spec as the language server holds it, and its check.

In: a document's URI, its text and version as the editor sends them, and the
workspace folder (the folder data files are read from for a document that is
not a file, such as an `untitled:` one). Out: `Document`, with `checked()`:
the `Checked` outcome for the text it holds now — the `Program` or the
`SpecError` that `compiler.check` gives, exactly as `nqa check` would for the
file saved, data files read relative to the document. A check is kept until
the text changes, a data file the spec read changes on disk, or `invalidate()`
is called; one check runs at a time per document. Never imports torch.
"""

from __future__ import annotations

import io
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from compiler import Program, check
from spec_lang import Diagnostic, SpecError
from spec_lang.source import MAX_SOURCE_BYTES, read_stream

from .positions import UTF16, Lines

log = logging.getLogger("nqa.lsp")


@dataclass(frozen=True)
class Checked:
    """What checking one version of a document found: a program (with its warnings) or the errors."""

    text: str
    version: int | None
    program: Program | None
    error: SpecError | None
    stamps: tuple[tuple[str, tuple[int, int] | None], ...] = ()  # the data files read, as they were

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        """Every error, or every warning of a spec that passed (in source order)."""
        if self.program is not None:
            return self.program.warnings
        return self.error.diagnostics if self.error is not None else ()

    def fresh(self) -> bool:
        """Whether the data files the check read are still as they were."""
        return all(_stamp(Path(name)) == stamp for name, stamp in self.stamps)


class Document:
    """One open document: `text`, `version`, `path` (None for a document that is no file), its check."""

    def __init__(self, uri: str, text: str, version: int | None, root: Path | None = None,
                 encoding: str = UTF16) -> None:
        self.uri = uri
        self.path = path_of(uri)
        self.folder = self.path.parent if self.path is not None else root
        self.encoding = encoding
        self.closed = False
        self._state = (text, version)
        self._lines: Lines | None = None
        self._checked: Checked | None = None
        self._lock = threading.Lock()

    @property
    def text(self) -> str:
        return self._state[0]

    @property
    def version(self) -> int | None:
        return self._state[1]

    @property
    def filename(self) -> str:
        """The name messages give the document: its path, or its URI."""
        return str(self.path) if self.path is not None else self.uri

    @property
    def last(self) -> Checked | None:
        """The last check made, which may be of an older text (None before the first)."""
        return self._checked

    def update(self, text: str, version: int | None) -> None:
        self._state = (text, version)

    def lines(self) -> Lines:
        """The text's lines, for converting positions (kept until the text changes)."""
        found = self._lines
        if found is None or found.text is not self.text:
            found = self._lines = Lines(self.text, self.encoding)
        return found

    def checked(self) -> Checked:
        """The check of the text held now: the last one if it is still true, else a new one."""
        text, version = self._state
        with self._lock:
            last = self._checked
            if last is not None and last.text is text and last.fresh():
                return last
            self._checked = found = run_check(text, version, self.filename, self.folder)
            return found

    def invalidate(self) -> None:
        """Forget the last check (a file it may have read has changed)."""
        self._checked = None


def run_check(text: str, version: int | None, filename: str, folder: Path | None) -> Checked:
    """`check` of the text as `nqa check` would read it from a file: a text over the size
    limit, holding a NUL or a character that UTF-8 cannot hold is refused the same way."""
    try:
        data = text.encode("utf-8", "surrogatepass")
        source = read_stream(io.BytesIO(data[:MAX_SOURCE_BYTES + 1]), filename)
        program = check(source, filename=filename, folder=folder)
    except SpecError as err:
        return Checked(text, version, None, err)
    except Exception as bug:  # a fault in nqa, not in the spec: shown as such, and logged
        log.exception("checking %s failed", filename)
        problem = Diagnostic(f"internal error in nqa while checking this file: {type(bug).__name__}",
                             hint="please report it with this spec", code="")  # nqa's fault: no code
        return Checked(text, version, None, SpecError(problem))
    return Checked(text, version, program, None, _stamps(program, folder))


def _stamps(program: Program, folder: Path | None) -> tuple[tuple[str, tuple[int, int] | None], ...]:
    """The data and test files a program read, with their size and time of change."""
    names = [table.path for table in (program.table, program.test_table) if table is not None]
    found = []
    for name in names:
        path = Path(name) if folder is None else folder / name
        found.append((str(path), _stamp(path)))
    return tuple(found)


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        status = os.stat(path)
    except (OSError, ValueError):
        return None
    return status.st_mtime_ns, status.st_size


def path_of(uri: str) -> Path | None:
    """The file a `file:` URI names (None for another scheme, or a URI that names none)."""
    if not uri.startswith("file:"):
        return None
    from pygls.uris import to_fs_path

    try:
        found = to_fs_path(uri)
    except Exception:  # a malformed URI: the document is taken as one without a file
        return None
    return Path(found) if found and "\x00" not in found else None
