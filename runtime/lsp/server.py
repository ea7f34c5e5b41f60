"""`nqa lsp`: the language server, its open documents and its features.

In: LSP messages on standard input. Out: answers and notifications on
standard output: diagnostics published after every change (checked in the
background, the latest text only), inlay hints, formatting, document symbols
and go to definition; hover, completion and quick fixes (`assist.py`). Each
feature is one `register_*` function taking the server; `FEATURES` and
`assist.ASSISTS` list them, and `build()` applies them. A handler that
fails is logged on standard error and answers as if it had found nothing:
the server keeps serving. Never imports torch.

Other modules reach a document through `server.documents.get(uri)`: a
`document.Document` with its text, path and last check.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types
from pygls.capabilities import ServerCapabilitiesBuilder
from pygls.lsp.server import LanguageServer

from compiler.format import format_spec
from spec_lang import SpecError

from .checker import Checker
from .diagnostics import to_lsp
from .document import Checked, Document, path_of
from .hints import inlay_hints
from .outline import definition, symbols, tree_of
from .positions import UTF16, Lines
from .transport import BoundedInput, LockedOutput, NqaProtocol, ReadingThread

log = logging.getLogger("nqa.lsp")
F = TypeVar("F", bound=Callable[..., Any])
MAX_PUBLISHED = 200  # diagnostics sent for one document; one more says how many are left out
DATA_FILES = "**/*.{csv,tsv,txt,npz}"  # the files a `data` or `test` statement reads


class Documents:
    """The open documents by URI."""

    def __init__(self) -> None:
        self.by_uri: dict[str, Document] = {}

    def get(self, uri: str) -> Document | None:
        return self.by_uri.get(uri)


class NqaServer(LanguageServer):
    def __init__(self) -> None:
        from runtime import version

        super().__init__("nqa", version(), protocol_cls=NqaProtocol,
                         text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.documents = Documents()
        self.root: Path | None = None
        self.encoding: str = UTF16
        self.checker = Checker(self.publish)

    def serve_stdio(self, stdin: Any, stdout: Any) -> None:
        """Serve on the binary streams until `exit` or the end of the input."""
        given = BoundedInput(stdin)
        self._thread_pool = ReadingThread(given.ready)  # type: ignore[assignment]  # where pygls reads
        self.start_io(given, LockedOutput(stdout))  # type: ignore[arg-type]

    def publish(self, doc: Document, checked: Checked) -> None:
        """Send a document's diagnostics (none: a spec that passes clears what was shown)."""
        lines = Lines(checked.text, doc.encoding)
        problems = checked.diagnostics
        found = to_lsp(problems[:MAX_PUBLISHED], lines, doc.uri)
        if len(problems) > MAX_PUBLISHED:  # a list an editor can show; the rest, counted, at the last one shown
            found.append(types.Diagnostic(range=found[-1].range, source="nqa",
                                          severity=types.DiagnosticSeverity.Information,
                                          message=f"... and {len(problems) - MAX_PUBLISHED:,} more problems: "
                                                  "`nqa check --format json` lists them all"))
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=doc.uri, diagnostics=found, version=checked.version))

    def current(self, doc: Document) -> Checked:
        """The check of the document's text now, for a request. When it had to be made again
        because a data file changed on disk (a client that watches no files says nothing of
        it), its diagnostics are published: the editor shows what the hints and hovers use."""
        before = doc.last
        found = doc.checked()
        if before is not None and found is not before and found.text is before.text:
            self.publish(doc, found)
        return found

    def report_server_error(self, error: Exception, source: Any) -> None:
        """Logged on standard error, not shown to the user as a message box."""
        log.error("%s: %s", getattr(source, "__name__", source), error)


def guarded(fallback: Any) -> Callable[[F], F]:
    """A handler that, should it fail, logs why and answers `fallback`."""

    def wrap(handler: F) -> F:
        @functools.wraps(handler)
        def run(*args: Any) -> Any:
            try:
                return handler(*args)
            except Exception:
                log.exception("%s failed", handler.__name__)
                return fallback

        return run  # type: ignore[return-value]

    return wrap


def register_lifecycle(server: NqaServer) -> None:
    @server.feature(types.INITIALIZE)
    @guarded(None)
    def initialize(params: types.InitializeParams) -> None:
        server.encoding = str(ServerCapabilitiesBuilder.choose_position_encoding(params.capabilities))
        folders = params.workspace_folders or []
        uri = folders[0].uri if folders else params.root_uri
        server.root = path_of(uri) if uri else None

    @server.feature(types.INITIALIZED)
    @guarded(None)
    def initialized(params: types.InitializedParams) -> None:
        watched = server.client_capabilities.workspace
        if watched and watched.did_change_watched_files and watched.did_change_watched_files.dynamic_registration:
            options = types.DidChangeWatchedFilesRegistrationOptions(
                watchers=[types.FileSystemWatcher(glob_pattern=DATA_FILES)])
            server.client_register_capability(types.RegistrationParams(registrations=[types.Registration(
                id="nqa-data-files", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES, register_options=options)]))


def register_sync(server: NqaServer) -> None:
    """Open, change and close: the document's text kept, and checked after every change."""

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    @guarded(None)
    def did_open(params: types.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        doc = Document(item.uri, item.text, item.version, server.root, server.encoding)
        server.documents.by_uri[item.uri] = doc
        server.checker.want(doc)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    @guarded(None)
    def did_change(params: types.DidChangeTextDocumentParams) -> None:
        doc = server.documents.get(params.text_document.uri)
        if doc is None:
            log.warning("a change to %s, which is not open: ignored", params.text_document.uri)
            return
        text = doc.text
        for change in params.content_changes:
            if isinstance(change, types.TextDocumentContentChangePartial):
                lines = Lines(text, doc.encoding)
                start, end = sorted((lines.offset(change.range.start), lines.offset(change.range.end)))
                text = text[:start] + change.text + text[end:]
            else:
                text = change.text
        doc.update(text, params.text_document.version)
        server.checker.want(doc)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    @guarded(None)
    def did_close(params: types.DidCloseTextDocumentParams) -> None:
        doc = server.documents.by_uri.pop(params.text_document.uri, None)
        if doc is not None:
            doc.closed = True
            server.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=doc.uri, diagnostics=[]))

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    @guarded(None)
    def files_changed(params: types.DidChangeWatchedFilesParams) -> None:
        """A data file changed on disk: every open spec is checked again (any of them may read it)."""
        for doc in list(server.documents.by_uri.values()):
            doc.invalidate()
            server.checker.want(doc)


def register_inlay_hints(server: NqaServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_INLAY_HINT)
    @guarded([])
    def hints(params: types.InlayHintParams) -> list[types.InlayHint]:
        doc = server.documents.get(params.text_document.uri)
        checked = server.current(doc) if doc is not None else None
        if doc is None or checked is None or checked.program is None or checked.text is not doc.text:
            return []  # a spec with errors: no hints rather than hints in the wrong places
        return inlay_hints(checked.program, doc.lines(), params.range)


def register_formatting(server: NqaServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_FORMATTING)
    @guarded([])
    def formatting(params: types.DocumentFormattingParams) -> list[types.TextEdit]:
        doc = server.documents.get(params.text_document.uri)
        if doc is None:
            return []
        text = doc.text
        try:
            formatted = format_spec(text, doc.filename)
        except SpecError:  # a spec that does not parse is left as it is
            return []
        if formatted == text:
            return []
        return [types.TextEdit(range=Lines(text, doc.encoding).whole(), new_text=formatted)]


def register_symbols(server: NqaServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    @guarded([])
    def document_symbols(params: types.DocumentSymbolParams) -> list[types.DocumentSymbol]:
        doc = server.documents.get(params.text_document.uri)
        tree = tree_of(doc.text) if doc is not None else None
        return symbols(tree, doc.lines()) if doc is not None and tree is not None else []


def register_definition(server: NqaServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    @guarded(None)
    def go_to_definition(params: types.DefinitionParams) -> types.Location | None:
        doc = server.documents.get(params.text_document.uri)
        tree = tree_of(doc.text) if doc is not None else None
        if doc is None or tree is None:
            return None
        return definition(tree, doc.lines(), doc.uri, params.position)


FEATURES: list[Callable[[NqaServer], None]] = [register_lifecycle, register_sync, register_inlay_hints,
                                              register_formatting, register_symbols, register_definition]


def build() -> NqaServer:
    from .assist import ASSISTS  # hover, completion and quick fixes (they use `guarded` from here)

    server = NqaServer()
    for register in FEATURES + ASSISTS:
        register(server)
    return server
