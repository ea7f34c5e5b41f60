"""The typed, frozen syntax tree of a .nqa file.

In: nothing (plain data types). Out: `Spec`, a tuple of `Statement`s, each a
statement name and its arguments (and, for a block, the statements in its
braces). Every node carries a `Span`; spans are left out
of equality, so two specs that differ only in layout compare equal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple


class Span(NamedTuple):
    """A region of the source: 1-based line and column, end exclusive; offsets into the text.

    A named tuple rather than a dataclass: a long file has hundreds of thousands
    of spans, and a tuple is built in a third of the time."""

    line: int
    column: int
    end_line: int
    end_column: int
    start: int
    end: int

    def cover(self, other: Span) -> Span:
        """The smallest span holding both `self` and `other`."""
        first, last = (self, other) if self.start <= other.start else (other, self)
        end = last if last.end >= first.end else first
        return Span(first.line, first.column, end.end_line, end.end_column, first.start, end.end)


NO_SPAN = Span(0, 0, 0, 0, 0, 0)


def _span() -> Span:
    """A node's span: kept out of equality and repr; nodes built by hand get `NO_SPAN`."""
    return field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Number:
    """A numeric literal; `value` is an int when written without a point or exponent.

    `text` is the spelling used in messages; like the span, equality ignores it,
    so `1e-2` and `0.01` are the same number."""

    value: int | float
    text: str = field(default="", compare=False)
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Word:
    """A bare name used as an argument: `sgd`, `nobias`, `shuffle`."""

    name: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class String:
    """A double-quoted string, without its quotes."""

    value: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Vector:
    """A bracketed list of numbers: `[1, 1]`."""

    items: tuple[Number, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Arrow:
    """`left -> right`, for widths (`2->3`, `->3`) and examples (`[1] -> [5]`)."""

    left: Number | Vector | None
    right: Number | Vector
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Shape:
    """A per-example shape: sizes joined by `x`, `1x8x8` (a single size is a `Number`)."""

    sizes: tuple[int, ...]
    span: Span = _span()

    @property
    def text(self) -> str:
        return "x".join(str(size) for size in self.sizes)


@dataclass(frozen=True, slots=True)
class Choice:
    """`choice(0.001, 0.01, 0.1)`: a value that varies; a spec holding one is a sweep,
    trained once per combination of its choices' items. `name` is the word written
    before the parentheses (the compiler refuses any other than `choice`), and an
    item may be any value, a choice too (refused there as well, with its place)."""

    name: str
    items: tuple[Value, ...]
    name_span: Span = _span()
    span: Span = _span()


Value = Number | Vector | String | Word | Shape | Choice


@dataclass(frozen=True, slots=True)
class Option:
    """`key=value` or `key=a,b,c` (then `value` is a tuple)."""

    key: str
    value: Value | tuple[Value, ...]
    key_span: Span = _span()
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Times:
    """`* 2` after a named block's name: the block used that many times over."""

    count: Number
    span: Span = _span()


Arg = Arrow | Option | Vector | String | Number | Word | Shape | Times | Choice


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement: its name (`linear`, `optimizer`, ...) and its arguments in order.

    A `repeat`, `residual` or `block` statement also has a `body`, the statements
    between its braces (None for a statement without braces); `span` then ends at
    the closing brace, and `body_span` covers the braces."""

    name: str
    args: tuple[Arg, ...]
    name_span: Span = _span()
    span: Span = _span()
    body: tuple[Statement, ...] | None = None
    body_span: Span = _span()


@dataclass(frozen=True, slots=True)
class Body:
    """The statements between `{` and `}`, while a statement is being built."""

    statements: tuple[Statement, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Spec:
    """A parsed file: its statements in source order."""

    statements: tuple[Statement, ...]
