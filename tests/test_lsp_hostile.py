"""`nqa lsp` keeps serving whatever it is sent: every bad spec of the test corpus,
text no editor should hold (NUL, control characters, lone surrogates, a line
of half a megabyte, more than a spec's size limit, braces nested past any
stack), and messages that break the protocol (not JSON, parameters of the
wrong kind, unknown methods, positions far out of range, edits of documents
never opened). Each document gets its diagnostics, each request an answer,
no handler of nqa's fails, and at the end the server still answers right."""

from __future__ import annotations

from typing import Any

import pytest

from compiler import check
from conftest import ROOT, spec_files
from lsp_client import Client, at, initialized, span
from spec_lang import SpecError, visible

GOOD = "input 1x8x8\nconv2d ->16 kernel=3 padding=1\nflatten\nlinear ->10\n"
HOSTILE = {
    "empty": "",
    "blank": " \n\t\n",
    "NUL": "linear 2->3\x00\nlinear 3->1\n",
    "control characters": "".join(chr(c) for c in range(32)) + "\x7f\x85\x9b linear 2->1\n",
    "lone surrogates": "linear 2->3 # \ud800\nlinear \udfff3->1\n\ud83d",
    "bidirectional controls": "linear 2->3 # \u202e\u2066 evil\u2069\nlinear 3->1\n",
    "line and paragraph separators": "linear 2->3\u2028linear 3->1\u2029relu\x0c\x0b\n",
    "a CR alone and CRLF": "linear 2->3\rrelu\r\nlinear 3->1\r",
    "two byte-order marks": "\ufeff\ufefflinear 2->1\n",
    "emoji": "linear 😀->3\n😀😀 2\n",
    "half a megabyte on one line": "linear 2->3 " + "x" * 500_000 + "\n",
    "over the size limit": "# " + "y" * 1_000_010 + "\nlinear 2->1\n",
    "braces nested past the stack": "repeat 2 { " * 20_000 + "linear 2->1" + " }" * 20_000 + "\n",
    "braces never closed": "{" * 50_000,
    "a vector nested deep": "example " + "[" * 20_000 + "1" + "]" * 20_000 + " -> [1]\nlinear 1->1\n",
    "huge numbers": "linear 99999999999999999999999->1e99999\nepochs 1e400\nrepeat 99999999999 { relu }\n",
}
QUERIES = ("textDocument/inlayHint", "textDocument/documentSymbol", "textDocument/formatting",
           "textDocument/definition", "textDocument/hover", "textDocument/completion", "textDocument/codeAction")


def _params(method: str, uri: str, position=None) -> dict[str, Any]:
    doc: dict[str, Any] = {"textDocument": {"uri": uri}}
    where = position or at(1, 3)
    return {"textDocument/inlayHint": {**doc, "range": span((0, 0), (10**6, 0))},
            "textDocument/documentSymbol": doc,
            "textDocument/formatting": {**doc, "options": {"tabSize": 2, "insertSpaces": True}},
            "textDocument/definition": {**doc, "position": where},
            "textDocument/hover": {**doc, "position": where},
            "textDocument/completion": {**doc, "position": where},
            "textDocument/codeAction": {**doc, "range": span((0, 0), (10**6, 0)), "context": {"diagnostics": []}},
            }[method]


@pytest.fixture(scope="module")
def client():
    yield from initialized()


def _checked(path) -> list[str]:
    """What `nqa check` says of a file: its errors, or its warnings."""
    try:
        problems = check(path).warnings
    except SpecError as err:
        problems = err.diagnostics
    return [visible(d.message) for d in problems]


def _ask_everything(client: Client, uri: str) -> None:
    for method in QUERIES:
        answer = client.request(method, _params(method, uri))
        assert "result" in answer, answer


def _still_serving(client: Client) -> None:
    uri = "untitled:still-serving"
    client.open(uri, GOOD, 7)
    assert client.diagnostics(uri, 7) == []
    [first, *_] = client.result("textDocument/inlayHint", _params("textDocument/inlayHint", uri))
    assert first["label"] == "→ [16, 8, 8] · 160 params"
    assert client.proc.poll() is None
    assert " failed" not in client.stderr_text(), client.stderr_text()  # no handler of nqa's went wrong


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_document_gets_its_diagnostics_and_answers(client, name):
    uri = f"untitled:hostile-{len(name)}-{abs(hash(name))}"
    client.open(uri, HOSTILE[name])
    found = client.diagnostics(uri, 1, timeout=60)
    assert all("internal error" not in d["message"] for d in found), found
    assert all(d["range"]["start"]["line"] >= 0 and d["range"]["start"]["character"] >= 0 for d in found)
    _ask_everything(client, uri)
    client.change(uri, 2, "linear 2->3\n", span((10**6, 10**6), (10**6, 10**6)))  # an edit past the end
    client.diagnostics(uri, 2, timeout=60)
    _still_serving(client)


def test_every_bad_spec_of_the_corpus_gets_its_errors(client):
    for path in spec_files(ROOT / "tests" / "bad_specs") + spec_files(ROOT / "tests" / "warning_specs"):
        uri = path.as_uri()
        data = path.read_bytes()
        client.open(uri, data.decode("utf-8", errors="replace"))  # as an editor shows a file that is not UTF-8
        found = client.diagnostics(uri, 1, timeout=60)
        messages = [d["message"].split("\nhint: ")[0] for d in found]
        if data.decode("utf-8", errors="replace").encode("utf-8") == data:
            assert messages == _checked(path), path.name  # what `nqa check` says of the file
        else:
            assert all("internal error" not in m for m in messages), path.name
        _ask_everything(client, uri)
    _still_serving(client)


BROKEN = {
    "not JSON": b"{this is not json",
    "JSON that is no message": b"[1, 2, 3]",
    "a number": b"42",
    "invalid UTF-8": b'{"jsonrpc": "2.0", "method": "\xff\xfe"}',
    "a message without a method": b'{"jsonrpc": "2.0", "id": 900}',
    "another JSON-RPC version": b'{"jsonrpc": "1.0", "id": 901, "method": "shutdown"}',
    "an unknown notification": b'{"jsonrpc": "2.0", "method": "nqa/nothing", "params": {}}',
    "a change to a document never opened": (b'{"jsonrpc": "2.0", "method": "textDocument/didChange", "params": '
                                            b'{"textDocument": {"uri": "file:///nowhere.nqa", "version": 2}, '
                                            b'"contentChanges": [{"text": "relu"}]}}'),
    "an open without text": (b'{"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": '
                             b'{"textDocument": {"uri": "file:///x.nqa"}}}'),
}


def test_broken_messages_are_passed_over(client):
    for body in BROKEN.values():
        client.send_raw(body)
    _still_serving(client)


def test_bad_requests_are_answered_with_errors_or_nothing(client):
    unknown = client.request("nqa/nothing", {})
    assert unknown["error"]["code"] == -32601  # method not found
    wrong = client.request("textDocument/inlayHint", {"textDocument": "not an object"})
    assert wrong["error"]["code"] == -32602  # invalid params
    negative = client.request("textDocument/definition", {"textDocument": {"uri": "untitled:x"},
                                                          "position": at(-1, -5)})
    assert negative["error"]["code"] == -32602
    for method in QUERIES:  # documents never opened: nothing found
        answer = client.request(method, _params(method, "file:///never/opened.nqa"))
        assert answer["result"] in (None, []), answer
    uri = "untitled:far"
    client.open(uri, GOOD)
    client.diagnostics(uri, 1)
    for position in (at(10**9, 10**9), at(0, 10**9), at(10**9, 0)):
        assert client.result("textDocument/definition", _params("textDocument/definition", uri, position)) is None
    _still_serving(client)
