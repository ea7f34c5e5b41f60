"""`nqa lsp` as an editor sees it: the server started as a subprocess and spoken to over stdio.

Diagnostics (ranges in UTF-16 code units, severity, related information,
cleared when the spec passes, warnings, data files read beside the document
and read again when they change, untitled documents), inlay hints with shapes
and parameters, formatting, document symbols and go to definition. The
hostile inputs are in test_lsp_hostile.py."""

from __future__ import annotations

import subprocess
import sys

import pytest

from compiler.format import format_spec
from conftest import ROOT
from lsp_client import Client, at, initialized, span

CONV = "input 1x8x8\nconv2d ->16 kernel=3 padding=1\nrelu\nflatten\nlinear ->10\n"
BLOCKS = ("input 4\nblock head {\n  linear ->8  # widen\n  relu\n}\nhead\n"
          "repeat 2 { residual { linear ->8; tanh } }\nlinear ->1\n")
ALL_LINES = span((0, 0), (1000, 0))


@pytest.fixture
def client():
    yield from initialized()


def _hints(client: Client, uri: str) -> list[tuple[int, int, str]]:
    found = client.result("textDocument/inlayHint", {"textDocument": {"uri": uri}, "range": ALL_LINES})
    return [(h["position"]["line"], h["position"]["character"], h["label"]) for h in found]


def test_a_width_mismatch_is_shown_where_it_is_with_the_layer_that_made_the_width(client, tmp_path):
    uri = (tmp_path / "bad.nqa").as_uri()
    client.open(uri, "linear 2->2\nlinear 3->1\n")
    [found] = client.diagnostics(uri, 1)
    assert found["range"] == span((1, 7), (1, 8))
    assert found["severity"] == 1 and found["source"] == "nqa"
    assert found["message"] == ("`linear 3->1` expects 3 inputs, but the layer before it produces 2\n"
                                "hint: write `linear 2->1`, or `linear ->1` to infer the width")
    assert found["relatedInformation"] == [{"location": {"uri": uri, "range": span((0, 7), (0, 11))},
                                            "message": "produces 2"}]
    assert found["code"] == "E0201" and found["codeDescription"]["href"].endswith("docs/errors.md#e0201")


def test_ranges_count_utf16_code_units_past_characters_outside_the_basic_plane(client, tmp_path):
    uri = (tmp_path / "wide.nqa").as_uri()
    client.open(uri, 'data "é😀.csv" bogus=1\nlinear 2->1\n')  # 😀 is two UTF-16 units, é one
    [found] = client.diagnostics(uri, 1)
    assert found["message"].startswith("`data` has no option `bogus`")
    assert found["range"] == span((0, 15), (0, 20))
    client.change(uri, 2, '\ufeffdata "é😀.csv" bogus=1\nlinear 2->1\n')  # a byte-order mark is a character too
    [found] = client.diagnostics(uri, 2)
    assert found["range"] == span((0, 16), (0, 21))


def test_every_change_is_checked_and_a_spec_that_passes_clears_the_diagnostics(client, tmp_path):
    uri = (tmp_path / "net.nqa").as_uri()
    client.open(uri, "linear 2->2\nlinear 3->1\n")
    assert len(client.diagnostics(uri, 1)) == 1
    client.change(uri, 2, "2", span((1, 7), (1, 8)))  # an edit of one character: `linear 2->1`
    assert client.diagnostics(uri, 2) == []
    client.change(uri, 3, "linear 2->2\nlinaer 2->1\n")  # the whole text
    [found] = client.diagnostics(uri, 3)
    assert found["message"] == "unknown statement `linaer`\nhint: did you mean `linear`?"
    assert found["range"] == span((1, 0), (1, 6))


def test_changes_faster_than_checks_are_checked_at_their_latest_text(client, tmp_path):
    uri = (tmp_path / "long.nqa").as_uri()
    body = "input 8\n" + "linear ->16\nrelu\n" * 200
    client.open(uri, body)
    assert client.diagnostics(uri, 1) == []
    for version in range(2, 42):  # forty changes sent at once; the last one has an error
        text = body + (f"# {version}\n" if version < 41 else "linear 3->1\n")
        client.change(uri, version, text)
    [found] = client.diagnostics(uri, 41)
    assert found["range"] == span((401, 7), (401, 8))
    published = [m["params"]["version"] for m in client.seen if m.get("method") == "textDocument/publishDiagnostics"]
    assert published == sorted(published) and len(published) < 41, published


def test_warnings_are_published_as_warnings(client, tmp_path):
    uri = (tmp_path / "soft.nqa").as_uri()
    client.open(uri, CONV + "softmax\nloss cross_entropy\n")
    [found] = client.diagnostics(uri, 1)
    assert found["severity"] == 2
    assert found["message"].startswith("the network ends with `softmax`, and `loss cross_entropy` applies")
    assert found["range"] == span((6, 0), (6, 18))


def test_data_files_are_read_beside_the_document_and_again_when_they_change(client, tmp_path):
    (tmp_path / "rows.csv").write_text("a,b,c,y\n1,2,3,4\n5,6,7,8\n")
    uri = (tmp_path / "net.nqa").as_uri()
    client.open(uri, 'data "rows.csv"\nlinear 2->1\n')  # the server runs in the project folder, not here
    [found] = client.diagnostics(uri, 1)
    assert "rows.csv" in found["message"] and found["range"]["start"]["line"] == 0
    (tmp_path / "rows.csv").write_text("a,b,y\n1,2,3\n5,6,7\n")
    client.notify("workspace/didChangeWatchedFiles",
                  {"changes": [{"uri": (tmp_path / "rows.csv").as_uri(), "type": 2}]})
    assert client.diagnostics(uri, 1) == []


def test_a_changed_data_file_is_read_again_when_hints_are_asked_for(client, tmp_path):
    (tmp_path / "rows.csv").write_text("a,b,y\n1,2,3\n5,6,7\n")
    uri = (tmp_path / "net.nqa").as_uri()
    client.open(uri, 'data "rows.csv" target=y\nlinear ->1\n')
    assert client.diagnostics(uri, 1) == []
    assert _hints(client, uri) == [(1, 10, "→ [1] · 3 params · total 3 params")]
    (tmp_path / "rows.csv").write_text("a,b,c,y\n1,2,3,4\n5,6,7,8\n")  # no notice: the stamp has changed
    assert _hints(client, uri) == [(1, 10, "→ [1] · 4 params · total 4 params")]


def test_a_data_file_changed_without_notice_shows_its_new_errors_once_the_spec_is_read_again(client, tmp_path):
    (tmp_path / "rows.csv").write_text("a,b,y\n1,2,3\n5,6,7\n")
    uri = (tmp_path / "net.nqa").as_uri()
    client.open(uri, 'data "rows.csv" target=y\nlinear ->1\n')
    assert client.diagnostics(uri, 1) == []
    (tmp_path / "rows.csv").write_text("a,b,z\n1,2,3\n5,6,7\n")  # no notice from the client
    assert _hints(client, uri) == []
    [found] = client.diagnostics(uri, 1)  # published again, for the same version of the text
    assert found["code"] == "E0307" and "`y`" in found["message"]


def test_an_untitled_document_is_checked_too(client):
    client.open("untitled:Untitled-1", "linear 2->2\nlinear 3->1\n")
    [found] = client.diagnostics("untitled:Untitled-1", 1)
    assert found["range"] == span((1, 7), (1, 8))
    assert found["relatedInformation"][0]["location"]["uri"] == "untitled:Untitled-1"


def test_inlay_hints_give_each_layer_its_output_shape_and_parameters(client, tmp_path):
    uri = (tmp_path / "conv.nqa").as_uri()
    client.open(uri, CONV)
    assert _hints(client, uri) == [
        (1, 30, "→ [16, 8, 8] · 160 params"), (2, 4, "→ [16, 8, 8] · 0 params"), (3, 7, "→ [1024] · 0 params"),
        (4, 11, "→ [10] · 10,250 params · total 10,410 params")]


def test_inlay_hints_inside_blocks_count_the_copies(client, tmp_path):
    uri = (tmp_path / "blocks.nqa").as_uri()
    client.open(uri, BLOCKS)
    assert _hints(client, uri) == [
        (2, 12, "→ [8] · 40 params"), (3, 6, "→ [8] · 0 params"), (5, 4, "→ [8] · 40 params"),
        (6, 32, "→ [8] · 72 params (2 copies)"), (6, 38, "→ [8] · 0 params (2 copies)"),
        (6, 40, "→ [8] · 72 params (2 copies)"), (6, 42, "→ [8] · 144 params"),
        (7, 10, "→ [1] · 9 params · total 193 params")]


def test_a_spec_with_errors_has_no_hints_and_a_range_limits_them(client, tmp_path):
    uri = (tmp_path / "conv.nqa").as_uri()
    client.open(uri, CONV)
    only = client.result("textDocument/inlayHint", {"textDocument": {"uri": uri}, "range": span((2, 0), (3, 0))})
    assert [h["label"] for h in only] == ["→ [16, 8, 8] · 0 params", "→ [1024] · 0 params"]
    client.change(uri, 2, CONV + "linear 3->1\n")
    assert _hints(client, uri) == []


def test_formatting_is_nqa_fmt_and_a_spec_that_does_not_parse_is_left_alone(client, tmp_path):
    uri = (tmp_path / "messy.nqa").as_uri()
    messy = "linear   2->3 ;relu\n\n\n\nlinear ->1   # out\noptimizer sgd momentum=0.9 lr=1e-2\n"
    client.open(uri, messy)
    options = {"tabSize": 2, "insertSpaces": True}
    [edit] = client.result("textDocument/formatting", {"textDocument": {"uri": uri}, "options": options})
    assert edit == {"range": span((0, 0), (6, 0)), "newText": format_spec(messy)}
    assert edit["newText"] == "linear 2->3; relu\n\nlinear ->1  # out\noptimizer sgd lr=0.01 momentum=0.9\n"
    client.change(uri, 2, edit["newText"])
    assert client.result("textDocument/formatting", {"textDocument": {"uri": uri}, "options": options}) == []
    client.change(uri, 3, "linear 2->3 {\n")
    assert client.result("textDocument/formatting", {"textDocument": {"uri": uri}, "options": options}) == []


def test_document_symbols_are_the_layers_and_blocks_with_their_layers_inside(client, tmp_path):
    uri = (tmp_path / "blocks.nqa").as_uri()
    client.open(uri, BLOCKS + "epochs 5\n")

    def outline(symbols):
        return [(s["name"], s["kind"], s["selectionRange"]["start"]["line"], outline(s.get("children", [])))
                for s in symbols]

    found = client.result("textDocument/documentSymbol", {"textDocument": {"uri": uri}})
    assert outline(found) == [
        ("head", 5, 1, [("linear ->8", 12, 2, []), ("relu", 12, 3, [])]),
        ("head", 19, 5, []),
        ("repeat 2", 3, 6, [("residual", 3, 6, [("linear ->8", 12, 6, []), ("tanh", 12, 6, [])])]),
        ("linear ->1", 12, 7, [])]
    assert found[0]["range"] == span((1, 0), (4, 1)) and found[0]["selectionRange"] == span((1, 6), (1, 10))


def test_go_to_definition_leads_from_a_block_to_where_it_is_defined(client, tmp_path):
    uri = (tmp_path / "blocks.nqa").as_uri()
    client.open(uri, BLOCKS.replace("\nhead\n", "\nhead * 2\n"))
    where = {"uri": uri, "range": span((1, 6), (1, 10))}
    for line, character in ((5, 0), (5, 2), (5, 4), (1, 7)):
        assert client.result("textDocument/definition", {"textDocument": {"uri": uri},
                                                          "position": at(line, character)}) == where
    assert client.result("textDocument/definition", {"textDocument": {"uri": uri}, "position": at(7, 2)}) is None


def test_closing_a_document_clears_its_diagnostics_and_shutdown_then_exit_ends_the_server_with_0(tmp_path):
    client = Client()
    try:
        client.initialize()
        uri = (tmp_path / "bad.nqa").as_uri()
        client.open(uri, "linear 2->2\nlinear 3->1\n")
        assert len(client.diagnostics(uri, 1)) == 1
        client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
        assert client.diagnostics(uri) == []
        assert client.close(keep_input_open=True) == 0  # the server ends though its input is still open
    finally:
        client.kill()


def test_exit_without_shutdown_exits_1():
    client = Client()
    try:
        client.initialize()
        assert client.close(shutdown=False, keep_input_open=True) == 1
    finally:
        client.kill()


def test_the_server_never_imports_torch(tmp_path):
    code = ("import sys; from runtime.cli import main; rc = main(['lsp']); "
            "sys.exit(7 if 'torch' in sys.modules else rc)")
    client = Client([sys.executable, "-c", code])
    try:
        client.initialize()
        uri = (tmp_path / "conv.nqa").as_uri()
        client.open(uri, CONV)
        assert client.diagnostics(uri, 1) == []
        assert _hints(client, uri)
        client.result("textDocument/formatting", {"textDocument": {"uri": uri}, "options": {"tabSize": 2,
                                                                                             "insertSpaces": True}})
        client.result("textDocument/documentSymbol", {"textDocument": {"uri": uri}})
        assert client.close() == 0
    finally:
        client.kill()


def test_without_pygls_nqa_lsp_says_what_to_install():
    code = ("import sys; sys.modules['pygls'] = None; from runtime.cli import main; sys.exit(main(['lsp']))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 2, done.stderr
    assert done.stderr == ("error[E0904]: `nqa lsp` needs the language server package pygls, which is not installed\n"
                           "  = hint: install it with `pip install 'nqa[lsp]'`\n")
    assert done.stdout == "" and "Traceback" not in done.stderr


def test_a_code_is_passed_on_with_a_link_to_its_explanation_and_left_out_when_empty(monkeypatch, tmp_path):
    from runtime.lsp import diagnostics
    from runtime.lsp.positions import Lines
    from spec_lang import Diagnostic
    from spec_lang.ast import Span

    page = tmp_path / "errors.md"
    page.write_text("# E0201\n")
    monkeypatch.setattr(diagnostics, "ERRORS_PAGE", page)
    diagnostics._page.cache_clear()
    lines = Lines("linear 2->2\nlinear 3->1\n")
    where = Span(2, 8, 2, 9, 19, 20)
    coded, plain = diagnostics.to_lsp([Diagnostic("wrong width", where, code="E0201"),
                                       Diagnostic("no code", where, severity="warning", code="")], lines, "untitled:a")
    assert coded.code == "E0201" and coded.code_description is not None
    assert coded.code_description.href == f"{page.as_uri()}#e0201"
    assert plain.code is None and plain.code_description is None and plain.severity == 2
    monkeypatch.setattr(diagnostics, "ERRORS_PAGE", tmp_path / "absent.md")
    diagnostics._page.cache_clear()
    [coded] = diagnostics.to_lsp([Diagnostic("wrong width", where, code="E0201")], lines, "untitled:a")
    assert coded.code == "E0201" and coded.code_description is None
    diagnostics._page.cache_clear()


def test_a_document_with_thousands_of_problems_gets_the_first_200_and_a_count_of_the_rest(client, tmp_path):
    uri = (tmp_path / "many.nqa").as_uri()
    client.open(uri, "linear 2->1 " + "relu " * 1000 + "\nexample [1, 1] -> [1]\n")
    found = client.diagnostics(uri, 1, timeout=60)
    assert len(found) == 201 and all(d["severity"] == 1 for d in found[:200])
    assert found[200]["severity"] == 3 and found[200]["message"] == (
        "... and 800 more problems: `nqa check --format json` lists them all")
