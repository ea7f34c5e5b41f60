"""What an editor offers to complete in a spec.

In: the document's text, its path and an LSP `Position`. Out: `CompletionItem`s
for what may be written there, each with its documentation, every name from
the registry (`compiler/registry.py`, through `docs.py`):

- at the start of a statement: the statement names (layers, settings, the
  families `optimizer`, `loss`, `schedule`, `init`, the blocks) and the blocks
  the spec defines;
- after `optimizer`, `loss`, `schedule` or `init`: that family's members;
- after a statement's name: its options (`init=`, `stride=`) and words (`bias`, `nobias`);
- after `name=`: the option's values (`padding=same`, `init=kaiming`, `header=yes`);
  in `data`'s `inputs=` and `target=`, the column names of the file's header,
  read relative to the spec's folder by the compiler's bounded reader.

The statement under the cursor is read from its line alone, so that completion
works in a line that does not parse yet. Each item replaces the word being typed.
"""

from __future__ import annotations

import re
from pathlib import Path

from lsprotocol.types import (
    CompletionItem,
    CompletionItemKind,
    MarkupContent,
    MarkupKind,
    Position,
    Range,
    TextEdit,
)

from compiler.csv_layout import DataProblem
from compiler.data_sources import peek
from compiler.layers import Layer
from compiler.limits import Limits
from compiler.registry import FAMILIES, statement_names
from compiler.settings import Data
from compiler.statement import StatementModel
from spec_lang import ast

from .docs import choices, model_of, option_doc, statement_doc, summary
from .outline import tree_of
from .positions import UTF16, Lines, units

_TOKEN = re.compile(r'"[^"]*"?|[^\s"]+')
COLUMN_OPTIONS = ("inputs", "target")


def complete(text: str, path: Path, position: Position, encoding: str = UTF16) -> list[CompletionItem]:
    """The completions at `position` in `text` (the document at `path`; positions counted in `encoding`)."""
    lines = Lines(text, encoding)
    line, index = lines.locate(position)
    position = Position(line, units(lines.lines[line][:index], encoding))
    statement = _statement_before(lines.lines[line][:index].removeprefix("\ufeff"))
    if statement is None:
        return []
    tokens = _TOKEN.findall(statement)
    typing_word = bool(tokens) and not statement[-1].isspace()
    partial = tokens.pop() if typing_word else ""
    replace = _replacing(position, partial, encoding)
    if not tokens:
        return _statements(text, replace)
    name = tokens[0]
    if name in FAMILIES and len(tokens) == 1:
        return _members(name, replace)
    cls = model_of(name, tokens[1] if name in FAMILIES else None)
    if cls is None:
        return []
    if "=" in partial:
        key, value = partial.split("=", 1)
        piece = value.rsplit(",", 1)[-1]
        return _values(cls, name, key, tokens, path, _replacing(position, piece, encoding))
    return _options(cls, name, tokens, replace)


def _statement_before(line: str) -> str | None:
    """The text of the statement the cursor is in, from its line (None inside a comment)."""
    start, quoted = 0, False
    for index, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif not quoted and char == "#":
            return None
        elif not quoted and char in ";{}":
            start = index + 1
    return line[start:]


def _replacing(position: Position, partial: str, encoding: str) -> Range:
    """The range of the word being typed, which an item replaces."""
    return Range(Position(position.line, max(0, position.character - units(partial, encoding))), position)


def _item(label: str, kind: CompletionItemKind, replace: Range, doc: str = "", detail: str = "",
          insert: str | None = None) -> CompletionItem:
    return CompletionItem(label=label, kind=kind, detail=detail or None,
                          documentation=MarkupContent(MarkupKind.Markdown, doc) if doc else None,
                          text_edit=TextEdit(replace, insert if insert is not None else label))


def _statements(text: str, replace: Range) -> list[CompletionItem]:
    items = []
    for name in statement_names():
        cls = model_of(name)
        kind = (CompletionItemKind.Module if cls is None else CompletionItemKind.Class if issubclass(cls, Layer)
                else CompletionItemKind.Keyword)
        items.append(_item(name, kind, replace, statement_doc(name), cls.example if cls else f"{name} NAME"))
    tree = tree_of(text)
    for stmt in tree.statements if tree else ():
        if stmt.name == "block" and stmt.args and isinstance(stmt.args[0], ast.Word):
            block = stmt.args[0].name
            items.append(_item(block, CompletionItemKind.Reference, replace, f"the block `{block}` this spec defines",
                               "block"))
    return items


def _members(family: str, replace: Range) -> list[CompletionItem]:
    return [_item(member, CompletionItemKind.EnumMember, replace, statement_doc(family, member),
                  cls.example or f"{family} {member}")
            for member, cls in FAMILIES[family].items()]


def _given(cls: type[StatementModel], tokens: list[str]) -> set[str]:
    """The fields already written in the statement: as options, as words, or as bare values in order."""
    written = tokens[2:] if tokens[0] in FAMILIES else tokens[1:]
    given = {token.split("=", 1)[0] for token in written if "=" in token}
    given |= {cls.flags[token][0] for token in written if token in cls.flags}
    bare = [token for token in written if "=" not in token and "->" not in token and token not in cls.flags]
    given |= set(cls.positional[:len(bare)])
    return given


def _options(cls: type[StatementModel], name: str, tokens: list[str], replace: Range) -> list[CompletionItem]:
    given = _given(cls, tokens)
    shown = " ".join(tokens[:2]) if name in FAMILIES else name
    items = []
    for field in cls.option_names():
        if field in given:
            continue
        words = [word for word, (target, _) in cls.flags.items() if target == field]
        doc = option_doc(cls, field, shown)
        for word in words:
            items.append(_item(word, CompletionItemKind.Keyword, replace, doc, summary_of(cls, field)))
        if not words:
            items.append(_item(f"{field}=", CompletionItemKind.Property, replace, doc, summary_of(cls, field)))
    return items


def summary_of(cls: type[StatementModel], field: str) -> str:
    info = cls.model_fields[field]
    return info.title or field


def _values(cls: type[StatementModel], name: str, key: str, tokens: list[str], path: Path,
            replace: Range) -> list[CompletionItem]:
    if key not in cls.model_fields:
        return []
    if name == "data" and key in COLUMN_OPTIONS:
        return [_item(column, CompletionItemKind.Field, replace, detail=f"a column of {tokens[1]}")
                for column in header_of(tokens, path)]
    items = []
    for word in choices(cls, key):
        member = FAMILIES["init"].get(word) if key == "init" else None
        doc = summary(member) if member is not None else ""
        items.append(_item(word, CompletionItemKind.EnumMember, replace, doc, f"{key}={word}"))
    return items


def header_of(tokens: list[str], path: Path) -> list[str]:
    """The column names of the file a `data` statement names, as its `delimiter=` and `header=` read it."""
    if len(tokens) < 2 or not tokens[1].startswith('"') or not tokens[1].endswith('"') or len(tokens[1]) < 3:
        return []
    written = tokens[1][1:-1]
    settings = dict(token.split("=", 1) for token in tokens[2:] if "=" in token)
    try:
        data = Data.model_validate({"path": written, **{key: settings[key].strip('"') for key in ("delimiter", "header")
                                                        if key in settings}})
    except ValueError:
        data = Data(path=written)
    try:
        return list(peek(data, path.parent, Limits()).names or ())
    except DataProblem:
        return []
