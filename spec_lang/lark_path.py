"""The slow way through a spec: Lark's own parser, which finds syntax errors.

In: a spec's text that the fast loop (`lalr.run`) did not take, and a file
name. Out: the `Spec` and the `Nodes` that made it, or a `SpecError` with every
syntax error in the file: after each one the statement at fault is blanked
(positions kept) and parsing goes on. Also `lark_parser()`, the LALR parser
built from `grammar.lark` (cached on disk by Lark), from which the fast loop's
tables are worked out.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.tree import Meta

from . import ast
from .braces import pairs, unbalanced
from .errors import SyntaxErrors
from .nodes import Nodes
from .syntax_errors import describe_syntax_error

GRAMMAR = Path(__file__).with_name("grammar.lark")
MAX_SYNTAX_ERRORS = 20


@functools.cache
def lark_parser() -> Lark:
    return Lark(GRAMMAR.read_text(encoding="utf-8"), parser="lalr", maybe_placeholders=False, cache=True)


def token_span(tok: Token) -> ast.Span:
    # a token from the parser has all its positions
    return ast.Span(tok.line, tok.column, tok.end_line, tok.end_column, tok.start_pos, tok.end_pos)  # type: ignore[arg-type]


class _FromTree(Transformer[Token, ast.Spec]):
    """Lark's parse tree to AST nodes, through the same `Nodes` as the fast loop."""

    def __init__(self) -> None:
        super().__init__(visit_tokens=True)
        self.nodes = Nodes()

    def __default_token__(self, tok: Token) -> Any:
        return getattr(Nodes, tok.type)(self.nodes, str(tok), token_span(tok))

    def __default__(self, data: str, children: list[Any], meta: Meta) -> Any:
        return getattr(Nodes, data)(self.nodes, children)


def parse_with_lark(text: str, filename: str) -> tuple[ast.Spec, Nodes]:
    diagnostics, lone = unbalanced(text)
    work, tree = text, None
    for at in lone:  # reported once: a `}` is then read as a blank, a `{` with its statement
        work = _blanked(work, [at]) if work[at] == "}" else _blank_statement(work, at)
    while True:
        try:
            tree = lark_parser().parse(work + "\n")
            break
        except UnexpectedInput as err:
            diagnostics.append(describe_syntax_error(err, work + "\n"))
            if len(diagnostics) >= MAX_SYNTAX_ERRORS or not isinstance(
                    err, (UnexpectedCharacters, UnexpectedToken)):
                break
            blanked = _blank_statement(work, _error_offset(err, work))
            if blanked == work:
                break
            work = blanked
    builder = _FromTree()
    built = (builder.transform(tree), builder.nodes) if tree is not None else None
    if diagnostics:
        raise SyntaxErrors(diagnostics, text, filename, built, MAX_SYNTAX_ERRORS)
    return built  # type: ignore[return-value]  # None only with syntax errors, raised above


def _error_offset(err: UnexpectedInput, text: str) -> int:
    if isinstance(err, UnexpectedToken) and err.token.start_pos is not None:
        start: int = err.token.start_pos  # lark leaves `token` untyped
        return min(start, len(text))
    return min(getattr(err, "pos_in_stream", 0) or 0, len(text))


_VECTOR_TEXT = frozenset("0123456789.,+-eE \t\r\n")


def _blank_statement(text: str, offset: int) -> str:
    """Replace the statement around `offset` with spaces, keeping every position.
    A vector left open at `offset` whose numbers go on to a `]` on a later line
    is blanked up to that line's end, so that its rest is not a second error."""
    start, end = _statement_bounds(text, offset)
    if end == offset and offset < len(text) and start == offset:
        end = offset + 1
    close = text.find("]", offset) if text[offset:offset + 1] == "[" else -1
    if close > end and _VECTOR_TEXT.issuperset(text[offset + 1:close]):
        after = text.find("\n", close)
        end = after if after >= 0 else len(text)
    blank = "".join(c if c in "\r\n" else " " for c in text[start:end])
    partner, _, _ = pairs(text)
    outside = [at for at in range(start, end) if at in partner and not start <= partner[at] < end]
    return _blanked(text[:start] + blank + text[end:], [partner[at] for at in outside])


def _blanked(text: str, offsets: list[int]) -> str:
    """`text` with the characters at `offsets` (braces) made blanks."""
    if not offsets:
        return text
    chars = list(text)
    for at in offsets:
        chars[at] = " "
    return "".join(chars)


def _statement_bounds(text: str, offset: int) -> tuple[int, int]:
    """Where the statement holding `offset` starts and ends on its line: at `;`
    or the line's ends, not counting a `;` inside a string or a comment."""
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    end = len(text) if end < 0 else end
    quoted = False
    for i in range(start, end):
        char = text[i]
        if quoted:
            quoted = char != '"'
        elif char == '"':
            quoted = True
        elif char == "#":
            return start, max(i, offset)
        elif char == ";":
            if i < offset:
                start = i + 1
            else:
                return start, i
    return start, end
