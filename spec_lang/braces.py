"""Which `{` closes with which `}`, read before parsing.

In: a spec's text. Out: `pairs` (the offset of each brace to its partner's),
and a `Diagnostic` for each brace without a partner: a `{` never closed, or
a `}` with nothing open. Braces inside strings and comments are not counted.
A syntax error's statement is blanked with its partner brace, so that one
mistake is not reported a second time as an unbalanced block.
"""

from __future__ import annotations

from . import codes
from .ast import Span
from .errors import Diagnostic

BLOCK_EXAMPLE = "repeat 3 { linear ->64; relu }"


def _braces(text: str) -> list[tuple[int, str]]:
    """The offsets of `{` and `}` outside strings, vectors and comments (a vector, like a
    string, is one token that ends on its line: a brace in it is the vector's mistake)."""
    found: list[tuple[int, str]] = []
    quoted = comment = vector = False
    for at, char in enumerate(text):
        if comment:
            comment = char != "\n"
        elif quoted:
            quoted = char not in '"\n'
        elif vector:
            vector = char not in "]\n"
        elif char == '"':
            quoted = True
        elif char == "[":
            vector = True
        elif char == "#":
            comment = True
        elif char in "{}":
            found.append((at, char))
    return found


def pairs(text: str) -> tuple[dict[int, int], list[int], list[int]]:
    """(each matched brace's partner, the `{` never closed, the `}` that close nothing)."""
    if "{" not in text and "}" not in text:
        return {}, [], []
    partner: dict[int, int] = {}
    opened: list[int] = []
    stray: list[int] = []
    for at, char in _braces(text):
        if char == "{":
            opened.append(at)
        elif opened:
            start = opened.pop()
            partner[start], partner[at] = at, start
        else:
            stray.append(at)
    return partner, opened, stray


def _span_at(text: str, offset: int) -> Span:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return Span(line, column, line, column + 1, offset, offset + 1)


def unbalanced(text: str) -> tuple[list[Diagnostic], list[int]]:
    """A diagnostic for each brace without a partner, and their offsets."""
    _, opened, stray = pairs(text)
    found = [(at, Diagnostic("this `{` is never closed", _span_at(text, at), "opened here",
                             hint=f"close the block with `}}`, e.g. `{BLOCK_EXAMPLE}`", code=codes.UNCLOSED_BRACE))
             for at in opened]
    found += [(at, Diagnostic("`}` closes nothing: no `{` is open here", _span_at(text, at), "nothing to close",
                              hint="remove it, or open the block with `{` after `repeat 3`, `residual` "
                                   "or `block NAME`", code=codes.UNMATCHED_BRACE)) for at in stray]
    found.sort(key=lambda item: item[0])
    return [d for _, d in found], [at for at, _ in found]


MAX_DEPTH = 32  # blocks inside blocks: far beyond any network written by hand, far below Python's stack


def too_deep(text: str) -> Diagnostic | None:
    """The first `{` that opens a block deeper than `MAX_DEPTH` blocks, said before parsing."""
    if text.count("{") <= MAX_DEPTH:
        return None
    depth = 0
    for at, char in _braces(text):
        depth += 1 if char == "{" else -1 if depth else 0
        if depth > MAX_DEPTH:
            return Diagnostic(f"blocks nest more than {MAX_DEPTH} deep here", _span_at(text, at), "too deep",
                              hint="flatten the nesting: a named block, or `repeat N { ... }`, holds the layers once",
                              code=codes.NESTED_TOO_DEEP)
    return None
