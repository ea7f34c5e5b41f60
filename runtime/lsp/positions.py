"""Where things are, as the editor counts: spans of a spec to LSP positions and back.

In: a document's text (as the editor holds it: a leading byte-order mark and
any line ends kept) and the position encoding agreed with the client (UTF-16
code units unless the client offered UTF-8 or UTF-32). Out: `Lines`, which
turns a `Span` (1-based line and column, counted in characters of the text
`parse` reads, without the byte-order mark) into an LSP `Range`, an LSP
`Position` into a line and character index, and a position into an offset of
the text (to apply an edit). Lines end at LF, CRLF or a CR alone, as both LSP
and `parse` read them; a position past a line's end or past the last line is
taken as the nearest one that exists. Never imports torch.
"""

from __future__ import annotations

import re

from lsprotocol import types

from spec_lang.ast import Span

_BREAK = re.compile(r"\r\n|\r|\n")
UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"


def units(text: str, encoding: str = UTF16) -> int:
    """How many code units `text` takes in the encoding (a lone surrogate counts as one UTF-16 unit)."""
    if encoding == UTF32 or text.isascii():
        return len(text)
    if encoding == UTF8:
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def _index(text: str, count: int, encoding: str) -> int:
    """The character index at `count` code units into `text` (one inside a character: that character's end)."""
    if encoding == UTF32 or text.isascii():
        return min(count, len(text))
    seen = 0
    for index, char in enumerate(text):
        if seen >= count:
            return index
        seen += units(char, encoding)
    return len(text)


class Lines:
    """A document's lines, and the conversions between its spans, offsets and LSP positions."""

    def __init__(self, text: str, encoding: str = UTF16) -> None:
        self.text = text
        self.encoding = encoding
        self.starts = [0] + [found.end() for found in _BREAK.finditer(text)]
        ends = [found.start() for found in _BREAK.finditer(text)] + [len(text)]
        self.lines = [text[start:end] for start, end in zip(self.starts, ends, strict=True)]
        self.mark = 1 if text.startswith("\ufeff") else 0  # `parse` reads the text without it

    def position(self, line: int, column: int) -> types.Position:
        """The LSP position of a 1-based line and column as a span gives them."""
        index = min(max(line - 1, 0), len(self.lines) - 1)
        text = self.lines[index]
        character = min(max(column - 1, 0) + (self.mark if index == 0 else 0), len(text))
        return types.Position(line=index, character=units(text[:character], self.encoding))

    def range_of(self, span: Span | None) -> types.Range:
        """A span's range; no span (a problem of the whole file): the first line."""
        if span is None or span.line < 1:
            return types.Range(start=types.Position(line=0, character=0),
                               end=types.Position(line=0, character=units(self.lines[0], self.encoding)))
        start = self.position(span.line, span.column)
        end = self.position(span.end_line, span.end_column)
        if (end.line, end.character) < (start.line, start.character):
            end = start
        return types.Range(start=start, end=end)

    def end(self) -> types.Position:
        """The position just past the last character."""
        return types.Position(line=len(self.lines) - 1, character=units(self.lines[-1], self.encoding))

    def whole(self) -> types.Range:
        return types.Range(start=types.Position(line=0, character=0), end=self.end())

    def locate(self, position: types.Position) -> tuple[int, int]:
        """A position as a 0-based line and character index, taken to the nearest place that exists."""
        line = min(max(position.line, 0), len(self.lines) - 1)
        return line, _index(self.lines[line], max(position.character, 0), self.encoding)

    def offset(self, position: types.Position) -> int:
        """A position as an offset into the text."""
        line, index = self.locate(position)
        return self.starts[line] + index

    def span_holds(self, span: Span, position: types.Position) -> bool:
        """Whether `position` lies in `span` (its end included: a cursor just after a name is on it)."""
        line, index = self.locate(position)
        column = index + 1 - (self.mark if line == 0 else 0)
        return (span.line, span.column) <= (line + 1, column) <= (span.end_line, span.end_column)
