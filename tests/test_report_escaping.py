"""What a data file brings into a report is shown, never acted on: class labels
with control or bidirectional characters are spelt out in the text report and
escaped in the JSON; `--runs` reports carry the spec's warnings as single runs do."""

from __future__ import annotations

import json

from runtime.cli import main

LABELS = "sepal,label\n1,a\x1b]0;pwned\x07\n2,b\u202e\n3,a\x1b]0;pwned\x07\n"
SPEC = 'input 1\nlinear ->2\nloss cross_entropy\ndata "lab.csv" target=label\nepochs 2\n'


def test_class_labels_are_spelt_out_in_the_text_report_and_escaped_in_json(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lab.csv").write_text(LABELS)
    (tmp_path / "lab.nqa").write_text(SPEC)
    assert main(["run", "lab.nqa"]) == 0
    out = capsys.readouterr().out
    assert "classes    0=a\\x1b]0;pwned\\x07 1=b\\u202e\n" in out
    assert "\x1b" not in out and "\u202e" not in out
    assert main(["run", "lab.nqa", "--json", "-"]) == 0
    text = capsys.readouterr().out
    assert "\x1b" not in text and "\u202e" not in text and "\\u202e" in text
    assert json.loads(text)["training"]["classes"] == ["a\x1b]0;pwned\x07", "b\u202e"]


def test_runs_reports_carry_the_specs_warnings(tmp_path, capsys):
    spec = tmp_path / "sm.nqa"
    spec.write_text("linear 2->2\nsoftmax\nloss cross_entropy\n"
                    "example [1, 1] -> [1]\nexample [0, 1] -> [0]\nepochs 3\n")
    assert main(["run", str(spec), "--runs", "2", "--json", "-"]) == 0
    captured = capsys.readouterr()
    warnings = json.loads(captured.out)["warnings"]
    assert [(w["line"], w["message"]) for w in warnings] == [
        (3, "the network ends with `softmax`, and `loss cross_entropy` applies a softmax again")]
    assert "warning[W0002]: the network ends with `softmax`" in captured.err


def test_a_file_name_with_control_characters_is_spelt_out_wherever_it_is_shown(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    name = "e\x1b]0;x\x07.nqa"
    (tmp_path / name).write_text("linear 2->1\nexample [1, 1] -> [2]\nepochs 2\n")
    assert main(["check", name]) == 0
    assert capsys.readouterr().out == "e\\x1b]0;x\\x07.nqa: ok\n"
    assert main(["run", name]) == 0
    assert capsys.readouterr().out.startswith("nqa run e\\x1b]0;x\\x07.nqa  (seed 0)\n")
    assert main(["run", name, "--json", "no\x1b]0;x\x07/r.json"]) == 2
    assert capsys.readouterr().err == ("error[E0923]: --json: cannot write `no\\x1b]0;x\\x07/r.json`: the folder "
                                       "`no\\x1b]0;x\\x07` does not exist\n")
