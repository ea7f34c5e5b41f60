"""Between the editor's positions and the spec's spans.

In: a document's text and an LSP `Position` (0-based line, character counted
in UTF-16 code units), or a spec `Span` (1-based line and column, counted in
characters, and offsets into the text as `spec_lang` reads it: without a
leading byte-order mark). Out: the offset into that text, or an LSP `Range`.
"""

from __future__ import annotations

import re

from lsprotocol.types import Position, Range

from spec_lang.ast import Span

_BREAK = re.compile(r"\r\n|\r|\n")
BOM = "\ufeff"


def _lines(text: str) -> list[tuple[int, str]]:
    """Each line's start offset and its text, split as editors split them."""
    found, start = [], 0
    for match in _BREAK.finditer(text):
        found.append((start, text[start:match.start()]))
        start = match.end()
    found.append((start, text[start:]))
    return found


def _characters(line: str, units: int) -> int:
    """How many characters of `line` fill `units` UTF-16 code units (the editor's count)."""
    count = 0
    for index, char in enumerate(line):
        if count >= units:
            return index
        count += 2 if ord(char) > 0xFFFF else 1
    return len(line)


def _units(line: str, characters: int) -> int:
    return sum(2 if ord(char) > 0xFFFF else 1 for char in line[:characters])


def offset_at(text: str, position: Position) -> int:
    """The offset of `position` into the text as spec_lang reads it (its spans' `start` and `end`)."""
    lines = _lines(text)
    if position.line >= len(lines):
        return len(text) - text.startswith(BOM)
    start, line = lines[position.line]
    return start + _characters(line, position.character) - text.startswith(BOM)


def position_of(text: str, line: int, column: int) -> Position:
    """The editor's position of a 1-based `line` and `column` as spec_lang counts them."""
    lines = _lines(text)
    if not 1 <= line <= len(lines):
        return Position(max(0, min(line, len(lines)) - 1), 0)
    _, content = lines[line - 1]
    shift = 1 if line == 1 and content.startswith(BOM) else 0  # spec_lang's columns skip the mark
    return Position(line - 1, _units(content, column - 1 + shift))


def range_of(text: str, span: Span) -> Range:
    """The editor's range of a span."""
    return Range(position_of(text, span.line, span.column), position_of(text, span.end_line, span.end_column))


def line_before(text: str, position: Position) -> str:
    """The text of the position's line up to the position."""
    lines = _lines(text)
    if position.line >= len(lines):
        return ""
    _, line = lines[position.line]
    return line[:_characters(line, position.character)]
