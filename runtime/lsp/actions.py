"""Quick fixes: the one edit a diagnostic's hint names, as an editor's code action.

In: the document's URI and text, the diagnostics `check` gave for it
(`spec_lang.errors.Diagnostic`, each with its `fix` when its hint names exactly
one edit: a name it was likely meant to be, the width that arrives, a missing
`flatten`), and optionally the range the editor asks about. Out: one
`CodeAction` of kind `quickfix` per fix touching that range, whose
`WorkspaceEdit` replaces the fix's span with its text.
"""

from __future__ import annotations

from collections.abc import Iterable

from lsprotocol.types import CodeAction, CodeActionKind, Range, TextEdit, WorkspaceEdit
from lsprotocol.types import Diagnostic as LspDiagnostic

from spec_lang.errors import Diagnostic, Fix

from .positions import UTF16, Lines


def fix_edit(lines: Lines, fix: Fix) -> TextEdit:
    """The fix as an edit of the document's text."""
    return TextEdit(lines.range_of(fix.span), fix.text)


def _touches(a: Range, b: Range) -> bool:
    start = (a.start.line, a.start.character)
    end = (a.end.line, a.end.character)
    return start <= (b.end.line, b.end.character) and (b.start.line, b.start.character) <= end


def code_actions(uri: str, text: str, diagnostics: Iterable[Diagnostic], within: Range | None = None,
                 shown: dict[int, LspDiagnostic] | None = None, encoding: str = UTF16) -> list[CodeAction]:
    """A quick fix for each diagnostic with a fix whose span (or whose fix's span) touches `within`.

    `shown` maps `id(diagnostic)` to the LSP diagnostic published for it, which the action then names."""
    lines, actions = Lines(text, encoding), []
    for diagnostic in diagnostics:
        fix = diagnostic.fix
        if fix is None:
            continue
        edit = fix_edit(lines, fix)
        where = lines.range_of(diagnostic.span) if diagnostic.span else edit.range
        if within is not None and not (_touches(within, where) or _touches(within, edit.range)):
            continue
        published = shown.get(id(diagnostic)) if shown else None
        actions.append(CodeAction(fix.title, kind=CodeActionKind.QuickFix,
                                  diagnostics=[published] if published else None, is_preferred=True,
                                  edit=WorkspaceEdit(changes={uri: [edit]})))
    return actions
