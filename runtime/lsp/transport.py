"""The language server's side of the wire: standard input and output, made safe.

In: the process's binary standard input and output. Out: `BoundedInput`,
which pygls reads messages from, a whole message at a time (a header line is
cut at 64 KiB; a message body longer than `MAX_BODY` is read and dropped in
pieces, never held, and logged), `ReadingThread`, where those reads run (one
thread hop a message rather than one for each line), `LockedOutput`, which
writes each message whole even when the checking thread publishes while a
request is answered, and `NqaProtocol`,
pygls's protocol with three changes: a request whose parameters do not fit
its method is answered with an error (pygls would only log it, leaving the
client waiting); what is not a JSON-RPC message at all is logged and dropped;
and open documents are kept by the server (`server.Documents`), not in
pygls's workspace, whose line splitting differs from LSP's.
"""

from __future__ import annotations

import collections
import logging
import queue
import re
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, BinaryIO

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.protocol import LanguageServerProtocol, lsp_method

log = logging.getLogger("nqa.lsp")

MAX_HEADER = 65_536
MAX_BODY = 64 * 1024 * 1024  # a spec is at most 1 MB; as JSON, with every character escaped, a few times that
_PIECE = 1 << 20
_LENGTH = re.compile(rb"Content-Length: (\d+)\r\n")  # as pygls reads it


class BoundedInput:
    """Standard input, read a whole message at a time: pygls asks for each header line and
    then the body, and all but the first of those are served from what was read already."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._pending: collections.deque[bytes] = collections.deque()

    def ready(self) -> bool:
        """Whether the next read is served without touching the stream."""
        return bool(self._pending)

    def readline(self) -> bytes:
        if not self._pending:
            self._read_message()
        return self._pending.popleft()

    def read(self, size: int) -> bytes:
        if self._pending and len(self._pending) == 1 and len(self._pending[0]) == size:
            return self._pending.popleft()
        return self._read_body(size)

    def _read_message(self) -> None:
        """The header lines up to the blank one, and the body they announce (if they do)."""
        size = None
        while True:
            line = self._raw.readline(MAX_HEADER)
            self._pending.append(line)
            found = _LENGTH.fullmatch(line)
            size = int(found.group(1)) if found and size is None else size
            if not line or not line.strip():
                break
        if line and size:
            self._pending.append(self._read_body(size))

    def _read_body(self, size: int) -> bytes:
        if size <= MAX_BODY:
            return self._raw.read(size)
        log.error("a message of %d bytes is over the limit of %d: dropped", size, MAX_BODY)
        left = size
        while left > 0:
            piece = self._raw.read(min(left, _PIECE))
            if not piece:
                return b""
            left -= len(piece)
        return b"null"  # not a message: logged and passed over


class LockedOutput:
    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._lock = threading.Lock()

    def write(self, data: bytes) -> None:
        with self._lock:
            self._raw.write(data)
            self._raw.flush()

    def flush(self) -> None:
        """Each write is flushed already."""

    def close(self) -> None:
        self._raw.close()


class ReadingThread(Executor):
    """Where pygls's reads of standard input run: one daemon thread, so that a read still
    waiting when the client says `exit` (with the stream left open) never holds the process
    (a `ThreadPoolExecutor` is joined when Python exits)."""

    def __init__(self, ready: Callable[[], bool] = lambda: False) -> None:
        self._ready = ready  # a read that `ready()` says is served already runs at once, on no thread
        self._jobs: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]]] = queue.SimpleQueue()
        threading.Thread(target=self._work, name="nqa-read", daemon=True).start()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        done: Future[Any] = Future()
        job = (done, lambda: fn(*args, **kwargs))
        if self._ready():
            self._run(*job)
        else:
            self._jobs.put(job)
        return done

    @staticmethod
    def _run(done: Future[Any], job: Callable[[], Any]) -> None:
        if not done.set_running_or_notify_cancel():
            return
        try:
            done.set_result(job())
        except BaseException as error:  # handed to the reader, as a pool would
            done.set_exception(error)

    def _work(self) -> None:
        while True:
            self._run(*self._jobs.get())

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Nothing to wait for: the thread ends with the process."""


class _Refused:
    """A message answered already (its parameters did not fit): nothing more to do."""

    jsonrpc = "refused"


_REFUSED = _Refused()


class NqaProtocol(LanguageServerProtocol):
    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as error:
            if "id" in data and "method" in data:
                self._send_response(data["id"], error=error.to_response_error())
            return _REFUSED

    def handle_message(self, message: Any) -> None:
        if message is _REFUSED:
            return
        if not isinstance(getattr(message, "jsonrpc", None), str):
            log.error("not a JSON-RPC message: dropped")
            return
        super().handle_message(message)

    # the server keeps the open documents itself: these only call its handlers
    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams) -> Any:
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_OPEN)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams) -> Any:
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CHANGE)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams) -> Any:
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CLOSE)) is not None:
            yield handler, (params,), None
