"""The Pygments lexer (`runtime/highlight.py`): every spec of the repository and every ```nqa block
of the docs is lexed without an Error token, each piece with the type the parser's tree says it
should have (`highlight_oracle`), and nothing else with one of those types; a spec that does not
parse is lexed whole all the same; `pygmentize -l nqa` finds the lexer through its entry point."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

pytest.importorskip("pygments", reason="the `highlight` extra (Pygments) is not installed")

from pygments import lex
from pygments.token import (
    Comment,
    Error,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
)

from conftest import ROOT
from highlight_oracle import corpus, expected, hostile
from runtime.highlight import NqaLexer, tokens

INTENDED = {"layer": Name.Builtin, "activation": Name.Function, "block": Keyword.Declaration, "setting": Keyword,
            "block_name": Name.Class, "option": Name.Attribute, "member": Keyword.Type, "flag": Keyword.Constant,
            "word": Name, "choice": Name.Function.Magic, "number": Number, "shape": Number,
            "bracket": Punctuation, "arrow": Operator, "string": String.Double, "comment": Comment.Single}
# the types only those pieces may have (punctuation and operators also stand for `,`, `=`, braces)
CLAIMED = {kind: token for kind, token in INTENDED.items() if kind not in ("bracket", "arrow")}
CORPUS = corpus()


def _types(text: str) -> list:
    """The token type of each character of `text`."""
    types: list = []
    for offset, token, piece in NqaLexer().get_tokens_unprocessed(text):
        assert offset == len(types), f"a gap or an overlap at offset {offset}"
        types += [token] * len(piece)
    assert len(types) == len(text)
    return types


def _fits(kind: str, token) -> bool:
    # a plain word is `Name` itself: `Name.Builtin` and the like are the statements'
    return token is Name if kind == "word" else token in INTENDED[kind]


def _where(text: str, offset: int) -> str:
    start = text.rfind("\n", 0, offset) + 1
    return f"line {text.count(chr(10), 0, offset) + 1}: {text[start:text.find(chr(10), offset)]!r}"


@pytest.mark.parametrize(("name", "text"), CORPUS, ids=[name for name, _ in CORPUS])
def test_every_piece_of_every_spec_gets_its_token_type(name, text):
    types, kinds = _types(text), expected(text)
    wrong = [f"{kind} at {_where(text, at)} is {types[at]}" for at, kind in kinds.items() if not _fits(kind, types[at])]
    assert not wrong, "\n".join(list(dict.fromkeys(wrong))[:10])
    posing = [f"{types[at]} at {_where(text, at)} is a {kinds.get(at, 'piece of no kind')}"
              for at in range(len(text))
              if any(types[at] is token and kinds.get(at) != kind and not (token is Number and kinds.get(at) in
                                                                         ("number", "shape"))
                     for kind, token in CLAIMED.items())]
    assert not posing, "\n".join(list(dict.fromkeys(posing))[:10])
    assert Error not in types


def test_each_kind_is_in_the_specs_lexed_here():
    """The cases above see every kind at least once: a kind no spec shows would go untested."""
    seen = {kind for _, text in CORPUS for kind in expected(text).values()}
    assert seen == set(INTENDED)


@pytest.mark.parametrize("path", hostile(), ids=lambda p: p.name)
def test_a_spec_that_does_not_check_is_lexed_whole(path):
    text = path.read_text(encoding="utf-8", errors="replace")
    _types(text)
    assert "".join(piece for _, piece in lex(text, NqaLexer(stripnl=False, ensurenl=False))) == text


def test_a_character_the_grammar_has_no_token_for_is_an_error():
    types = _types("linear 2->3 $\neval [1, a]\n")
    assert [t for t in types if t is Error] == [Error, Error]


def test_importing_the_lexer_reads_neither_the_registry_nor_the_grammar_and_lexing_needs_no_torch():
    code = ("import sys; import runtime.highlight; "
            "assert not {'compiler', 'spec_lang', 'torch'} & set(sys.modules), sorted(sys.modules); "
            "assert len(list(runtime.highlight.tokens('linear 2->3; relu'))) == 8; "
            "assert 'compiler' in sys.modules and 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def _installed() -> None:
    if not any(e.name == "nqa" and e.value == "runtime.highlight:NqaLexer"
               for e in entry_points(group="pygments.lexers")):
        pytest.skip("nqa is not installed with its entry points: `pip install -e .` registers the lexer")


def test_pygmentize_highlights_a_spec_through_the_entry_point():
    _installed()
    pygmentize = Path(sys.executable).with_name("pygmentize")
    done = subprocess.run([str(pygmentize), "-l", "nqa", "-f", "raw", "specs/mlp.nqa"], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    assert "Token.Name.Builtin\t'linear'\n" in done.stdout
    assert "Token.Keyword\t'optimizer'\n" in done.stdout and "Token.Keyword.Type\t'sgd'\n" in done.stdout
    assert "Token.Name.Attribute\t'momentum'\n" in done.stdout and "Token.Error" not in done.stdout
    guessed = subprocess.run([str(pygmentize), "-N", "specs/mlp.nqa"], cwd=ROOT, capture_output=True, text=True,
                             check=True)
    assert guessed.stdout == "nqa\n"


def test_a_line_of_brackets_that_never_close_is_coloured_in_time_that_grows_with_its_length():
    """Each `[` with no `]` after it on its line is an `Error`, and finding that once is enough:
    200,000 of them take as many steps as 200,000 numbers, not 200,000 squared."""
    text = "example " + "[" * 200_000 + "\nlinear 2->1\n"
    found = list(tokens(text))
    assert [t for _, t, piece in found if piece == "["] == [Error] * 200_000
    assert "".join(piece for _, _, piece in found) == text
    assert (Name.Builtin, "linear") in [(kind, piece) for _, kind, piece in found[200_000:]]
