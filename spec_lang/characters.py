"""Characters that are not what they seem, named so that a user can find them.

In: one character a spec may not hold there, or a spec's whole text. Out:
`describe_character(char)` -> (message, label, hint) for a letter that looks
like a Latin one (Cyrillic `і`, Greek `ο`, fullwidth `ｌ`), a digit or
punctuation mark that looks like an ASCII one (minus sign `−`, fullwidth `＝`,
small `﹥`, en dash `–`), a space that is not a space (no-break, em ...), an
invisible character (zero-width space, bidirectional marks, a byte-order mark
past the start) or a control character, by code point and Unicode name; None
for any other. `bidi_warnings(text)` -> a warning at each bidirectional
override or isolate, wherever it is (comments and strings too): such a
character makes the text display in another order than it reads (Trojan Source).
"""

from __future__ import annotations

import re
import unicodedata

from . import codes
from .ast import Span
from .errors import Diagnostic

# Cyrillic and Greek letters drawn like Latin ones, by code point
_LOOK_ALIKES = {
    0x0430: "a", 0x0435: "e", 0x043E: "o", 0x0440: "p", 0x0441: "c", 0x0443: "y", 0x0445: "x",
    0x0456: "i", 0x0458: "j", 0x0455: "s", 0x0501: "d", 0x04BB: "h", 0x051B: "q", 0x051D: "w",
    0x0410: "A", 0x0412: "B", 0x0415: "E", 0x041A: "K", 0x041C: "M", 0x041D: "H", 0x041E: "O",
    0x0420: "P", 0x0421: "C", 0x0422: "T", 0x0425: "X", 0x0406: "I", 0x0408: "J", 0x0405: "S",
    0x03B1: "a", 0x03BF: "o", 0x03B9: "i", 0x03BD: "v", 0x03BA: "k", 0x03C1: "p", 0x03C5: "u",
    0x03C7: "x", 0x0391: "A", 0x0392: "B", 0x0395: "E", 0x0396: "Z", 0x0397: "H", 0x0399: "I",
    0x039A: "K", 0x039C: "M", 0x039D: "N", 0x039F: "O", 0x03A1: "P", 0x03A4: "T", 0x03A5: "Y",
    0x03A7: "X",
}
# punctuation drawn like ASCII that NFKC does not map to it (it does map the fullwidth and small forms)
_PUNCTUATION = {
    0x2010: "-", 0x2011: "-", 0x2012: "-", 0x2013: "-", 0x2014: "-", 0x2015: "-", 0x2212: "-", 0x2043: "-",
    0x02D7: "-", 0x2044: "/", 0x2215: "/", 0x3002: ".", 0xFF61: ".", 0x3001: ",", 0xFF64: ",", 0x2236: ":",
    0x00B7: ".", 0x2219: ".", 0x02C2: "<", 0x02C3: ">", 0x2039: "<", 0x203A: ">",
}
_CONTROL_NAMES = {0x00: "null", 0x07: "bell", 0x08: "backspace", 0x0B: "vertical tab", 0x1B: "escape",
                  0x7F: "delete", 0x85: "next line", 0x9B: "control sequence introducer"}
BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
_BIDI_MARKS = frozenset("\u061c\u200e\u200f") | frozenset(chr(c) for c in range(0x202A, 0x202F)) | frozenset(
    chr(c) for c in range(0x2066, 0x206A))
_BIDI_HINT = "delete it: it changes the order in which the text around it is displayed"
MAX_BIDI_WARNINGS = 20


def code_point(char: str) -> str:
    return f"U+{ord(char):04X}"


def _name(char: str) -> str:
    return unicodedata.name(char, "").lower()


def describe_character(char: str) -> tuple[str, str, str, str] | None:
    """(message, label, hint, code) for a character that is not what it looks like, else None."""
    if len(char) != 1 or (char.isascii() and char.isprintable()):
        return None
    latin = _LOOK_ALIKES.get(ord(char)) or _fullwidth(char)
    if latin:
        script = unicodedata.name(char).split()[0].capitalize()
        return (f"unexpected character: {script} `{char}` ({code_point(char)}) looks like Latin `{latin}`",
                f"not Latin `{latin}`", f"type `{latin}` again: names are written in the Latin letters a to z",
                codes.LOOKALIKE_CHARACTER)
    ascii_ = _PUNCTUATION.get(ord(char)) or _compatible(char)
    if ascii_:
        return (f"unexpected character `{char}` ({code_point(char)} {_name(char)}), which looks like `{ascii_}`",
                f"not `{ascii_}`", f"type `{ascii_}` again: a spec's digits and punctuation are ASCII",
                codes.LOOKALIKE_CHARACTER)
    category = unicodedata.category(char)
    if category == "Zs":
        return (f"unexpected {_name(char)} ({code_point(char)})", "not an ordinary space",
                "replace it with an ordinary space", codes.UNEXPECTED_CHARACTER)
    if category == "Cc":
        name = _CONTROL_NAMES.get(ord(char))
        return (f"unexpected control character {code_point(char)}" + (f" ({name})" if name else ""),
                "control character here", "delete it: a spec holds no control characters", codes.UNEXPECTED_CHARACTER)
    if category in ("Cf", "Zl", "Zp"):
        hint = _BIDI_HINT if char in _BIDI_MARKS else "delete it: it cannot be seen, but it is there"
        return (f"unexpected invisible character {code_point(char)} ({_name(char)})", "invisible character here",
                hint, codes.UNEXPECTED_CHARACTER)
    return None


def _fullwidth(char: str) -> str:
    """The ASCII letter a fullwidth or other compatibility letter stands for, if any."""
    plain = unicodedata.normalize("NFKC", char)
    return plain if len(plain) == 1 and plain.isascii() and plain.isalpha() else ""


def _compatible(char: str) -> str:
    """The ASCII digit or punctuation a fullwidth, small or other compatibility form stands for, if any."""
    plain = unicodedata.normalize("NFKC", char)
    return plain if len(plain) == 1 and plain.isascii() and plain.isprintable() and not plain.isspace() else ""


def looks_like_ascii(char: str) -> bool:
    """Whether `char` is a letter, digit or punctuation mark drawn like an ASCII one (`−`, `﹥`, `ｌ`)."""
    return not char.isascii() and bool(_LOOK_ALIKES.get(ord(char)) or _fullwidth(char)
                                       or _PUNCTUATION.get(ord(char)) or _compatible(char))


def bidi_warnings(text: str) -> list[Diagnostic]:
    """A warning at each bidirectional override or isolate in `text` (the first few)."""
    warnings: list[Diagnostic] = []
    for found in BIDI.finditer(text):
        if len(warnings) == MAX_BIDI_WARNINGS:
            break
        offset, char = found.start(), found[0]
        line = text.count("\n", 0, offset) + 1
        column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        warnings.append(Diagnostic(
            f"bidirectional control character {code_point(char)} ({_name(char)}): the text may not read "
            "as it is displayed", Span(line, column, line, column + 1, offset, offset + 1),
            "reorders the text shown around it",
            hint="delete it, unless you mean it: it can make a line display otherwise than nqa reads it",
            severity="warning", code=codes.BIDI_CONTROL))
    return warnings
