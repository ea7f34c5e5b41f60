"""`nqa fmt`: a spec in one canonical layout, comments kept.

In: spec text. Out: the same spec with its statements on the lines they were
written on (several on a line joined by `; `, as in `linear 2->3; relu`; a
block's layers as written, on its line in braces or on lines of their own,
indented two spaces a level),
single spaces, arguments in a fixed order (values, then words, then options in
the order the statement's model declares them), numbers spelt one way (`1e-2`
-> `0.01`, `+2` -> `2`, `1e2` -> `100`), at most one blank line in a row, no trailing spaces,
and every comment kept at the end of its line.
The formatted text parses to the same statements; formatting is idempotent.
Line breaks are read as `parse` reads them (LF, CRLF, or a CR alone); the text
is written with the line ending of its first line, CRLF or LF (a CR alone
becomes LF), and keeps a leading byte-order mark.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter

from spec_lang import SpecError, ast, parse
from spec_lang.parser import normalized

from .registry import lookup


def format_spec(text: str, filename: str = "<spec>") -> str:
    tree = parse(text, filename)
    read = normalized(text)
    lines = read.split("\n")
    layout = _Layout()
    for stmt in tree.statements:
        layout.place(stmt, 0)
    out: list[str] = []
    for number, line in enumerate(lines, start=1):
        comment = _comment(line)
        pieces = layout.pieces.get(number, [])
        if not pieces:
            out.append("  " * layout.depth.get(number, 0) + comment if comment else "")
            continue
        rendered = "  " * pieces[0][0] + _joined([text for _, text in pieces])
        out.append(rendered + ("  " + comment if comment else ""))
    mark = "\ufeff" if text.startswith("\ufeff") else ""
    return mark + _tidy(out).replace("\n", _line_end(read))


class _Layout:
    """What goes on each line: (depth, text) pieces; and the depth of each line inside a block's braces."""

    def __init__(self) -> None:
        self.pieces: dict[int, list[tuple[int, str]]] = {}
        self.depth: dict[int, int] = {}

    def add(self, line: int, depth: int, text: str) -> None:
        self.pieces.setdefault(line, []).append((depth, text))

    def place(self, stmt: ast.Statement, depth: int) -> None:
        """A statement on its line; a block written over several lines keeps them, its layers indented."""
        if stmt.body is None or stmt.body_span.line == stmt.body_span.end_line:
            self.add(stmt.span.line, depth, _inline(stmt))
            return
        self.add(stmt.span.line, depth, render_statement(stmt) + " {")
        for inner in stmt.body:
            self.place(inner, depth + 1)
        self.add(stmt.body_span.end_line, depth, "}")
        for line in range(stmt.body_span.line + 1, stmt.body_span.end_line):
            self.depth[line] = max(self.depth.get(line, 0), depth + 1)


def _inline(stmt: ast.Statement) -> str:
    """A statement on one line, with its block's layers in braces: `repeat 3 { linear ->64; relu }`."""
    head = render_statement(stmt)
    if stmt.body is None:
        return head
    inner = "; ".join(_inline(s) for s in stmt.body)
    return f"{head} {{ {inner} }}" if inner else f"{head} {{ }}"


def _joined(pieces: list[str]) -> str:
    """The pieces of one line: statements joined by `; `, a brace by a space."""
    text = pieces[0]
    for before, piece in itertools.pairwise(pieces):
        text += (" " if before.endswith("{") or piece == "}" else "; ") + piece
    return text


def _line_end(read: str) -> str:
    """CRLF if the first line (of the text as `parse` reads it) ends with one, else LF."""
    first = read.find("\n")
    return "\r\n" if first > 0 and read[first - 1] == "\r" else "\n"


def _tidy(lines: list[str]) -> str:
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    while kept and not kept[-1]:
        kept.pop()
    return "\n".join(kept) + "\n" if kept else ""


def _comment(line: str) -> str:
    """The comment on a line (from `#` outside a string to the end), without trailing spaces."""
    inside = False
    for i, char in enumerate(line):
        if char == '"':
            inside = not inside
        elif char == "#" and not inside:
            return line[i:].rstrip()
    return ""


def render_statement(stmt: ast.Statement) -> str:
    """The statement in canonical order, or in its written order where moving an
    argument would change how it reads (`[1] nan -> [5]` must not become `[1] -> [5] nan`)."""
    ordered = " ".join([stmt.name] + [render_arg(a) for a in _ordered(stmt)])
    if _reads_as(ordered, stmt):
        return ordered
    return " ".join([stmt.name] + [render_arg(a) for a in stmt.args])


def _reads_as(text: str, stmt: ast.Statement) -> bool:
    try:
        (again,) = parse(text).statements
    except (SpecError, ValueError):
        return False
    return Counter(again.args) == Counter(stmt.args)


def _ordered(stmt: ast.Statement) -> list[ast.Arg]:
    args = list(stmt.args)
    entry = lookup(stmt.name)
    lead = []
    if isinstance(entry, dict) and args and isinstance(args[0], ast.Word):
        lead, args = [args[0]], args[1:]
        entry = entry.get(lead[0].name)
    fields = list(entry.model_fields) if isinstance(entry, type) else []
    values = [a for a in args if not isinstance(a, (ast.Word, ast.Option))]
    words = [a for a in args if isinstance(a, ast.Word)]
    options = [a for a in args if isinstance(a, ast.Option)]
    options.sort(key=lambda o: fields.index(o.key) if o.key in fields else len(fields))
    return lead + values + words + options


def render_arg(arg: ast.Arg | tuple[ast.Value, ...]) -> str:
    if isinstance(arg, tuple):
        return ",".join(render_arg(a) for a in arg)
    if isinstance(arg, ast.Number):
        return render_number(arg)
    if isinstance(arg, ast.Word):
        return arg.name
    if isinstance(arg, ast.String):
        return f'"{arg.value}"'
    if isinstance(arg, ast.Shape):
        return arg.text
    if isinstance(arg, ast.Vector):
        return "[" + ", ".join(render_number(n) for n in arg.items) + "]"
    if isinstance(arg, ast.Arrow):
        left = render_arg(arg.left) if arg.left is not None else ""
        joint = " -> " if isinstance(arg.right, ast.Vector) else "->"
        return f"{left}{joint}{render_arg(arg.right)}".strip()
    if isinstance(arg, ast.Option):
        return f"{arg.key}={render_arg(arg.value)}"
    if isinstance(arg, ast.Choice):
        return f"{arg.name}({', '.join(render_arg(item) for item in arg.items)})"
    if isinstance(arg, ast.Times):
        return f"* {render_number(arg.count)}"
    raise TypeError(f"not an argument: {arg!r}")


def render_number(number: ast.Number) -> str:
    """The shortest spelling of the number's value; a whole one written without a
    point stays without (`1e2` -> `100`, `3.0` stays, `1e20` too); a number that is not finite, or that
    reads as 0 though written with a digit other than 0 (`1e-400`), as written."""
    value = number.value
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value) or (value == 0 and _written_nonzero(number.text)):
        return number.text
    text = repr(value)  # the shortest spelling that reads back as the same float
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"  # 1e-08 -> 1e-8, 1e+20 -> 1e20
    pointless = value and number.text and "." not in number.text  # 1e2, not 100.0, 3.0 nor 0e5
    return text.removesuffix(".0") if pointless else text


def _written_nonzero(text: str) -> bool:
    return any(char in "123456789" for char in text.lower().split("e")[0])
