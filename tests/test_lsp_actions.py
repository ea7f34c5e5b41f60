"""Quick fixes: each bad spec whose hint names one edit gets a code action, and applying
its edit to the spec's text removes that diagnostic (or lets the spec check)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol.types import CodeAction, Position, Range, TextEdit

from compiler.check import check
from runtime.lsp.actions import code_actions
from spec_lang.errors import Diagnostic, SpecError

BAD = Path(__file__).parent / "bad_specs"
URI = "file:///spec.nqa"


def problems(text: str) -> tuple[Diagnostic, ...]:
    try:
        check(text, folder=BAD)
    except SpecError as err:
        return err.diagnostics
    return ()


def edit_of(action: CodeAction) -> TextEdit:
    """The action's one edit."""
    assert action.edit is not None and action.edit.changes is not None
    (edit,) = action.edit.changes[URI]
    return edit


def applied(text: str, action: CodeAction) -> str:
    """The text with the action's one edit made, as an editor makes it."""
    edit = edit_of(action)
    lines = text.split("\n")

    def offset(position: Position) -> int:
        return sum(len(line) + 1 for line in lines[:position.line]) + position.character

    return text[:offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end):]


# spec, the quick fix's title, the edit (range as line:col-line:col, 0-based), new text
CASES = [
    ("width_mismatch", "write `linear 2->1`", (2, 7, 2, 8), "2"),
    ("unknown_statement", "write `linear`", (1, 0, 1, 6), "linear"),
    ("unknown_option", "write `momentum`", (4, 21, 4, 29), "momentum"),
    ("unknown_optimizer", "write `adam`", (4, 10, 4, 13), "adam"),
    ("unknown_flag", "write `bias`", (1, 12, 1, 17), "bias"),
    ("leaky_relu_misspelt", "write `leaky_relu`", (2, 0, 2, 9), "leaky_relu"),
    ("flatten_width", "write `linear 256->10`", (5, 7, 5, 10), "256"),
    ("cross_entropy_not_flattened", "add `flatten` before `linear ->10`", (5, 0, 5, 0), "flatten\n"),
    ("optimizer_as_statement", "write `optimizer adam`", (4, 0, 4, 4), "optimizer adam"),
]


@pytest.mark.parametrize(("name", "title", "where", "new_text"), CASES, ids=[c[0] for c in CASES])
def test_each_fix_is_one_edit_that_removes_its_problem(name: str, title: str, where: tuple[int, ...],
                                                       new_text: str) -> None:
    text = (BAD / f"{name}.nqa").read_text()
    before = problems(text)
    actions = code_actions(URI, text, before)
    action = next(a for a in actions if a.title == title)
    edit = edit_of(action)
    r = edit.range
    assert (r.start.line, r.start.character, r.end.line, r.end.character) == where
    assert edit.new_text == new_text
    assert action.kind == "quickfix"
    fixed = next(d for d in before if d.fix is not None and d.fix.title == title)
    after = problems(applied(text, action))
    assert fixed.message not in [d.message for d in after]
    assert len(after) < len(before)


def test_width_fix_makes_the_spec_check() -> None:
    text = (BAD / "width_mismatch.nqa").read_text()
    (action,) = code_actions(URI, text, problems(text))
    assert problems(applied(text, action)) == ()
    assert "linear 2->1" in applied(text, action)


def test_actions_are_only_those_touching_the_range_asked_about() -> None:
    text = (BAD / "several_mistakes.nqa").read_text()
    found = problems(text)
    everywhere = code_actions(URI, text, found)
    assert [a.title for a in everywhere] == ["write `linear`", "write `momentum`"]
    line = edit_of(everywhere[1]).range.start.line
    asked = Range(Position(line, 0), Position(line, 80))  # the whole line, as an editor asks for it
    assert [a.title for a in code_actions(URI, text, found, asked)] == ["write `momentum`"]


def test_a_hint_with_no_single_edit_has_no_action() -> None:
    text = "linear 2->3\nlinear 3->1\nloss mse\n"  # no training data: the hint gives an example, not an edit
    assert problems(text) == () or code_actions(URI, text, problems(text)) == []
    text = (BAD / "no_layers.nqa").read_text()
    assert problems(text) and code_actions(URI, text, problems(text)) == []
