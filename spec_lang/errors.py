"""The one error type users meet, and its rustc-style rendering.

In: a message, a primary `Span` with its label, secondary labels, a hint and a
severity (`error`, or `warning` for what is accepted but likely a mistake).
Out: `SpecError` (holding one or more `Diagnostic`s, sorted by position),
`render_diagnostic(diagnostic, source, filename)`, which draws

    error[E0201]: `linear 3->1` expects 3 inputs, but the layer before it produces 2
     --> specs/bad.nqa:3:8
      |
    2 | linear 2->2
      |        ---- produces 2
    3 | linear 3->1
      |        ^ expects 3
      = hint: write `linear 2->1`, or `linear ->1` to infer the width

and `visible(text)`, which spells out control and invisible characters
(`\\x1b`, `\\u202e`) so that no text from a spec or a data file can move the
cursor, recolour or reorder a terminal: every message, excerpt and hint is
drawn through it, with the underlines moved to match.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import accumulate
from typing import TYPE_CHECKING, Literal

from .ast import Span, Spec

if TYPE_CHECKING:
    from .nodes import Nodes


@dataclass(frozen=True, slots=True)
class Label:
    """A span with a short text drawn under it."""

    span: Span
    text: str = ""


@dataclass(frozen=True, slots=True)
class Fix:
    """The one edit that a diagnostic's hint asks for: `span`'s text becomes `text`.

    `title` says it as an editor's quick fix does (``write `linear 2->1` ``).
    """

    span: Span
    text: str
    title: str


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem: where it is, what is wrong, and what to do."""

    message: str
    span: Span | None = None
    label: str = ""
    notes: tuple[Label, ...] = ()
    hint: str = ""
    severity: Literal["error", "warning"] = "error"  # a warning is shown, and stops nothing
    code: str = field(kw_only=True)  # stable, `E0012` or `W0003` (spec_lang/codes.py): what code and tests decide on
    fix: Fix | None = None  # the hint as an edit, when it names exactly one
    position_key: tuple[int, int] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        key = (self.span.start, self.span.end) if self.span else (1 << 62, 0)
        object.__setattr__(self, "position_key", key)


MAX_RENDERED = 20


class SpecError(Exception):
    """Everything a user can get wrong in a spec, with where and how to fix it.

    `diagnostics` are sorted by position; `str(error)` renders all of them
    against the source they refer to.
    """

    def __init__(self, diagnostics: Iterable[Diagnostic] | Diagnostic, source: str = "",
                 filename: str = "<spec>") -> None:
        items = [diagnostics] if isinstance(diagnostics, Diagnostic) else list(diagnostics)
        self.diagnostics: tuple[Diagnostic, ...] = tuple(sorted(items, key=lambda d: d.position_key))
        self.source = source
        self.filename = filename
        self.more = ""  # said after the count when more problems may lie beyond those found
        super().__init__(self.diagnostics[0].message if self.diagnostics else "error")

    @property
    def message(self) -> str:
        return self.diagnostics[0].message

    @property
    def span(self) -> Span | None:
        return self.diagnostics[0].span

    @property
    def hint(self) -> str:
        return self.diagnostics[0].hint

    def with_source(self, source: str, filename: str) -> SpecError:
        """The same diagnostics, attached to the text they point into."""
        moved = SpecError(self.diagnostics, source, filename)
        moved.more = self.more
        return moved

    def render(self, source: str | None = None, filename: str | None = None, colour: bool = False) -> str:
        """All diagnostics as text; `colour` adds ANSI colours for a terminal."""
        text = self.source if source is None else source
        name = self.filename if filename is None else filename
        shown = self.diagnostics[:MAX_RENDERED]
        blocks = [render_diagnostic(d, text, name, colour) for d in shown]
        if len(self.diagnostics) > len(shown):
            blocks.append(f"... and {len(self.diagnostics) - len(shown)} more")
        if len(self.diagnostics) > 1:
            blocks.append(f"error: {len(self.diagnostics)} problems found in {name}{self.more}")
        return "\n\n".join(blocks)

    def __str__(self) -> str:
        return self.render()


_ANSI = {"error": "1;31", "warning": "1;33", "message": "1", "frame": "1;34", "-": "1;34", "hint": "1;36"}


def _paint(text: str, role: str, colour: bool) -> str:
    return f"\x1b[{_ANSI[role]}m{text}\x1b[0m" if colour and text else text


def render_all(diagnostics: Iterable[Diagnostic], source: str, filename: str, colour: bool = False) -> str:
    """Several diagnostics (the warnings of a spec that passed), one block each."""
    return "\n\n".join(render_diagnostic(d, source, filename, colour) for d in diagnostics)


def render_diagnostic(diag: Diagnostic, source: str, filename: str, colour: bool = False) -> str:
    """Draw one diagnostic as text: header, location, snippet with underlines, hint."""

    def paint(text: str, role: str) -> str:
        return _paint(text, role, colour)

    out = [paint(f"{diag.severity}[{diag.code}]:", diag.severity) + paint(f" {visible(diag.message)}", "message")]
    hint = f"{paint('hint:', 'hint')} {visible(diag.hint)}"
    if diag.span is None:
        if filename:  # none for a mistake on the command line (`usage_error`)
            out.append(paint(" --> ", "frame") + visible(filename))
        if diag.hint:
            out.append(f"  = {hint}")
        return "\n".join(out)
    labels = [(diag.span, diag.label, diag.severity)] + [(n.span, n.text, "-") for n in diag.notes]
    lines = source.split("\n")
    numbers = sorted({min(span.line, len(lines)) for span, _, _ in labels})
    gutter = len(str(numbers[-1]))
    pad = " " * gutter
    out.append(paint(f"{pad}--> ", "frame") + f"{visible(filename)}:{diag.span.line}:{diag.span.column}")
    out.append(paint(f"{pad} |", "frame"))
    previous = None
    for number in numbers:
        if previous is not None and number > previous + 1:
            out.append(paint("...", "frame"))
        here = sorted((entry for entry in labels if min(entry[0].line, len(lines)) == number),
                      key=lambda entry: entry[0].column)
        line = lines[number - 1].rstrip("\r")
        shown, column = _excerpt(line, min(span.column for span, _, _ in here) - 1)
        out.append((paint(f"{str(number).rjust(gutter)} |", "frame") + f" {shown}").rstrip())
        for span, label, role in here:
            marks = _underline(span, line, "-" if role == "-" else "^", column)
            out.append(paint(f"{pad} |", "frame") + " " + paint(f"{marks} {visible(label)}".rstrip(), role))
        previous = number
    if diag.hint:
        out.append(f"{pad} = {hint}")
    return "\n".join(out)


SHOWN_WIDTH = 100


def visible(text: str, tab: str = " ") -> str:
    """`text` with every character a terminal would act on or not show spelt out:
    controls (C0, DEL, C1) as `\\x1b`, invisible format characters (zero-width
    spaces, bidirectional controls, ...) and line separators as `\\u202e`; a tab
    becomes `tab` (a space, as excerpts show it)."""
    if text.isprintable():
        return text
    return "".join([_visible_char(char, tab) for char in text])


def _visible_char(char: str, tab: str = " ") -> str:
    if char.isprintable():
        return char
    if char == "\t":
        return tab
    category = unicodedata.category(char)
    if category == "Cc":
        return f"\\x{ord(char):02x}" if ord(char) <= 0xFF else f"\\u{ord(char):04x}"
    if category == "Zs":  # a space of another width (no-break, em ...): shown as it is
        return char
    return f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08x}"


def _excerpt(line: str, first: int) -> tuple[str, Callable[[int], int]]:
    """The part of a long line worth showing (around column index `first`), its
    characters made visible, and where each column index of `line` lands in it."""
    lo = max(0, min(first - 20, len(line) - SHOWN_WIDTH)) if len(line) > SHOWN_WIDTH else 0
    hi = min(len(line), lo + SHOWN_WIDTH)
    head, tail = "..." if lo else "", "..." if hi < len(line) else ""
    cells = [_visible_char(char) for char in line[lo:hi]]
    starts = list(accumulate((len(cell) for cell in cells), initial=len(head)))

    def column(index: int) -> int:  # past the shown part, every column is one wide
        k = index - lo
        if k < 0:
            return starts[0] + k
        return starts[k] if k < len(starts) else starts[-1] + k - len(cells)

    return head + "".join(cells) + tail, column


def _underline(span: Span, line: str, mark: str, column: Callable[[int], int]) -> str:
    start = span.column - 1
    end = span.end_column - 1 if span.end_line == span.line else len(line)
    end = max(start + 1, min(end, start + SHOWN_WIDTH - 20, len(line) + 1))
    return " " * column(start) + mark * max(1, column(end) - column(start))


def usage_error(message: str, hint: str = "", *, code: str) -> SpecError:
    """A mistake on the command line rather than in a spec (an option's value, a
    missing file or package): the same exit and look, without a location."""
    return SpecError(Diagnostic(message, hint=hint, code=code), "", "")


class SyntaxErrors(SpecError):
    """Every syntax error in a file, and the rest of it: `rest` is the tree of the
    text with each statement at fault blanked, and the `Nodes` that made it
    (None when parsing gave up before the end), so that checking can still
    report what is wrong in the other statements."""

    def __init__(self, diagnostics: list[Diagnostic], text: str, filename: str,
                 rest: tuple[Spec, Nodes] | None = None,
                 limit: int | None = None) -> None:
        super().__init__(diagnostics, text, filename)
        self.rest = rest
        if limit is not None and len(diagnostics) >= limit:
            self.more = f" (reading stopped after {limit} syntax errors; there may be more)"
