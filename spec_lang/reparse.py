"""Parsing a text again after an edit: the statements of each unchanged piece kept from earlier parses.

In: a spec's normalized text (without the newline the parser adds) and the parse tables. Out
(`reparsed`): its `Spec`, built from the pieces of earlier parses moved to where they stand now and
the new pieces parsed alone; or None when that cannot be done without doubt (a new piece does not
parse alone, or holds a vector item that is not a number; the text is long; most pieces are new),
and then the caller parses the whole text and hands the result to `keep`.

A piece is one line, or the lines of a block, from the line of its `{` to the line that closes it
(braces counted in the raw lines: one in a comment or a string miscounts, and then a piece does not
parse alone or is not kept, never gives another tree). Why the tree is the same as the whole text's:
no token but a separator runs past the end of a line, so the tokens of the text are those of its
pieces one after another, and a text made of pieces that each parse alone as statements parses as
those statements in turn. A piece's statements are kept as parsed where it stood; moved, their lines
and offsets change by the same amounts, their columns not at all (a piece starts a line).

What is kept is bounded: `MAX_PIECES` pieces, `MAX_CHARACTERS` characters of them, then it starts
over; and the pieces of the last text, at most `MAX_LINES`.
"""

from __future__ import annotations

from typing import Any

from . import ast, lalr

MAX_PIECES = 4096
MAX_CHARACTERS = 1 << 18
MAX_LINES = 2000  # a longer text is parsed whole: its pieces would not all be kept

Piece = tuple[str, int, int]  # its text, its first line (1-based), its offset
Kept = tuple[int, int, tuple[ast.Statement, ...]]  # the line and offset it stood at, its statements there

_KEPT: dict[str, Kept] = {}  # a piece's text -> where it was parsed, and its statements there
_size = [0]  # characters of the pieces kept
# the pieces of the last text parsed, where they stand in it: a piece found at the same place again
# (every line but an edited one, when the edit moves nothing) is the same statements, not moved copies
_LAST: list[dict[Piece, Kept]] = [{}]


def pieces(text: str) -> list[Piece] | None:
    """The text's pieces in order (None for a text of more than `MAX_LINES` lines)."""
    if text.count("\n") >= MAX_LINES:
        return None
    found: list[Piece] = []
    offset = depth = 0
    group: list[str] = []
    group_line = group_offset = 0
    for line, row in enumerate(text.split("\n"), 1):
        if not group and "{" not in row and "}" not in row:
            found.append((row, line, offset))
        else:
            if not group:
                group_line, group_offset = line, offset
            group.append(row)
            depth += row.count("{") - row.count("}")
            if depth <= 0:
                found.append(("\n".join(group), group_line, group_offset))
                group, depth = [], 0
        offset += len(row) + 1
    if group:
        found.append(("\n".join(group), group_line, group_offset))
    return found


def reparsed(tables: lalr.Tables, text: str) -> ast.Spec | None:
    """The text's tree from kept pieces, or None (see the module's docstring)."""
    parts = pieces(text)
    if parts is None:
        return None
    last = _LAST[0]
    kept = [last.get(part) or _KEPT.get(part[0]) for part in parts]
    new = kept.count(None)
    if new * 4 > len(parts) + 8:  # mostly new: the whole text at once is quicker
        return None
    statements: list[ast.Statement] = []
    now: dict[Piece, Kept] = {}
    for part, found in zip(parts, kept, strict=True):
        piece, line, offset = part
        if found is None:
            parsed = lalr.run(tables, piece + "\n")
            if parsed is None or parsed[1].problems:
                return None
            found = (1, 0, parsed[0].statements)
            _store(piece, found)
        was_line, was_offset, made = found
        if line != was_line or offset != was_offset:
            made = tuple([_moved(stmt, line - was_line, offset - was_offset) for stmt in made])
        statements += made
        now[part] = (line, offset, made)
    _LAST[0] = now
    return ast.Spec(tuple(statements))


def keep(text: str, spec: ast.Spec) -> None:
    """Keep the pieces of a text parsed whole (without problems): each piece whose lines hold
    whole statements, and only those, is kept with them."""
    parts = pieces(text)
    if parts is None:
        return
    statements, at, reach = spec.statements, 0, -1  # `reach`: where the statements so far end
    now: dict[Piece, Kept] = {}
    for piece, line, offset in parts:
        end = offset + len(piece)
        whole = reach <= offset
        start = at
        while at < len(statements) and statements[at].span.start <= end:
            reach = statements[at].span.end
            whole = whole and reach <= end
            at += 1
        if whole:
            now[(piece, line, offset)] = (line, offset, statements[start:at])
            if piece not in _KEPT:
                _store(piece, now[(piece, line, offset)])
    _LAST[0] = now


def _store(piece: str, found: Kept) -> None:
    if len(_KEPT) >= MAX_PIECES or _size[0] + len(piece) > MAX_CHARACTERS:
        _KEPT.clear()
        _size[0] = 0
    _KEPT[piece] = found
    _size[0] += len(piece)


_new = tuple.__new__
_Span = ast.Span


def _moved(node: Any, lines: int, offsets: int) -> Any:
    """`node` (a statement, an argument or a value) with its spans and its children's moved."""
    return _MOVERS[node.__class__](node, lines, offsets)


def _span(span: ast.Span, lines: int, offsets: int) -> ast.Span:
    line, column, end_line, end_column, start, end = span
    return _new(_Span, (line + lines, column, end_line + lines, end_column, start + offsets, end + offsets))


def _statement(stmt: ast.Statement, lines: int, offsets: int) -> ast.Statement:
    body = stmt.body
    return ast.Statement(stmt.name, tuple([_moved(arg, lines, offsets) for arg in stmt.args]),
                         _span(stmt.name_span, lines, offsets), _span(stmt.span, lines, offsets),
                         None if body is None else tuple([_statement(inner, lines, offsets) for inner in body]),
                         stmt.body_span if body is None else _span(stmt.body_span, lines, offsets))


def _option(opt: ast.Option, lines: int, offsets: int) -> ast.Option:
    value = opt.value
    moved = (tuple([_moved(item, lines, offsets) for item in value]) if value.__class__ is tuple
             else _moved(value, lines, offsets))
    return ast.Option(opt.key, moved, _span(opt.key_span, lines, offsets), _span(opt.span, lines, offsets))


def _arrow(arrow: ast.Arrow, lines: int, offsets: int) -> ast.Arrow:
    left = None if arrow.left is None else _moved(arrow.left, lines, offsets)
    return ast.Arrow(left, _moved(arrow.right, lines, offsets), _span(arrow.span, lines, offsets))


_MOVERS: dict[type, Any] = {
    ast.Statement: _statement,
    ast.Option: _option,
    ast.Arrow: _arrow,
    ast.Number: lambda n, lines, offsets: ast.Number(n.value, n.text, _span(n.span, lines, offsets)),
    ast.Word: lambda w, lines, offsets: ast.Word(w.name, _span(w.span, lines, offsets)),
    ast.String: lambda s, lines, offsets: ast.String(s.value, _span(s.span, lines, offsets)),
    ast.Shape: lambda s, lines, offsets: ast.Shape(s.sizes, _span(s.span, lines, offsets)),
    ast.Vector: lambda v, lines, offsets: ast.Vector(tuple([_moved(item, lines, offsets) for item in v.items]),
                                                     _span(v.span, lines, offsets)),
    ast.Times: lambda t, lines, offsets: ast.Times(_moved(t.count, lines, offsets), _span(t.span, lines, offsets)),
    ast.Choice: lambda c, lines, offsets: ast.Choice(c.name, tuple([_moved(item, lines, offsets) for item in c.items]),
                                                     _span(c.name_span, lines, offsets), _span(c.span, lines, offsets)),
}
