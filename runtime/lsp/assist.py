"""Hover, completion and quick fixes, registered on the language server.

In: the server (`server.NqaServer`) and the requests an editor sends about an
open document. Out: the answers of `hover.hover`, `completion.complete` and
`actions.code_actions` for the document's current text, with its last check
when that check is of this very text (so a hover shows the shapes `nqa check`
found, and a quick fix answers the diagnostics the editor is showing). A
document that is no file reads its data files from the workspace folder, as
its check does. Never imports torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types

from .actions import code_actions
from .completion import complete
from .diagnostics import to_lsp
from .hover import hover

if TYPE_CHECKING:
    from .document import Checked, Document
    from .server import NqaServer

TRIGGERS = ["=", ","]  # a value after `lr=`, a column after `inputs=a,`


def _path(doc: Document) -> Path:
    """The document's path, or a name in the folder its data files are read from."""
    return doc.path if doc.path is not None else (doc.folder or Path.cwd()) / "untitled.nqa"


def _current(server: NqaServer, doc: Document) -> Checked | None:
    checked = server.current(doc)
    return checked if checked.text is doc.text else None


def register_hover(server: NqaServer) -> None:
    from .server import guarded

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    @guarded(None)
    def on_hover(params: types.HoverParams) -> types.Hover | None:
        doc = server.documents.get(params.text_document.uri)
        if doc is None:
            return None
        checked = _current(server, doc)
        program = checked.program if checked is not None else None
        return hover(doc.text, _path(doc), params.position, program, doc.encoding)


def register_completion(server: NqaServer) -> None:
    from .server import guarded

    @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=TRIGGERS))
    @guarded([])
    def on_completion(params: types.CompletionParams) -> list[types.CompletionItem]:
        doc = server.documents.get(params.text_document.uri)
        if doc is None:
            return []
        return complete(doc.text, _path(doc), params.position, doc.encoding)


def register_code_actions(server: NqaServer) -> None:
    from .server import guarded

    kinds = types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix])

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, kinds)
    @guarded([])
    def on_code_action(params: types.CodeActionParams) -> list[types.CodeAction]:
        doc = server.documents.get(params.text_document.uri)
        checked = _current(server, doc) if doc is not None else None
        if doc is None or checked is None:
            return []
        found = checked.diagnostics
        shown = dict(zip(map(id, found), to_lsp(found, doc.lines(), doc.uri), strict=True))
        return code_actions(doc.uri, doc.text, found, params.range, shown, doc.encoding)


ASSISTS = [register_hover, register_completion, register_code_actions]
