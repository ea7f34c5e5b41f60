"""What the registry says of a statement and its options, as an editor shows it.

In: a statement's name (and the word after it, for `optimizer`, `loss`,
`schedule` and `init`), or a model class and one of its fields. Out: the model
class, and markdown: the statement's docstring and example; an option's
description, its default and how its values are written. Every text comes from
the models themselves (`compiler/registry.py`), never from a table here.
"""

from __future__ import annotations

import inspect
import typing
from typing import Any

from pydantic_core import PydanticUndefined

from compiler.layers import Layer
from compiler.registry import FAMILIES, lookup
from compiler.statement import StatementModel


def model_of(name: str, member: str | None = None) -> type[StatementModel] | None:
    """The model of statement `name`; for a family (`optimizer`), of its `member` (`adam`)."""
    found = lookup(name)
    if isinstance(found, dict):
        return found.get(member) if member else None
    return found


def summary(cls: type[StatementModel]) -> str:
    """The model's own docstring, one paragraph."""
    doc = cls.__dict__.get("__doc__")
    return inspect.cleandoc(doc) if doc else ""


def family_doc(name: str) -> str:
    members = ", ".join(f"`{m}`" for m in FAMILIES[name])
    return f"`{name} NAME`, NAME one of {members}"


def statement_doc(name: str, member: str | None = None) -> str:
    """Markdown for a statement: what it is, its example, what it compiles to in general."""
    if name in FAMILIES and member is None:
        return family_doc(name)
    cls = model_of(name, member)
    if cls is None:
        return ""
    parts = [summary(cls) or f"`{cls.example or name}`"]
    if cls.example and cls.example not in parts[0]:
        parts.append(f"e.g. `{cls.example}`")
    options = [option_line(cls, field) for field in options_of(cls)]
    if options:
        parts.append("options:\n" + "\n".join(f"- {line}" for line in options))
    return "\n\n".join(parts)


def options_of(cls: type[StatementModel]) -> list[str]:
    """The fields written as options or words: not the bare values a statement needs (`data`'s file name)."""
    return [field for field in cls.option_names()
            if field not in cls.positional or not cls.model_fields[field].is_required()]


def written(value: Any) -> str:
    """A default value as a spec writes it."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return "x".join(written(v) for v in value)
    return str(value)


def default_text(cls: type[StatementModel], field: str) -> str:
    """The field's default as a user writes it: `0.001`, `bias`, or `required`, `none` (left out)."""
    info = cls.model_fields[field]
    if info.default is PydanticUndefined or info.is_required():
        return "required"
    if info.default is None:
        return "none"
    words = [word for word, (target, value) in cls.flags.items() if target == field and value == info.default]
    return f"`{words[0]}`" if words else f"`{written(info.default)}`"


def choices(cls: type[StatementModel], field: str) -> list[str]:
    """The words a field takes: its `Literal` values, its flags' words, `yes`/`no` for a switch,
    the init schemes for `init=`."""
    if field == "init" and issubclass(cls, Layer):
        return list(FAMILIES["init"])
    annotation = cls.model_fields[field].annotation
    found: list[str] = []
    parts = (annotation,) if typing.get_origin(annotation) is typing.Literal else typing.get_args(annotation)
    for part in parts or (annotation,):
        if typing.get_origin(part) is typing.Literal:
            found += [str(v) for v in typing.get_args(part)]
        elif part is bool:
            found += ["yes", "no"]
    return list(dict.fromkeys(found))


def option_line(cls: type[StatementModel], field: str) -> str:
    """One option on one line: `lr=` — the learning rate (default `0.001`)."""
    info = cls.model_fields[field]
    words = [word for word, (target, _) in cls.flags.items() if target == field]
    name = " / ".join(f"`{w}`" for w in words) if words else f"`{field}=`"
    about = info.description or info.title or field
    return f"{name} — {about} (default {default_text(cls, field)})"


def option_doc(cls: type[StatementModel], field: str, statement: str) -> str:
    """Markdown for one option: its meaning, its default, its values and an example."""
    info = cls.model_fields[field]
    lines = [f"**`{field}`** of `{statement}`: {info.description or info.title or field}",
             f"default: {default_text(cls, field)}"]
    words = choices(cls, field)
    if words:
        lines.append("values: " + ", ".join(f"`{w}`" for w in words))
    flags = [word for word, (target, _) in cls.flags.items() if target == field]
    if flags:
        lines.append("written as a word: " + ", ".join(f"`{w}`" for w in flags))
    if field in cls.hints:
        lines.append(cls.hints[field])
    return "\n\n".join(lines)
