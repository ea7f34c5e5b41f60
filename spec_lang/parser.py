"""Text to syntax tree.

In: the text of a .nqa file (and a file name for messages). Out: a frozen
`Spec`, or a `SpecError` listing every syntax error in the file. The LALR parser
is built once per process from `grammar.lark` (and cached on disk by Lark);
the Lark tree is turned into the AST by `SpecTransformer` as a separate step.
"""

from __future__ import annotations

import functools
from pathlib import Path

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedInput, UnexpectedCharacters, UnexpectedToken

from . import ast
from .errors import Diagnostic, SpecError
from .gcpause import paused_gc
from .syntax_errors import describe_syntax_error
from .vectors import number_value, read_vector

GRAMMAR = Path(__file__).with_name("grammar.lark")
MAX_SYNTAX_ERRORS = 20


@functools.cache
def _parser() -> Lark:
    return Lark(GRAMMAR.read_text(encoding="utf-8"), parser="lalr", propagate_positions=True,
                maybe_placeholders=False, cache=True)


def token_span(tok: Token) -> ast.Span:
    return ast.Span(tok.line, tok.column, tok.end_line, tok.end_column, tok.start_pos, tok.end_pos)


def _meta_span(meta) -> ast.Span:
    return ast.Span(meta.line, meta.column, meta.end_line, meta.end_column, meta.start_pos, meta.end_pos)


class SpecTransformer(Transformer):
    """Builds AST nodes, with spans, from Lark's parse tree. Plain values arrive as
    tokens (NUMBER, VECTOR, STRING, NAME) and become nodes here."""

    def __init__(self) -> None:
        super().__init__(visit_tokens=False)  # tokens are read by the rule methods
        self.problems: list[Diagnostic] = []  # vector items that are not numbers

    def _call_userfunc(self, tree, new_children=None):
        # every rule method takes (meta, children); calling it directly skips the
        # wrapper `v_args(meta=True)` would build for each node
        children = new_children if new_children is not None else tree.children
        return getattr(self, tree.data)(tree.meta, children)

    def start(self, meta, statements):
        return ast.Spec(tuple(statements))

    def statement(self, meta, children):
        name, *args = children
        return ast.Statement(str(name), tuple(map(self.value, args)), token_span(name), _meta_span(meta))

    def arrow(self, meta, children):
        *left, _arrow, right = children
        return ast.Arrow(self.value(left[0]) if left else None, self.value(right), _meta_span(meta))

    def option(self, meta, children):
        key, *values = children
        value = self.value(values[0]) if len(values) == 1 else tuple(map(self.value, values))
        return ast.Option(str(key), value, token_span(key), _meta_span(meta))

    def value(self, item):
        """A value token as its node; nodes built by a rule pass through."""
        if not isinstance(item, Token):
            return item
        kind, text, span = item.type, str(item), token_span(item)
        if kind == "NUMBER":
            return ast.Number(number_value(text), text, span)
        if kind == "VECTOR":
            items, problems = read_vector(item)
            self.problems.extend(problems)
            return ast.Vector(items, span)
        if kind == "STRING":
            return ast.String(text[1:-1], span)
        return ast.Word(text, span)


def parse(text: str, filename: str = "<spec>") -> ast.Spec:
    """Parse a spec; raise `SpecError` with every syntax error found, in order."""
    with paused_gc():
        return _parse(text, filename)


def _parse(text: str, filename: str) -> ast.Spec:
    text = text.removeprefix("\ufeff")
    if "\r" in text and "\n" not in text:
        text = text.replace("\r", "\n")  # old Mac line endings; every position stays the same
    diagnostics: list[Diagnostic] = []
    work = text
    while True:
        try:
            tree = _parser().parse(work + "\n")
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
    if diagnostics:
        raise SpecError(diagnostics, text, filename)
    transformer = SpecTransformer()
    spec = transformer.transform(tree)
    if transformer.problems:
        raise SpecError(transformer.problems, text, filename)
    return spec


def _error_offset(err: UnexpectedInput, text: str) -> int:
    if isinstance(err, UnexpectedToken) and err.token.start_pos is not None:
        return min(err.token.start_pos, len(text))
    return min(getattr(err, "pos_in_stream", 0) or 0, len(text))


def _blank_statement(text: str, offset: int) -> str:
    """Replace the statement around `offset` with spaces, keeping every position."""
    start = max(text.rfind("\n", 0, offset), text.rfind(";", 0, offset)) + 1
    ends = [i for i in (text.find("\n", offset), text.find(";", offset)) if i >= 0]
    end = min(ends) if ends else len(text)
    if end == offset and offset < len(text) and start == offset:
        end = offset + 1
    blank = "".join(c if c in "\r" else " " for c in text[start:end])
    return text[:start] + blank + text[end:]
