"""Hover, completion and quick fixes as an editor gets them from `nqa lsp` over stdio.

The functions behind them are tested one by one in test_lsp_hover.py,
test_lsp_completion.py and test_lsp_actions.py; here the server answers the
requests for an open document, from the check of its current text."""

from __future__ import annotations

import pytest

from lsp_client import Client, at, initialized, span

CONV = "input 1x8x8\nconv2d ->16 kernel=3 padding=1\nrelu\nflatten\nlinear ->10\n"


@pytest.fixture
def client():
    yield from initialized()


def _opened(client: Client, tmp_path, name: str, text: str) -> tuple[str, list]:
    uri = (tmp_path / name).as_uri()
    client.open(uri, text)
    return uri, client.diagnostics(uri, 1)


def test_hover_on_a_layer_shows_its_module_shapes_parameters_and_flops(client, tmp_path):
    uri, _ = _opened(client, tmp_path, "conv.nqa", CONV)
    found = client.result("textDocument/hover", {"textDocument": {"uri": uri}, "position": at(1, 2)})
    text = found["contents"]["value"]
    assert found["contents"]["kind"] == "markdown"
    assert "nn.Conv2d(1, 16, kernel_size=3, padding=1)" in text
    assert "[1, 8, 8]" in text and "[16, 8, 8]" in text
    assert "160" in text  # 16 * 1 * 3 * 3 weights + 16 biases
    assert "FLOPs" in text
    assert found["range"] == span((1, 0), (1, 6))


def test_hover_on_an_option_gives_its_meaning(client, tmp_path):
    uri, _ = _opened(client, tmp_path, "opt.nqa", "linear 2->1\noptimizer sgd lr=0.1 momentum=0.9\n")
    found = client.result("textDocument/hover", {"textDocument": {"uri": uri}, "position": at(1, 21)})
    assert "momentum" in found["contents"]["value"]


def test_completion_offers_statement_names_and_an_optimizers_options(client, tmp_path):
    uri, _ = _opened(client, tmp_path, "c.nqa", "linear 2->1\nopt\n")
    names = [i["label"] for i in client.result("textDocument/completion",
                                               {"textDocument": {"uri": uri}, "position": at(1, 3)})]
    assert "optimizer" in names and "linear" in names
    client.change(uri, 2, "linear 2->1\noptimizer sgd \n")
    client.diagnostics(uri, 2)
    options = [i["label"] for i in client.result("textDocument/completion",
                                                 {"textDocument": {"uri": uri}, "position": at(1, 14)})]
    assert "lr=" in options or "lr" in options
    assert "momentum=" in options or "momentum" in options


def test_completion_names_the_data_files_columns(client, tmp_path):
    (tmp_path / "rows.csv").write_text("height,weight,kind\n1,2,a\n3,4,b\n")
    uri, _ = _opened(client, tmp_path, "d.nqa", 'data "rows.csv" target=\nlinear ->2\n')
    labels = [i["label"] for i in client.result("textDocument/completion",
                                                {"textDocument": {"uri": uri}, "position": at(0, 23)})]
    assert {"height", "weight", "kind"} <= set(labels)


def test_a_width_mismatch_has_a_quick_fix_that_names_its_diagnostic(client, tmp_path):
    uri, [shown] = _opened(client, tmp_path, "w.nqa", "linear 2->2\nlinear 3->1\n")
    actions = client.result("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": shown["range"],
                                                        "context": {"diagnostics": [shown]}})
    [action] = actions
    assert action["kind"] == "quickfix" and action["title"] == "write `linear 2->1`"
    assert action["edit"] == {"changes": {uri: [{"range": span((1, 7), (1, 8)), "newText": "2"}]}}
    assert action["diagnostics"][0]["code"] == "E0201"


def test_an_unknown_statement_is_fixed_to_the_name_it_was_likely_meant_to_be(client, tmp_path):
    uri, [shown] = _opened(client, tmp_path, "u.nqa", "linear 2->1\nepocs 3\n")
    [action] = client.result("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": shown["range"],
                                                          "context": {"diagnostics": [shown]}})
    assert action["edit"]["changes"][uri] == [{"range": span((1, 0), (1, 5)), "newText": "epochs"}]


def test_a_spec_that_passes_has_no_quick_fixes(client, tmp_path):
    uri, found = _opened(client, tmp_path, "ok.nqa", "linear 2->1\n")
    assert found == []
    assert client.result("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": span((0, 0), (1, 0)),
                                                     "context": {"diagnostics": []}}) == []
