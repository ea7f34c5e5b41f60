"""Reading a vector token, `[1, -2.5, 3e2]`, into numbers.

In: the VECTOR token's text (brackets included, on one line) and its span. Out: the `Number`
nodes, each with its own span, and a diagnostic for every item that is not a
finite number (a missing comma, `nan`, a word, an empty item, a look-alike
character such as the minus sign U+2212 or a fullwidth comma).
"""

from __future__ import annotations

import re

from . import ast, codes
from .characters import describe_character, looks_like_ascii
from .errors import Diagnostic

_NUM = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"  # ASCII digits, as in the grammar
NUMBER = re.compile(_NUM)
WELL_FORMED = re.compile(rf"\[\s*(?:{_NUM}\s*(?:,\s*{_NUM}\s*)*,?\s*)?\]")
EACH = re.compile(_NUM)
MAX_DIGITS = 100
FINITE_HINT = "`nan`, `inf` and numbers beyond 1e308 are not allowed; write a number like `1` or `-0.5`"


def number_value(text: str) -> int | float:
    """The value of a number as written; integers too long to matter become infinite."""
    if "." in text or "e" in text or "E" in text:
        return float(text)
    if len(text.lstrip("+-")) > MAX_DIGITS:
        return float("-inf") if text.startswith("-") else float("inf")
    return int(text)


def _span(where: ast.Span, start: int, end: int) -> ast.Span:
    return ast.Span(where.line, where.column + start, where.line, where.column + end,
                    where.start + start, where.start + end)


def read_vector(text: str, span: ast.Span) -> tuple[tuple[ast.Number, ...], list[Diagnostic]]:
    if WELL_FORMED.fullmatch(text):
        line, column, start = span.line, span.column, span.start
        Number, new_span, Span = ast.Number, tuple.__new__, ast.Span
        items = []
        for m in EACH.finditer(text):
            first, last, written = m.start(), m.end(), m[0]
            items.append(Number(number_value(written), written, new_span(
                Span, (line, column + first, line, column + last, start + first, start + last))))
        return tuple(items), []
    return _read_slowly(text, span)


def _read_slowly(text: str, where: ast.Span) -> tuple[tuple[ast.Number, ...], list[Diagnostic]]:
    """Item by item, with a diagnostic for each item that is not a number."""
    inner = text[1:-1]
    items, problems = [], []
    if not inner.strip():
        return (), []
    parts = inner.split(",")
    offset = 1
    for index, part in enumerate(parts):
        text = part.strip()
        start = offset + (len(part) - len(part.lstrip()))
        offset += len(part) + 1
        if not text:
            if index == len(parts) - 1 and index > 0:
                continue  # a trailing comma
            problems.append(Diagnostic("expected a number before `,` in a vector", _span(where, start, start + 1),
                                       "missing number", hint="a vector holds numbers, e.g. `[1, 2.5, -3]`",
                                       code=codes.VECTOR_SYNTAX))
            continue
        problem = _item_problem(text, where, start)
        if problem:
            problems.append(problem)
        else:
            items.append(ast.Number(number_value(text), text, _span(where, start, start + len(text))))
    return tuple(items), problems


def _item_problem(text: str, where: ast.Span, start: int) -> Diagnostic | None:
    if NUMBER.fullmatch(text):
        return None
    span = _span(where, start, start + len(text))
    if text.lstrip("+-").lower() in ("nan", "inf", "infinity"):
        return Diagnostic(f"numbers must be finite, not `{text}`", span, "not a finite number", hint=FINITE_HINT,
                          code=codes.NOT_FINITE)
    for mark in ("->", "["):
        if mark in text:
            at = start + text.index(mark)
            return Diagnostic(f"unclosed vector: expected `]`, found `{mark}`", _span(where, at, at + len(mark)),
                              "expected `]` here",
                              hint="close the vector with `]` on the same line, e.g. `example [1, 1] -> [5]`",
                              code=codes.UNCLOSED_VECTOR)
    odd = next((i for i, char in enumerate(text) if looks_like_ascii(char)), None)
    if odd is not None:  # a minus sign, a fullwidth comma ...: name the look-alike
        message, label, hint, code = describe_character(text[odd]) or ("", "", "", codes.LOOKALIKE_CHARACTER)
        return Diagnostic(message, _span(where, start + odd, start + odd + 1), label, hint=hint, code=code)
    first = text.split()[0]
    if NUMBER.fullmatch(first) and len(text.split()) > 1:
        gap = text.index(text.split()[1], len(first))
        return Diagnostic(f"expected `,` or `]` in a vector, found `{text.split()[1]}`",
                          _span(where, start + gap, start + gap + len(text.split()[1])), "missing `,` before this",
                          hint="separate the values with commas, e.g. `[1, 1]`", code=codes.VECTOR_SYNTAX)
    digits = any(c.isdigit() and not c.isascii() for c in text)
    return Diagnostic(f"expected a number in a vector, found `{text[:40]}`", span, "not a number",
                      hint="write numbers with the digits 0 to 9" if digits
                      else "a vector holds numbers, e.g. `[1, 2.5, -3]`", code=codes.VECTOR_SYNTAX)
