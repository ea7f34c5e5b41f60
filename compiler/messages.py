"""Pydantic's validation errors as located, plain-worded diagnostics.

In: one entry of `ValidationError.errors()`, the model class, the statement and
the span of each field. Out: a `Diagnostic` that names the field as users know
it ("learning rate", "output width"), shows the value as they wrote it, and
points at the argument that gave it (or at the statement when it was missing).
"""

from __future__ import annotations

from typing import Any

from spec_lang import ast
from spec_lang.errors import Diagnostic

from .suggest import did_you_mean


def shown(node: Any) -> str:
    """An argument as the user wrote it, in backquotes (shortened when very long)."""
    return f"`{shorten(_text(node))}`"


def shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 13] + "..." + text[-10:]


def _text(node: Any) -> str:
    if isinstance(node, tuple):
        return ",".join(_text(n) for n in node)
    if isinstance(node, ast.Number):
        return node.text
    if isinstance(node, ast.Word):
        return node.name
    if isinstance(node, ast.String):
        return f'"{node.value}"'
    if isinstance(node, ast.Vector):
        return "[" + ", ".join(i.text for i in node.items) + "]"
    if isinstance(node, ast.Arrow):
        left = _text(node.left) if node.left is not None else ""
        return f"{left}->{_text(node.right)}"
    if isinstance(node, ast.Option):
        return f"{node.key}={_text(node.value)}"
    return str(node)


def _bound(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _problem(kind: str, what: str, given: str, ctx: dict, err: dict) -> tuple[str, str]:
    """(message, label) for one pydantic error type."""
    if kind == "greater_than":
        return f"{what} must be greater than {_bound(ctx['gt'])}, not {given}", "too small"
    if kind == "greater_than_equal":
        return f"{what} must be at least {_bound(ctx['ge'])}, not {given}", "too small"
    if kind == "less_than":
        return f"{what} must be less than {_bound(ctx['lt'])}, not {given}", "too large"
    if kind == "less_than_equal":
        return f"{what} must be at most {_bound(ctx['le'])}, not {given}", "too large"
    if kind == "finite_number" and given.strip("`-+").replace(".", "").isdigit():
        return f"{what} {given} is too large", "too large"
    if kind == "finite_number" or given.strip("`-+").lower() in ("nan", "inf", "infinity"):
        return f"{what} must be a finite number, not {given}", "not finite"
    if kind == "int_from_float":
        return f"{what} must be a whole number, not {given}", "not a whole number"
    if kind in ("int_parsing", "float_parsing", "int_type", "float_type"):
        return f"{what} must be a number, not {given}", "not a number"
    if kind in ("bool_parsing", "bool_type"):
        return f"{what} must be `true` or `false`, not {given}", "not true or false"
    if kind in ("string_type",):
        return f"{what} must be a name or a \"string\", not {given}", "not text"
    if kind in ("tuple_type", "list_type"):
        return f"{what} must be a vector like [1, 2], not {given}", "not a vector"
    if kind == "too_short":
        return f"{what} must not be empty", "empty"
    if kind == "too_long":
        return f"{what} has too many values", "too long"
    if kind == "literal_error":
        return f"unknown {what} {given}", "unknown"
    message = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
    return message[:1].lower() + message[1:], "here"


def pydantic_diagnostic(err: dict, cls, stmt: ast.Statement, name: str,
                        spans: dict[str, ast.Span], nodes: dict[str, Any]) -> Diagnostic:
    loc = err.get("loc") or ()
    field = str(loc[0]) if loc else ""
    what = cls.title_of(field) if field else f"`{name}`"
    hint = cls.hints.get(field, "")
    if err["type"] == "missing":
        return Diagnostic(f"`{name}` needs {_article(what)}", stmt.span, f"no {what} given",
                          hint=hint or (f"write it like `{cls.example}`" if cls.example else ""))
    node = nodes.get(field)
    given = shown(node) if node is not None else f"`{err.get('input')}`"
    message, label = _problem(err["type"], what, given, err.get("ctx") or {}, err)
    if err["type"] == "literal_error":
        choices = [str(c).strip("'") for c in _literal_choices(err)]
        hint = did_you_mean(str(err.get("input")), choices) or hint or (
            "choose one of " + ", ".join(f"`{c}`" for c in choices))
    return Diagnostic(message, spans.get(field, stmt.span) if field else stmt.span, label,
                      hint=hint)


def _literal_choices(err: dict) -> list[str]:
    expected = str((err.get("ctx") or {}).get("expected", ""))
    return [part.strip().strip("'") for part in expected.replace(" or ", ",").split(",") if part.strip()]


def _article(what: str) -> str:
    return f"an {what}" if what[:1] in "aeiou" else f"a {what}"
