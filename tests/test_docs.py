"""The docs tell the truth: each output block in docs/running.md (and in
docs/using.md, whose commands run in order in a copy of specs/examples) is what its
command prints now, and the pictures in docs/img are what `nqa run --draw`
draws now. `pytest --update-goldens` rewrites both."""

from __future__ import annotations

import re
import shlex
import shutil

import pytest

from conftest import ROOT, same_report
from runtime.cli import main

RUNNING = ROOT / "docs/running.md"
BLOCK = re.compile(r"<!-- command: (.*?) -->\n```text\n(.*?)```", re.S)
PICTURES = ["neuron", "two_inputs", "mlp"]


def _output(command: str, capsys) -> str:
    """What the command prints: stdout, then stderr (progress lines and errors)."""
    main(shlex.split(command))
    captured = capsys.readouterr()
    return captured.out + captured.err


def test_every_command_block_shows_the_current_output(capsys, monkeypatch, request):
    monkeypatch.chdir(ROOT)
    text = RUNNING.read_text(encoding="utf-8")
    blocks = BLOCK.findall(text)
    assert len(blocks) >= 4
    if request.config.getoption("--update-goldens"):
        text = BLOCK.sub(lambda m: f"<!-- command: {m[1]} -->\n```text\n{_output(m[1], capsys)}```", text)
        RUNNING.write_text(text, encoding="utf-8")
        return
    for command, shown in blocks:
        assert same_report(_output(command, capsys), shown), f"docs/running.md is out of date for `nqa {command}`"


@pytest.mark.parametrize("name", PICTURES)
def test_the_pictures_are_the_current_drawings(name, tmp_path, monkeypatch, request):
    monkeypatch.chdir(ROOT)
    drawn = tmp_path / f"{name}.svg"
    assert main(["run", f"specs/{name}.nqa", "--draw", str(drawn), "--quiet"]) == 0
    picture = ROOT / "docs/img" / f"{name}.svg"
    if request.config.getoption("--update-goldens"):
        picture.write_text(drawn.read_text())
    assert drawn.read_text() == picture.read_text()


USING = ROOT / "docs/using.md"


def test_using_commands_run_in_order_and_show_their_output(capsys, monkeypatch, request, tmp_path):
    """docs/using.md trains, saves, predicts and evaluates: its commands run one after another in a copy
    of specs/examples, so that the weights they save land there."""
    shutil.copytree(ROOT / "specs/examples", tmp_path / "specs/examples")
    monkeypatch.chdir(tmp_path)
    text = USING.read_text(encoding="utf-8")
    blocks = BLOCK.findall(text)
    assert len(blocks) >= 5
    if request.config.getoption("--update-goldens"):
        text = BLOCK.sub(lambda m: f"<!-- command: {m[1]} -->\n```text\n{_output(m[1], capsys)}```", text)
        USING.write_text(text, encoding="utf-8")
        return
    for command, shown in blocks:
        assert same_report(_output(command, capsys), shown), f"docs/using.md is out of date for `nqa {command}`"
