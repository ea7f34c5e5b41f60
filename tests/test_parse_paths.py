"""The two ways through a spec agree: the lean loop over Lark's tables
(`spec_lang.lalr`) and Lark's own parser give the same tree, spans and
spellings included, and the loop gives up exactly where Lark finds a syntax error."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT, spec_files
from spec_lang import SpecError, ast, lalr, parse
from spec_lang.lark_path import parse_with_lark
from spec_lang.parser import tables as _tables
from spec_strategies import hostile_specs, mutated_specs

REPO_SPECS = spec_files(ROOT / "specs", deep=True) + sorted((ROOT / "tests/bad_specs").glob("*.nqa"))


def dump(node):
    """Every field of every node, spans and number spellings too (equality leaves them out)."""
    if isinstance(node, (list, tuple)) and not isinstance(node, ast.Span):
        return tuple(dump(item) for item in node)
    if dataclasses.is_dataclass(node):
        return (type(node).__name__,) + tuple(dump(getattr(node, f.name)) for f in dataclasses.fields(node))
    return node


def both(text: str):
    fast = lalr.run(_tables(), text + "\n")
    try:
        spec, nodes = parse_with_lark(text, "x.nqa")
    except SpecError:
        return fast, None
    return fast, (dump(spec), nodes.problems, dump(nodes.bad))


def agree(text: str) -> None:
    fast, slow = both(text)
    if slow is None:
        assert fast is None, "the loop took a text Lark's parser refuses"
    else:
        assert fast is not None, "the loop refused a text Lark's parser takes"
        assert (dump(fast[0]), fast[1].problems, dump(fast[1].bad)) == slow


@pytest.mark.parametrize("path", REPO_SPECS, ids=lambda p: p.name)
def test_both_ways_agree_on_every_spec_in_the_repository(path):
    agree(path.read_text(encoding="utf-8", errors="replace").removeprefix("\ufeff"))


def test_spans_are_exact():
    text = "linear 2->3 bias  # a comment\n\n  example [1, -2.5e1] -> [10]; loss mse lr=1,2\n"
    parsed = lalr.run(_tables(), text + "\n")
    assert parsed is not None
    spec, _ = parsed
    linear, example, loss = spec.statements
    where = lambda span: text[span.start:span.end]  # noqa: E731
    assert [where(s.span) for s in spec.statements] == ["linear 2->3 bias", "example [1, -2.5e1] -> [10]",
                                                       "loss mse lr=1,2"]
    assert example.span[:4] == (3, 3, 3, 30)
    arrow = example.args[0]
    assert isinstance(arrow, ast.Arrow) and isinstance(arrow.left, ast.Vector)
    assert where(arrow.span) == "[1, -2.5e1] -> [10]"
    assert [where(n.span) for n in arrow.left.items] == ["1", "-2.5e1"]
    assert arrow.left.items[1].span[:4] == (3, 15, 3, 21)
    option, width = loss.args[1], linear.args[0]
    assert isinstance(option, ast.Option) and isinstance(width, ast.Arrow) and isinstance(width.left, ast.Number)
    assert (where(option.key_span), where(option.span)) == ("lr", "lr=1,2")
    assert where(width.span) == "2->3" and width.left.value == 2


def test_a_syntax_error_is_left_to_lark_and_reported_there():
    assert lalr.run(_tables(), "linear 2->3 ->\n\n") is None
    assert lalr.run(_tables(), "linear 2->3 $\n\n") is None
    with pytest.raises(SpecError) as err:
        parse("linear 2->3 $\nrelu = 3\n")
    assert [d.span.line for d in err.value.diagnostics] == [1, 2]  # type: ignore[union-attr]


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(mutated_specs(), hostile_specs))
def test_both_ways_agree_on_generated_text(text):
    agree(text.removeprefix("\ufeff"))


def test_the_tables_read_back_from_their_cache_are_the_same(tmp_path, monkeypatch):
    from spec_lang import parser
    from spec_lang.lark_path import lark_parser

    def plain(tables):  # as JSON has it: lists for tuples
        return json.loads(json.dumps(tables.to_data()))

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    worked_out = plain(lalr.Tables.from_lark(lark_parser()))
    built = parser.tables.__wrapped__()  # no cache yet: worked out, then stored
    [stored] = (tmp_path / "nqa").glob("tables-*.json")
    assert plain(built) == worked_out == json.loads(stored.read_text())
    assert plain(parser.tables.__wrapped__()) == worked_out  # read back
    good = stored.read_text()
    damaged = ['{"format": 1, "terminals": [["NAME", "("]]}', "[" * 100_000, good[: len(good) // 2],
               good.replace('"ignored": ["COMMENT", "WS"]', '"ignored": "WS"'),
               ('{"format": 1, "terminals": [["NAME", "[a-z]+"]], "ignored": [], "multiline": [], "plans": [],'
                ' "start": 0, "end": 1, "table": []}')]
    for text in damaged:
        stored.write_text(text)
        assert plain(parser.tables.__wrapped__()) == worked_out  # worked out again, and stored again
        assert json.loads(stored.read_text()) == worked_out


def test_checking_valid_specs_does_not_import_lark_once_the_tables_are_cached(tmp_path):
    import subprocess
    import sys

    program = ("import sys; from pathlib import Path; from compiler import check\n"
               "[check(p) for p in sorted(Path('specs').glob('*.nqa')) if p.is_file()]\n"
               "print('lark' in sys.modules)")
    env = {**__import__("os").environ, "XDG_CACHE_HOME": str(tmp_path)}
    runs = [subprocess.run([sys.executable, "-c", program], cwd=ROOT, env=env, capture_output=True,
                           text=True, check=True).stdout.strip() for _ in range(2)]
    assert runs == ["True", "False"]  # the first works the tables out with Lark and stores them


def test_a_long_run_of_blanks_before_a_bad_character_is_read_once():
    """Skipping blanks is atomic: were it not, the scanner would try every way of
    splitting the run before giving up, doubling its time with each blank."""
    for text in ("linear 2->3" + " " * 3000 + "// a comment\nrelu", "linear" + "\t \f" * 1000 + "$"):
        assert lalr.run(_tables(), text + "\n") is None
        agree(text)
