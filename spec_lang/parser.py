"""Text to syntax tree.

In: the text of a .nqa file (and a file name for messages). Out: a frozen
`Spec`, or a `SpecError` listing every syntax error in the file.

A valid text goes through `lalr.run`, a lean loop over the LALR tables Lark
works out from `grammar.lark`; a text it does not take goes through Lark's own
parser (`lark_path`), which finds each syntax error. Both make their nodes with
`nodes.Nodes`, so both give the same tree. The tables are kept in the user's
cache folder, keyed by the grammar and the code that reads them, so a process that parses only valid
specs never imports Lark; without a usable cache they are worked out again.
A text parsed again after an edit (`reparse`) takes the statements of its
unchanged lines from the parses before it, moved to where they stand now, and
parses its new lines alone; a text it cannot do so for is parsed whole.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from pathlib import Path

from . import ast, codes, lalr, nodes, reparse
from .braces import too_deep
from .errors import Diagnostic, SpecError, SyntaxErrors, usage_error
from .gcpause import paused_gc

GRAMMAR = Path(__file__).with_name("grammar.lark")


def parse(text: str, filename: str = "<spec>") -> ast.Spec:
    """Parse a spec; raise `SpecError` with every syntax error found, in order."""
    if not isinstance(text, str):
        raise usage_error(f"parse() takes the text of a spec as a str, not {type(text).__name__}",
                          "to read a file, pass `spec_lang.read_source(path)`, or a `pathlib.Path` to `check()`",
                          code=codes.BAD_ARGUMENT_TYPE)
    spec, problems, _ = parse_lenient(text, filename)
    if problems:
        raise SpecError(problems, normalized(text), filename)
    return spec


def parse_lenient(text: str, filename: str = "<spec>") -> tuple[ast.Spec, list[Diagnostic], list[ast.Statement]]:
    """Parse a spec, raising `SpecError` for syntax errors only; a vector item that
    is not a number is returned as a problem, with the statements holding such
    items, so that checking can go on with the rest."""
    with paused_gc():
        text = normalized(text)
        deep = too_deep(text)
        if deep is not None:  # before any parser, or the tree's depth, goes past Python's stack
            raise SyntaxErrors([deep], text, filename)
        again = reparse.reparsed(tables(), text)
        if again is not None:
            return again, [], []
        found = lalr.run(tables(), text + "\n")
        if found is None:
            from .lark_path import parse_with_lark

            found = parse_with_lark(text, filename)
        elif not found[1].problems:
            reparse.keep(text, found[0])
        spec, nodes = found
        return spec, nodes.problems, nodes.bad


_LONE_CR = re.compile("\r(?!\n)")


def normalized(text: str) -> str:
    """Without one leading byte-order mark (a second one is an invisible character
    like any other); a CR that does not start a Windows line end (CRLF) is a line
    break wherever it is, as editors show it. One character for one: every position is kept."""
    text = text.removeprefix("\ufeff")
    return _LONE_CR.sub("\n", text) if "\r" in text else text


@functools.cache
def tables() -> lalr.Tables:
    """The fast loop's tables: from the cache when it holds this grammar's, else from Lark."""
    path = _cache_path()
    found = _load(path) if path else None
    if found is None:
        from .lark_path import lark_parser

        found = lalr.Tables.from_lark(lark_parser())
        if path:
            _store(path, json.dumps(found.to_data()))
    return found


def _cache_path() -> Path | None:
    """Keyed by the grammar and by the code that writes and reads the tables, so
    that another version of either never reads tables it did not write."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    try:
        folder = Path(base) if os.path.isabs(base) else Path.home() / ".cache"  # a relative one is ignored
        key = hashlib.sha256(b"".join(Path(f).read_bytes() for f in (GRAMMAR, lalr.__file__, nodes.__file__)))
    except (RuntimeError, OSError):  # no home folder, or sources that cannot be read
        return None
    return folder / "nqa" / f"tables-{key.hexdigest()[:20]}.json"


def _load(path: Path) -> lalr.Tables | None:
    try:
        return lalr.Tables.from_data(json.loads(path.read_bytes()))
    except Exception:
        return None


def _store(path: Path, text: str) -> None:
    """Write the cache atomically; a folder that cannot be written only costs the next start its speed."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)
