"""Token texts and rule children to AST nodes; shared by both ways of parsing.

In: for a terminal, its text and span (`Nodes.NUMBER("2", span)`); for a rule of
`grammar.lark`, the list of its kept children, already nodes
(`Nodes.statement([Word, Arrow])`). Out: the frozen nodes of `ast`, with spans
covering their children. Vector items that are not numbers are collected in
`problems` rather than raised, so that every one in a file is reported, and
the statements holding them in `bad` (checking leaves those out).
"""

from __future__ import annotations

from typing import Any

from . import ast
from .errors import Diagnostic
from .vectors import number_value, read_vector

_new = tuple.__new__
_Span = ast.Span


def cover(first: ast.Span, last: ast.Span) -> ast.Span:
    """From the start of `first` to the end of `last` (which does not start before it)."""
    return _new(_Span, (first.line, first.column, last.end_line, last.end_column, first.start, last.end))


class Nodes:
    """One per parse. Terminal methods are named as in the grammar, rule methods too;
    most do not need `self`, but every one takes it, so a parser can hold them
    unbound and pass the parse's own `Nodes`."""

    __slots__ = ("bad", "problems")

    def __init__(self) -> None:
        self.problems: list[Diagnostic] = []
        self.bad: list[ast.Statement] = []  # statements with a vector item that is not a number

    # terminals: (text, span) -> node
    def NAME(self, text: str, span: ast.Span) -> ast.Word:
        return ast.Word(text, span)

    def NUMBER(self, text: str, span: ast.Span) -> ast.Number:
        return ast.Number(number_value(text), text, span)

    def SHAPE(self, text: str, span: ast.Span) -> ast.Shape:
        return ast.Shape(tuple(int(size) for size in text.split("x")), span)

    def STRING(self, text: str, span: ast.Span) -> ast.String:
        return ast.String(text[1:-1], span)

    def ARROW(self, text: str, span: ast.Span) -> ast.Span:
        return span  # only its place is needed, for `->3`

    def RPAR(self, text: str, span: ast.Span) -> ast.Span:
        return span  # only its place is needed: where a choice ends

    def LBRACE(self, text: str, span: ast.Span) -> ast.Span:
        return span

    def RBRACE(self, text: str, span: ast.Span) -> ast.Span:
        return span

    def STAR(self, text: str, span: ast.Span) -> ast.Span:
        return span

    def VECTOR(self, text: str, span: ast.Span) -> ast.Vector:
        items, problems = read_vector(text, span)
        if problems:
            self.problems.extend(problems)
        return ast.Vector(items, span)

    # rules: kept children -> node
    def start(self, statements: list[ast.Statement]) -> ast.Spec:
        return ast.Spec(tuple(statements))

    def statement(self, children: list[Any]) -> ast.Statement:
        name = children[0]
        body = children[-1] if children[-1].__class__ is ast.Body else None
        args = tuple(children[1:-1] if body is not None else children[1:])
        if body is not None:
            made = ast.Statement(name.name, args, name.span, cover(name.span, body.span), body.statements, body.span)
        else:
            made = ast.Statement(name.name, args, name.span, cover(name.span, args[-1].span) if args else name.span)
        if self.problems and self.problems[-1].span.start >= made.span.start:  # type: ignore[union-attr]  # has one
            self.bad.append(made)
        return made

    def arrow(self, children: list[Any]) -> ast.Arrow:
        right = children[-1]
        if len(children) == 2:  # `->3`: the arrow and its right side
            return ast.Arrow(None, right, cover(children[0], right.span))
        left = children[0]
        return ast.Arrow(left, right, cover(left.span, right.span))

    def choice(self, children: list[Any]) -> ast.Choice:
        name, end = children[0], children[-1]
        return ast.Choice(name.name, tuple(children[1:-1]), name.span, cover(name.span, end))

    def body(self, children: list[Any]) -> ast.Body:
        # the first and last children are the braces' spans
        return ast.Body(tuple(children[1:-1]), cover(children[0], children[-1]))

    def times(self, children: list[Any]) -> ast.Times:
        star, count = children
        return ast.Times(count, cover(star, count.span))

    def option(self, children: list[Any]) -> ast.Option:
        key = children[0]
        value = children[1] if len(children) == 2 else tuple(children[1:])
        return ast.Option(key.name, value, key.span, cover(key.span, children[-1].span))
