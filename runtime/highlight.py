"""The Pygments lexer of .nqa: `pygmentize -l nqa spec.nqa`, and the docs' ```nqa blocks.

In: the text of a spec. Out: Pygments tokens, every character in one. The tokens are the
grammar's own (`vocabulary.terminals`); which kind a name is comes from where it stands and
from the registry (`vocabulary.words`): the first name of a statement is its keyword —
`Name.Builtin` for a layer, `Name.Function` for an activation, `Keyword.Declaration` for
`block`, `repeat` and `residual`, `Keyword` for a setting, `Name.Class` for a named block
(where it is defined and where it is used). After it: `name=` is an option (`Name.Attribute`),
the word after `optimizer`, `loss`, `schedule` or `init` is its kind (`Keyword.Type`), a
statement's bare words are `Keyword.Constant` (`nobias`), other words are values (`Name`);
numbers, shapes (`1x8x8`), vectors' brackets, `->`, strings and comments have their usual
types. A character no token takes is an `Error`. Both tables are read on first use, not when
Pygments imports this module. Registered as the entry point `pygments.lexers: nqa`
(pyproject.toml); needs the `highlight` extra.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from pygments.lexer import Lexer
from pygments.token import (
    Comment,
    Error,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Whitespace,
    _TokenType,
)

from .vocabulary import terminals, words

Token = tuple[int, _TokenType, str]

STATEMENT = {"layer": Name.Builtin, "activation": Name.Function, "block": Keyword.Declaration,
             "setting": Keyword, None: Name.Class}
# the grammar's tokens that need no word lists, by the grammar's names (`_SEP` is split: a line
# break and a `;` both end a statement, but only one of them is blank)
PLAIN = {"SHAPE": Number, "STRING": String.Double, "COMMENT": Comment.Single, "ARROW": Operator,
         "STAR": Operator, "EQUAL": Operator, "COMMA": Punctuation, "LBRACE": Punctuation,
         "RBRACE": Punctuation, "LPAR": Punctuation, "RPAR": Punctuation}
OPENS_STATEMENT = {"\n", ";", "{", "}"}  # after these, the next name is a statement's


@functools.cache
def _scanner(vectors: bool = True) -> re.Pattern[str]:
    """One expression of the grammar's tokens, in its scanner's order; a line break, a `;` and
    any other single character are matches of their own. Without `vectors`, for the rest of a
    line where a `[` found no `]`: trying again at each later `[` would take time growing with
    the square of the line's length."""
    skipped = ("_SEP", "WS") if vectors else ("_SEP", "WS", "VECTOR")
    known = [(name, rx) for name, rx in terminals().items() if name not in skipped]
    parts = [r"(?P<BREAK>\n)", r"(?P<SEMI>;)", rf"(?P<WS>{terminals()['WS']})"]
    parts += [f"(?P<{name}>{rx})" for name, rx in known] + [r"(?P<OTHER>.)"]
    return re.compile("|".join(parts))


@functools.cache
def _after() -> re.Pattern[str]:
    """The character after a name and the blanks that follow it: `=` makes it an option, `(` a choice."""
    return re.compile(f"(?:{terminals()['WS']})?(.?)")


class NqaLexer(Lexer):
    """The .nqa language, for Pygments."""

    name = "nqa"
    aliases = ["nqa"]  # noqa: RUF012  (Pygments reads these as plain class attributes)
    filenames = ["*.nqa"]  # noqa: RUF012
    mimetypes = ["text/x-nqa"]  # noqa: RUF012

    def get_tokens_unprocessed(self, text: str) -> Iterator[Token]:
        return tokens(text)


def tokens(text: str) -> Iterator[Token]:
    """(offset, token type, text) for every piece of `text`, in order."""
    vocabulary = words()
    starting = True  # the next name is a statement's
    after: str | None = None  # the statement whose first argument this is
    for match in _matches(text):
        kind, piece, start = match.lastgroup, match.group(), match.start()
        if kind in ("BREAK", "WS"):
            yield start, Whitespace, piece
            if kind == "BREAK":
                starting, after = True, None
            continue
        if kind == "COMMENT":
            yield start, Comment.Single, piece
            continue
        if kind == "NAME" and starting:
            yield start, STATEMENT[vocabulary.statement_kind(piece)], piece
            starting, after = False, piece
            continue
        if kind == "NAME":
            yield start, _argument(piece, after, text, match.end()), piece
        elif kind == "NUMBER":
            yield start, Number.Integer if piece.lstrip("+-").isdigit() else Number.Float, piece
        elif kind == "VECTOR":
            yield from _vector(piece, start)
        elif kind == "SEMI":
            yield start, Punctuation, piece
        else:
            yield start, PLAIN.get(kind or "", Error), piece
        starting = piece in OPENS_STATEMENT
        after = None


def _matches(text: str) -> Iterator[re.Match[str]]:
    """The scanner's matches over `text`, in linear time: after a `[` with no `]` on its line,
    the rest of that line is scanned without looking for vectors."""
    position, unclosed_until = 0, -1
    while position < len(text):
        scanner = _scanner(position >= unclosed_until)
        match = scanner.match(text, position)
        if match is None:  # cannot happen: any character matches OTHER, a line break BREAK
            return
        if match.lastgroup == "OTHER" and match.group() == "[" and position >= unclosed_until:
            end = text.find("\n", position)
            unclosed_until = len(text) if end < 0 else end
        yield match
        position = match.end()


def _argument(name: str, statement: str | None, text: str, end: int) -> _TokenType:
    """The type of a name after a statement's: `statement` is the statement's name when this is its first argument."""
    vocabulary = words()
    follows = _after().match(text, end)
    if follows and follows.group(1) == "=":
        return Name.Attribute
    if follows and follows.group(1) == "(":
        return Name.Function.Magic  # `choice(...)`
    if statement == vocabulary.definition:
        return Name.Class
    if name in vocabulary.families.get(statement or "", ()):
        return Keyword.Type
    return Keyword.Constant if name in vocabulary.flags else Name


def _vector(piece: str, start: int) -> Iterator[Token]:
    """`[1, 0.5]`: the brackets, the numbers, the commas between them."""
    yield start, Punctuation, "["
    inner = piece[1:-1]
    for match in _scanner().finditer(inner):
        kind, item, at = match.lastgroup, match.group(), start + 1 + match.start()
        if kind == "NUMBER":
            yield at, Number.Integer if item.lstrip("+-").isdigit() else Number.Float, item
        elif kind == "WS":
            yield at, Whitespace, item
        elif kind == "COMMA":
            yield at, Punctuation, item
        else:  # not a number: `nqa check` says so, and points at it
            yield at, Error, item
    yield start + len(piece) - 1, Punctuation, "]"
