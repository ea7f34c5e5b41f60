"""`nqa fmt`: one canonical layout, comments kept, idempotent, meaning unchanged;
every spec in the repository is kept formatted."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings

from compiler import check
from compiler.format import format_spec
from conftest import ROOT, spec_files
from runtime.cli import main
from spec_lang import SpecError, parse
from spec_strategies import mutated_specs

REPO_SPECS = spec_files(ROOT / "specs", deep=True)


def same_statements(a: str, b: str) -> bool:
    """The same statements in the same order, each with the same arguments (in any order)."""
    left, right = parse(a).statements, parse(b).statements
    return [(s.name, Counter(s.args)) for s in left] == \
        [(s.name, Counter(s.args)) for s in right]


def _comments(text: str) -> list[str]:
    return [line.split("#", 1)[1].rstrip() for line in text.split("\n") if "#" in line and '"' not in line]


def test_the_canonical_layout():
    messy = ("# head\n\n\n  linear  2 ->3 bias ;linear 3->1# tail\nleaky_relu slope=1e-2   \n"
             "optimizer sgd momentum=.9 lr=1E-2 nesterov   # opt\nexample [1,1]->[+10]\n\n\n"
             'data "a#b.csv" target=y inputs=a,b\n\n')
    assert format_spec(messy) == (
        "# head\n\nlinear 2->3 bias; linear 3->1  # tail\nleaky_relu slope=0.01\n"
        "optimizer sgd nesterov lr=0.01 momentum=0.9  # opt\nexample [1, 1] -> [10]\n\n"
        'data "a#b.csv" inputs=a,b target=y\n')


@pytest.mark.parametrize("path", REPO_SPECS, ids=lambda p: p.name)
def test_every_spec_in_the_repository_is_formatted(path):
    text = path.read_text(encoding="utf-8")
    assert format_spec(text) == text, f"run: nqa fmt {path.relative_to(ROOT)}"


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                    HealthCheck.filter_too_much])
@given(mutated_specs())
def test_formatting_is_idempotent_and_keeps_the_meaning(text):
    try:
        once = format_spec(text)
    except SpecError:
        return  # fmt refuses what does not parse, with the same located errors as check
    assert format_spec(once) == once
    assert same_statements(once, text)
    assert _comments(text) == _comments(once)
    try:
        before = check(text)
    except SpecError:
        return
    assert check(once).spec == before.spec


def test_fmt_check_diff_and_rewrite(tmp_path, capsys):
    spec = tmp_path / "a.nqa"
    spec.write_text("linear 2 -> 3  # keep me\n")
    assert main(["fmt", "--check", str(spec)]) == 1
    assert "would be reformatted" in capsys.readouterr().err
    assert main(["fmt", "--diff", str(spec)]) == 1
    assert "+linear 2->3  # keep me" in capsys.readouterr().out
    assert spec.read_text() == "linear 2 -> 3  # keep me\n"
    assert main(["fmt", str(spec)]) == 0
    assert spec.read_text() == "linear 2->3  # keep me\n"
    assert main(["fmt", "--check", str(spec)]) == 0


def test_fmt_refuses_a_spec_that_does_not_parse(tmp_path, capsys):
    spec = tmp_path / "bad.nqa"
    spec.write_text("linear 2->\n")
    assert main(["fmt", str(spec)]) == 2
    assert "expected a width or a vector after `->`" in capsys.readouterr().err
    assert spec.read_text() == "linear 2->\n"
