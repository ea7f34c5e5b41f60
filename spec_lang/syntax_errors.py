"""Lark's syntax errors in words a user knows.

In: a Lark `UnexpectedInput` and the text it was raised on. Out: a `Diagnostic`
with the offending character or token underlined, what was expected in plain
words (never Lark's terminal names), and a hint; a look-alike, invisible or
control character is named by its code point (`characters.py`).
"""

from __future__ import annotations

from typing import cast

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from . import codes
from .ast import Span
from .characters import describe_character, looks_like_ascii
from .errors import Diagnostic
from .vectors import FINITE_HINT

_WORDS = {
    "NAME": "a name", "NUMBER": "a number", "STRING": 'a "string"', "ARROW": "`->`",
    "LSQB": "`[`", "RSQB": "`]`", "COMMA": "`,`", "EQUAL": "`=`",
    "LBRACE": "`{`", "RBRACE": "`}`", "STAR": "`*`", "_SEP": "the end of the statement",
    "SHAPE": "a shape", "VECTOR": "a vector", "LPAR": "`(`", "RPAR": "`)`",
    "$END": "the end of the file",
}

_CHAR_HINTS = {
    "'": 'strings are written in double quotes: "data.csv"',
    "(": "vectors are written in square brackets: [1, 1]",
    "\u2192": "write the arrow as `->`",
    ":": "options are written `name=value`, e.g. `lr=0.01`",
    '"': "a string must end on the line it starts: \"data.csv\"",
    "\u201c": 'write straight double quotes: "data.csv"', "\u201d": 'write straight double quotes: "data.csv"',
    "\u2018": 'write straight double quotes: "data.csv"', "\u2019": 'write straight double quotes: "data.csv"',
}


def _span_at(text: str, offset: int, length: int = 1) -> Span:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return Span(line, column, line, column + max(1, length), offset, offset + max(1, length))


def describe_syntax_error(err: UnexpectedInput, text: str) -> Diagnostic:
    if isinstance(err, UnexpectedCharacters):
        return _unexpected_character(err, text)
    if isinstance(err, UnexpectedToken):
        return _unexpected_token(err, text)
    offset = max(0, len(text) - 1)  # Lark's other errors: the LALR parser gives none (an end is a token)
    return Diagnostic("unexpected end of file", _span_at(text, offset), "here",
                      hint="finish the statement, or remove it", code=codes.UNEXPECTED_TOKEN)


def _unexpected_character(err: UnexpectedCharacters, text: str) -> Diagnostic:
    offset = cast(int, err.pos_in_stream)  # lark types it `None` on the base class; the lexer sets an int
    if text[offset: offset + 1].isascii() and looks_like_ascii(text[offset + 1: offset + 2]):
        offset += 1  # `2-﹥3`: the `-` is refused for the look-alike after it, which is the mistake
    char = text[offset] if offset < len(text) else ""
    shown = char if char.isprintable() else f"U+{ord(char):04X}" if char else "end of file"
    hint = _CHAR_HINTS.get(char, "remove it, or start a comment with `#`")
    if char.isdigit() and not char.isascii():
        hint = "write numbers with the digits 0 to 9"
    if char == "-" and text[offset + 1: offset + 4].lower() == "inf":
        hint = "numbers must be finite"
    if char in "./\\" and offset and (text[offset - 1].isalnum() or text[offset - 1] == "_"):
        hint = 'file names are written in double quotes, e.g. `data "table.csv"`'
    if char == "[":
        return Diagnostic("unclosed vector: this `[` has no `]` on its line", _span_at(text, offset), "opened here",
                          hint="close the vector with `]` on the same line, e.g. `example [1, 1] -> [5]`",
                          code=codes.UNCLOSED_VECTOR)
    inner = _nested_at(text, offset) if char == "]" else None
    if inner is not None:  # `[[1]]`: the first `]` closed the inner vector, so this one is left over
        return _nested(text, inner)
    described = None if char in _CHAR_HINTS else describe_character(char)
    if described:
        message, label, hint, code = described
        return Diagnostic(message, _span_at(text, offset), label, hint=hint, code=code)
    return Diagnostic(f"unexpected character `{shown}`", _span_at(text, offset), "not allowed here",
                      hint=hint, code=codes.UNEXPECTED_CHARACTER)


def _nested(text: str, inner: int) -> Diagnostic:
    return Diagnostic("vectors do not nest: this `[` opens a vector inside a vector", _span_at(text, inner),
                      "a vector inside a vector", hint="a vector holds numbers, e.g. `[1, 2]`",
                      code=codes.NESTED_VECTOR)


def _nested_at(text: str, offset: int) -> int | None:
    """Where the inner `[` is, when the `]` at `offset` closes a vector opened inside another on its line."""
    start = text.rfind("\n", 0, offset) + 1
    opened: list[int] = []
    for at in range(start, offset):
        if text[at] == "[":
            opened.append(at)
        elif text[at] == "]" and opened:
            if len(opened) > 1:
                return opened[-1]
            opened.pop()
    return None


def _describe_token(tok: Token) -> str:
    if tok.type == "$END":
        return "the end of the file"
    if tok.type == "_SEP":
        return "the end of the line" if "\n" in tok else "`;`"
    return f"`{tok}`"


def _unexpected_token(err: UnexpectedToken, text: str) -> Diagnostic:
    tok = err.token
    offset = tok.start_pos if tok.start_pos is not None else max(0, len(text) - 1)
    if tok.type in ("_SEP", "$END"):  # at a line's end: before a Windows line end's `\r`, as without one
        offset = len(text[:offset].rstrip("\r"))
    length = 1 if tok.type in ("_SEP", "$END") else len(str(tok))
    span = _span_at(text, min(offset, max(0, len(text) - 1)), length)
    before = text[:offset].rstrip(" \t\r")
    inner = _nested_at(text, offset) if before.endswith("]") else None
    if inner is not None:  # `[[1], 1]`: the inner vector's `]` ended the token, and `, 1]` is left over
        return _nested(text, inner)
    found = _describe_token(tok)
    if before.endswith("->") and str(tok) == "choice":
        return Diagnostic("a choice cannot follow `->`: widths and examples do not vary in a sweep", span,
                          "cannot vary", hint=_FIXED_HINT, code=codes.CANNOT_VARY)
    if tok.type in ("LPAR", "RPAR") or "RPAR" in err.expected:
        found_in_choice = _in_choice(tok, found, span, text, offset, before, err.expected)
        if found_in_choice is not None:
            return found_in_choice
    if before.endswith("->"):
        return Diagnostic(f"expected a width or a vector after `->`, found {found}", span,
                          "expected a number or `[` here",
                          hint="write a width like `2->3` or `->3`, or an example like `[1, 1] -> [10]`",
                          code=codes.EXPECTED_VALUE)
    if before.endswith("="):
        return Diagnostic(f"expected a value after `=`, found {found}", span, "expected a value here",
                          hint="options are written `name=value`, e.g. `lr=0.01`", code=codes.EXPECTED_VALUE)
    if "RSQB" in err.expected or before.endswith("["):
        return _in_vector(tok, found, span)
    if tok.type == "EQUAL":
        return Diagnostic("unexpected `=`", span, "needs an option name before it",
                          hint=("options are written `name=value` after the statement name, "
                                "e.g. `optimizer sgd lr=0.01`"), code=codes.UNEXPECTED_TOKEN)
    if tok.type == "LBRACE":
        return Diagnostic("unexpected `{`", span, "no block opens here",
                          hint="braces hold the layers of `repeat 3 { ... }`, `residual { ... }` or "
                               "`block NAME { ... }`; vectors are written in square brackets: [1, 1]",
                          code=codes.UNEXPECTED_TOKEN)
    if tok.type == "STAR":
        return Diagnostic("unexpected `*`", span, "not expected here",
                          hint="`*` repeats a named block: `stem * 2` after `block stem { ... }`",
                          code=codes.UNEXPECTED_TOKEN)
    if tok.type == "ARROW":
        return Diagnostic("unexpected `->`", span, "nothing to map from",
                          hint="write a width like `2->3`, or an example like `[1, 1] -> [10]`",
                          code=codes.UNEXPECTED_TOKEN)
    expected = sorted({_WORDS.get(name, f"`{name}`") for name in err.expected})
    listed = ", ".join(expected[:-1]) + " or " + expected[-1] if len(expected) > 1 else "".join(expected)
    if tok.type == "NUMBER" and "NAME" in err.expected:
        return Diagnostic(f"a statement starts with a name, not a number: found {found}", span,
                          "expected a statement name", hint="e.g. `linear 2->3` or `epochs 100`",
                          code=codes.UNEXPECTED_TOKEN)
    return Diagnostic(f"unexpected {found.removeprefix('the ')}", span, "not expected here",
                      hint=f"expected {listed}" if expected else "", code=codes.UNEXPECTED_TOKEN)


_FINITE_WORDS = ("nan", "inf", "infinity")
_CHOICE = "e.g. `lr=choice(0.01, 0.1)`"
_FIXED_HINT = ("every combination of a sweep trains the same network on the same data: write one spec per "
               "width; a sweep varies settings, " + _CHOICE)


def _in_choice(tok: Token, found: str, span: Span, text: str, offset: int, before: str,
               expected: set[str]) -> Diagnostic | None:
    """A mistake with parentheses, which only a `choice(...)` holds: one left open or
    closing nothing, a missing or extra `,`, a `(` where no choice can start."""
    opened = _open_parenthesis(text, offset)
    if tok.type in ("_SEP", "$END") and opened is not None:
        return Diagnostic("unclosed `(`: this choice has no `)` on its line", _span_at(text, opened), "opened here",
                          hint=f"close the choice with `)` on the same line, {_CHOICE}",
                          code=codes.UNCLOSED_PARENTHESIS)
    if tok.type == "RPAR" and opened is None:
        return Diagnostic("unmatched `)`: no `(` is open", span, "closes nothing",
                          hint=f"remove it; parentheses hold the values of a choice, {_CHOICE}",
                          code=codes.UNMATCHED_PARENTHESIS)
    if tok.type == "RPAR" and before.endswith(","):
        return Diagnostic("expected a value after `,` in a choice, found `)`", span, "expected a value here",
                          hint="remove the last `,`, or add a value after it", code=codes.CHOICE_SYNTAX)
    if "RPAR" in expected and "COMMA" in expected and tok.type not in ("LPAR", "RPAR"):
        return Diagnostic(f"expected `,` or `)` in a choice, found {found}", span, "missing `,` before this",
                          hint=f"separate the values with commas, {_CHOICE}", code=codes.CHOICE_SYNTAX)
    if tok.type != "LPAR":
        return None
    if opened is not None:
        return Diagnostic("a choice cannot hold parentheses", span, "not allowed here",
                          hint=f"a choice holds values separated by commas, {_CHOICE}", code=codes.CHOICE_SYNTAX)
    word = before.split()[-1] if before.split() else ""
    head = before[:len(before) - len(word)]
    if word.lower() == "choice" and not head[max(head.rfind("\n"), head.rfind(";")) + 1:].strip():
        return Diagnostic(f"`{word}(...)` cannot stand alone: a choice is the value of a setting", span,
                          "expected a statement before the choice", hint=f"write the setting first, {_CHOICE}",
                          code=codes.CHOICE_SYNTAX)
    return Diagnostic("unexpected character `(`", span, "not allowed here", hint=_CHAR_HINTS["("],
                      code=codes.UNEXPECTED_CHARACTER)


def _open_parenthesis(text: str, offset: int) -> int | None:
    """Where a `(` left open before `offset` on its line is (outside strings and comments), or None."""
    opened: list[int] = []
    quoted = False
    for at in range(text.rfind("\n", 0, offset) + 1, min(offset, len(text))):
        char = text[at]
        if char == '"':
            quoted = not quoted
        elif quoted:
            continue
        elif char == "#":
            break
        elif char == "(":
            opened.append(at)
        elif char == ")" and opened:
            opened.pop()
    return opened[-1] if opened else None


def _in_vector(tok: Token, found: str, span: Span) -> Diagnostic:
    """A mistake inside `[...]`: say what the vector needs at this point."""
    if tok.type == "NAME" and str(tok).lower() in _FINITE_WORDS:
        return Diagnostic(f"numbers must be finite, not {found}", span, "not a finite number", hint=FINITE_HINT,
                          code=codes.NOT_FINITE)
    if tok.type == "NUMBER":
        return Diagnostic(f"expected `,` or `]` in a vector, found {found}", span, "missing `,` before this",
                          hint="separate the values with commas, e.g. `[1, 1]`", code=codes.VECTOR_SYNTAX)
    if tok.type in ("_SEP", "$END", "ARROW"):
        return Diagnostic(f"unclosed vector: expected `]`, found {found}", span, "expected `]` here",
                          hint="close the vector with `]` on the same line, e.g. `example [1, 1] -> [5]`",
                          code=codes.UNCLOSED_VECTOR)
    return Diagnostic(f"expected a number, `,` or `]` in a vector, found {found}", span,
                      "not part of a vector", hint="a vector holds numbers, e.g. `[1, 2.5, -3]`",
                      code=codes.VECTOR_SYNTAX)
