"""Binding a statement like one bound before: the kept model, with the spans of the new statement.

In: a statement and the function that binds one (`bind_all.bind_statement`). Out: what that function
gives for it. A statement without braces that bound without a problem is kept by its words: its
name, and each argument's kind and spelling (numbers as written, so `1` and `1.0` are told apart);
a later statement of the same words, wherever it stands (a spec checked again as it is edited), gets
the same model and, for each field, the span of the argument at the same place in its own words.
Binding reads nothing but the statement, so the result is the one binding would give. Problems are
not kept: a statement with one is bound again each time, and says it again.

Bounded: `MAX_KEPT` statements of at most `MAX_TEXT` characters, then it starts over.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from spec_lang import ast
from spec_lang.errors import Diagnostic

from .statement import Bound

MAX_KEPT = 4096
MAX_TEXT = 400

Binder = Callable[[ast.Statement], "Bound | list[Diagnostic]"]
# the words of a statement -> its bound model and, for each field, the place of its span in the words
_KEPT: dict[tuple[Any, ...], tuple[Bound, tuple[tuple[str, int], ...]]] = {}
_BY_ID: dict[int, Bound] = {}  # the statements bound last, by their id


def bind_kept(stmt: ast.Statement, binder: Binder) -> Bound | list[Diagnostic]:
    if stmt.body is not None or stmt.span.end - stmt.span.start > MAX_TEXT:
        return binder(stmt)
    same = _BY_ID.get(id(stmt))
    if same is not None and same.statement is stmt:  # the very statement bound before (a line kept where it was)
        return same
    spans: list[ast.Span] = []
    try:
        key = _words(stmt, spans)
    except _Unread:
        return binder(stmt)
    found = _KEPT.get(key)
    if found is not None:
        result = Bound(found[0].model, stmt, {field: spans[at] for field, at in found[1]})
    else:
        fresh = binder(stmt)
        places = _places(fresh, spans) if isinstance(fresh, Bound) and not fresh.body else None
        if places is None or not isinstance(fresh, Bound):
            return fresh
        if len(_KEPT) >= MAX_KEPT:
            _KEPT.clear()
        _KEPT[key] = (fresh, places)
        result = fresh
    if len(_BY_ID) >= MAX_KEPT:
        _BY_ID.clear()
    _BY_ID[id(stmt)] = result  # holding the statement: its id is not another's while it is here
    return result


def bound_before(stmt: ast.Statement) -> Bound | None:
    """What `bind_kept` gave for this very statement object, if it gave a `Bound` lately."""
    same = _BY_ID.get(id(stmt))
    return same if same is not None and same.statement is stmt else None


def _places(bound: Bound, spans: list[ast.Span]) -> tuple[tuple[str, int], ...] | None:
    """Each field's span as its place among the statement's spans (None if one is not there)."""
    found = []
    for field, span in bound.spans.items():
        at = next((index for index, given in enumerate(spans) if given is span), None)
        if at is None:
            return None
        found.append((field, at))
    return tuple(found)


def _words(stmt: ast.Statement, spans: list[ast.Span]) -> tuple[Any, ...]:
    """The statement's name and arguments as kinds and spellings, and (in `spans`) the span of each
    argument and of each side of an arrow, in order; `_Unread` for a node not read from a text."""
    words: list[Any] = [stmt.name]
    for arg in stmt.args:
        spans.append(arg.span)
        cls = arg.__class__
        word: Any
        if cls is ast.Arrow:
            left, right = arg.left, arg.right  # type: ignore[union-attr]
            if left is not None:
                spans.append(left.span)
            spans.append(right.span)
            word = (cls, None if left is None else _value(left), _value(right))
        elif cls is ast.Option:
            value = arg.value  # type: ignore[union-attr]
            word = (cls, arg.key, tuple([_value(item) for item in value]) if value.__class__ is tuple  # type: ignore[union-attr]
                    else _value(value))
        else:
            word = _value(arg)
        words.append(word)
    return tuple(words)


class _Unread(Exception):
    """A node made by hand rather than read from a text (a number without its spelling), or a choice."""


def _text(number: ast.Number) -> str:
    if not number.text:
        raise _Unread
    return number.text


def _value(node: Any) -> Any:
    cls = node.__class__
    if cls is ast.Number:
        if not node.text:
            raise _Unread
        return (cls, node.text)
    if cls is ast.Word:
        return (cls, node.name)
    if cls is ast.String:
        return (cls, node.value)
    if cls is ast.Vector:
        return (cls, tuple([_text(item) for item in node.items]))
    if cls is ast.Shape:
        return (cls, node.sizes)
    if cls is ast.Times:
        return (cls, _text(node.count))
    raise _Unread  # a choice: bound after a sweep picks its items, never kept
