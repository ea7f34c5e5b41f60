"""A small LSP client for tests and benchmarks: `nqa lsp` in a subprocess, spoken to over stdio.

In: the command to start (by default `python -m runtime lsp` in the project
folder). Out: `Client`, which frames JSON-RPC messages with Content-Length
headers, sends requests and notifications, answers the server's own requests
(`client/registerCapability`) with null, and waits, with a time limit, for a
response or for a notification that a test names. Everything the server said
is kept in order (`seen`); its standard error in `stderr_text()`.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SERVER = [sys.executable, "-m", "runtime", "lsp"]
Message = dict[str, Any]


class Client:
    def __init__(self, argv: list[str] | None = None, cwd: Path = ROOT) -> None:
        self.proc = subprocess.Popen(argv or SERVER, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self._inbox: queue.Queue[Message | None] = queue.Queue()
        self._held: list[Message] = []  # read, not yet asked for
        self.seen: list[Message] = []
        self._stderr: list[bytes] = []
        self._ids = 0
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._drain, daemon=True).start()

    # --- the wire
    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    self._inbox.put(None)
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            assert length is not None, "a message without Content-Length"
            message = json.loads(out.read(length))
            self._inbox.put(message)

    def _drain(self) -> None:
        err = self.proc.stderr
        assert err is not None
        for line in err:
            self._stderr.append(line)

    def stderr_text(self) -> str:
        return b"".join(self._stderr).decode("utf-8", "replace")

    def send_raw(self, body: bytes) -> None:
        stdin = self.proc.stdin
        assert stdin is not None
        stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        stdin.flush()

    def send(self, message: Message) -> None:
        self.send_raw(json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8"))

    # --- messages
    def notify(self, method: str, params: Any) -> None:
        self.send({"method": method, "params": params})

    def request(self, method: str, params: Any, timeout: float = 30) -> Message:
        """The whole response: `result`, or `error`."""
        self._ids += 1
        ident = self._ids
        self.send({"id": ident, "method": method, "params": params})
        return self.wait(lambda m: m.get("id") == ident and "method" not in m, timeout, f"the answer to {method}")

    def result(self, method: str, params: Any, timeout: float = 30) -> Any:
        answer = self.request(method, params, timeout)
        assert "error" not in answer, answer
        return answer["result"]

    def wait(self, wanted: Callable[[Message], bool], timeout: float = 30, what: str = "a message") -> Message:
        for index, message in enumerate(self._held):
            if wanted(message):
                return self._held.pop(index)
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            try:
                got = self._inbox.get(timeout=max(left, 0.001))
            except queue.Empty:
                raise AssertionError(f"no {what} within {timeout} s; stderr:\n{self.stderr_text()}") from None
            if got is None:
                raise AssertionError(f"the server ended before {what}; stderr:\n{self.stderr_text()}")
            message = got
            self.seen.append(message)
            if "method" in message and "id" in message:  # the server asks: answered, and kept
                self.send({"id": message["id"], "result": None})
            if wanted(message):
                return message
            self._held.append(message)

    def diagnostics(self, uri: str, version: int | None = None, timeout: float = 30) -> list[Message]:
        """The next diagnostics published for `uri` (for its `version`, if given)."""
        found = self.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                          and m["params"]["uri"] == uri and (version is None or m["params"].get("version") == version),
                          timeout, f"diagnostics for {uri}")
        return found["params"]["diagnostics"]

    # --- talking to the server from start to end
    def initialize(self, capabilities: Message | None = None, root: Path | None = None) -> Message:
        answer = self.result("initialize", {"processId": None, "rootUri": root.as_uri() if root else None,
                                            "capabilities": capabilities or {}})
        self.notify("initialized", {})
        return answer

    def open(self, uri: str, text: str, version: int = 1) -> None:
        self.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "nqa", "version": version,
                                                              "text": text}})

    def change(self, uri: str, version: int, text: str, range_: Message | None = None) -> None:
        change: Message = {"text": text} if range_ is None else {"range": range_, "text": text}
        self.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                               "contentChanges": [change]})

    def close(self, timeout: float = 20, shutdown: bool = True, keep_input_open: bool = False) -> int:
        """`shutdown` (unless told not to) then `exit`, and the input closed (unless told to keep
        it open, as some clients do): the server's exit code."""
        if shutdown:
            self.result("shutdown", None)
        self.notify("exit", None)
        stdin = self.proc.stdin
        assert stdin is not None
        if not keep_input_open:
            stdin.close()
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def initialized() -> Iterator[Client]:
    """A started server, initialised, killed afterwards: the body of the tests' `client` fixtures."""
    started = Client()
    started.initialize()
    yield started
    started.kill()


def at(line: int, character: int) -> Message:
    return {"line": line, "character": character}


def span(start: tuple[int, int], end: tuple[int, int]) -> Message:
    return {"start": at(*start), "end": at(*end)}
