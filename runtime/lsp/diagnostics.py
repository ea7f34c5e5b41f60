"""A spec's problems as LSP diagnostics.

In: nqa `Diagnostic`s (errors, or the warnings of a spec that passed), the
document's `Lines` and its URI. Out: `lsprotocol` diagnostics: the range of
the primary span (no span: the first line), the severity, the stable code
with a `codeDescription` linking to its explanation in docs/errors.md (when
that page is installed beside the packages), the message with its hint, and
each secondary label as related information at its own range. Text from the
spec is spelt out as `nqa check` spells it (`visible`). Never imports torch.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path

from lsprotocol import types

from spec_lang import Diagnostic, visible

from .positions import Lines

_SEVERITY = {"error": types.DiagnosticSeverity.Error, "warning": types.DiagnosticSeverity.Warning}
ERRORS_PAGE = Path(__file__).resolve().parents[2] / "docs" / "errors.md"


def to_lsp(problems: Iterable[Diagnostic], lines: Lines, uri: str) -> list[types.Diagnostic]:
    return [_one(problem, lines, uri) for problem in problems]


def _one(problem: Diagnostic, lines: Lines, uri: str) -> types.Diagnostic:
    message = visible(problem.message)
    if problem.hint:
        message += f"\nhint: {visible(problem.hint)}"
    related = [types.DiagnosticRelatedInformation(location=types.Location(uri=uri, range=lines.range_of(note.span)),
                                                  message=visible(note.text) or "here")
               for note in problem.notes]
    return types.Diagnostic(range=lines.range_of(problem.span), message=message,
                            severity=_SEVERITY.get(problem.severity, types.DiagnosticSeverity.Error),
                            code=problem.code or None, code_description=explanation(problem.code), source="nqa",
                            related_information=related or None)


def explanation(code: str) -> types.CodeDescription | None:
    """Where a code is explained: its section of docs/errors.md, if that page is installed."""
    page = _page()
    if not code or page is None:
        return None
    return types.CodeDescription(href=f"{page}#{code.lower()}")


@functools.cache
def _page() -> str | None:
    return ERRORS_PAGE.as_uri() if ERRORS_PAGE.is_file() else None
