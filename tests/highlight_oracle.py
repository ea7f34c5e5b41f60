"""What a highlighter must show in a spec, worked out from the parser's tree and the grammar's
own lexer, never from a highlighter: the reference the Pygments lexer and the TextMate grammar
are held to.

In: the text of a spec that parses. Out: `expected(text)`, a kind for every character that one
of these covers: a statement's name (`layer`, `activation`, `block`, `setting`, or `block_name`
for a named block's use), an option's name (`option`), the word after `optimizer`, `loss`,
`schedule`, `init` (`member`), a statement's bare word (`flag`) or another word (`word`), the
name of a block (`block_name`), `choice`, a number, a shape, a vector's brackets (`bracket`),
`->` (`arrow`), a string, a comment. Also the spec texts the highlighting tests go over.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from lark import Lark

from conftest import ROOT, spec_files
from runtime.vocabulary import words
from spec_lang import ast, parse
from spec_lang.parser import GRAMMAR

KINDS = ("layer", "activation", "block", "setting", "block_name", "option", "member", "flag", "word", "choice",
         "number", "shape", "bracket", "arrow", "string", "comment")
DOCS = ["README.md", "docs/language.md", "docs/editors.md"]
# what the specs of the repository do not show: a named block used twice over, `;` between
# statements, a `#` in a string, numbers with signs and exponents, a flag of a family member
CONSTRUCTS = """\
input 1x8x8; data "a#b.csv" target=label normalize=standard
block stem { conv2d ->4 nobias kernel=3 padding=same; relu }
stem * 2
repeat 2 {
  linear ->8 init=kaiming  # a comment after a statement
  gelu approximate=tanh
}
flatten;linear ->2
optimizer sgd lr=choice(1e-3, .5, +2.5E+1) momentum=0.9 nesterov
example [1, -2.5] -> [0]
"""


def corpus() -> list[tuple[str, str]]:
    """(name, text) of every spec in specs/ and its subfolders, the sweeps of the tests, `CONSTRUCTS`
    and every ```nqa block of the docs."""
    found = [(str(p.relative_to(ROOT)), p.read_text(encoding="utf-8"))
             for p in spec_files(ROOT / "specs", deep=True) + spec_files(ROOT / "tests/sweep_specs")]
    found.append(("constructs", CONSTRUCTS))
    for doc in DOCS:
        blocks = re.findall(r"```nqa\n(.*?)```", (ROOT / doc).read_text(encoding="utf-8"), flags=re.S)
        found += [(f"{doc} block {n}", block) for n, block in enumerate(blocks, 1)]
    return found


def hostile() -> list[Path]:
    """Specs that do not parse or do not check: a highlighter colours them all the same."""
    return spec_files(ROOT / "tests/bad_specs")


def expected(text: str) -> dict[int, str]:
    """The kind of each character that a highlighted piece covers, by offset."""
    kinds: dict[int, str] = {}

    def mark(start: int, end: int, kind: str) -> None:
        assert kind in KINDS
        kinds.update(dict.fromkeys(range(start, end), kind))

    comments = _COMMENTS
    comments.clear()
    _comment_parser().parse(text + "\n")
    for comment in comments:
        mark(comment.start_pos, comment.end_pos, "comment")  # type: ignore[attr-defined]
    for statement in _statements(parse(text).statements):
        _statement(statement, text, mark)
    return kinds


_COMMENTS: list[object] = []


@functools.cache
def _comment_parser() -> Lark:
    """The grammar's own parser, telling `_COMMENTS` of each comment it skips."""
    return Lark(GRAMMAR.read_text(encoding="utf-8"), parser="lalr", lexer_callbacks={"COMMENT": _COMMENTS.append})


def _statements(statements: tuple[ast.Statement, ...]) -> list[ast.Statement]:
    found = []
    for statement in statements:
        found.append(statement)
        found += _statements(statement.body or ())
    return found


def _statement(statement: ast.Statement, text: str, mark) -> None:
    vocabulary = words()
    mark(statement.name_span.start, statement.name_span.end, vocabulary.statement_kind(statement.name) or "block_name")
    for index, arg in enumerate(statement.args):
        first = index == 0
        if isinstance(arg, ast.Word) and first and statement.name == vocabulary.definition:
            mark(arg.span.start, arg.span.end, "block_name")
        elif isinstance(arg, ast.Word) and first and arg.name in vocabulary.families.get(statement.name, ()):
            mark(arg.span.start, arg.span.end, "member")
        elif isinstance(arg, ast.Option):
            mark(arg.key_span.start, arg.key_span.end, "option")
            for value in arg.value if isinstance(arg.value, tuple) else (arg.value,):
                _value(value, mark)
        elif isinstance(arg, ast.Arrow):
            if arg.left is not None:
                _value(arg.left, mark)
            at = text.index("->", arg.left.span.end if arg.left is not None else arg.span.start)
            mark(at, at + 2, "arrow")
            _value(arg.right, mark)
        elif isinstance(arg, ast.Times):
            _value(arg.count, mark)
        else:
            _value(arg, mark)


def _value(value: ast.Value, mark) -> None:
    span = value.span
    if isinstance(value, ast.Number):
        mark(span.start, span.end, "number")
    elif isinstance(value, ast.Shape):
        mark(span.start, span.end, "shape")
    elif isinstance(value, ast.String):
        mark(span.start, span.end, "string")
    elif isinstance(value, ast.Word):
        mark(span.start, span.end, "flag" if value.name in words().flags else "word")
    elif isinstance(value, ast.Vector):
        mark(span.start, span.start + 1, "bracket")
        mark(span.end - 1, span.end, "bracket")
        for number in value.items:
            _value(number, mark)
    elif isinstance(value, ast.Choice):
        mark(value.name_span.start, value.name_span.end, "choice")
        for item in value.items:
            _value(item, mark)
