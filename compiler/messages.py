"""Pydantic's validation errors as located, plain-worded diagnostics.

In: one entry of `ValidationError.errors()`, the model class, the statement and
the span of each field. Out: a `Diagnostic` that names the field as users know
it ("learning rate", "output width"), shows the value as they wrote it, and
points at the argument that gave it (or at the statement when it was missing),
with its code chosen by the error's type, never by the words of the message.
Also `too_small(node)`: a number written as not 0 that float32 cannot hold
(`1e-400` reads as 0; below about 1.2e-38 it is subnormal), whatever the field.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Any

from pydantic_core import ErrorDetails

from spec_lang import ast, codes
from spec_lang.errors import Diagnostic
from spec_lang.vectors import FINITE_HINT

from .suggest import did_you_mean

if TYPE_CHECKING:
    from .statement import StatementModel


def plural(count: int, word: str, many: str | None = None) -> str:
    """`1 output`, `3 outputs`, `2 classes`; `many` for other plurals (`batches`)."""
    if count == 1:
        return f"{count:,} {word}"
    return f"{count:,} {many or (word + 'es' if word.endswith(('s', 'x')) else word + 's')}"


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
    if isinstance(node, ast.Shape):
        return node.text
    if isinstance(node, ast.Vector):
        return "[" + ", ".join(i.text for i in node.items) + "]"
    if isinstance(node, ast.Arrow):
        left = _text(node.left) if node.left is not None else ""
        return f"{left}->{_text(node.right)}"
    if isinstance(node, ast.Option):
        return f"{node.key}={_text(node.value)}"
    if isinstance(node, ast.Choice):
        return f"{node.name}({', '.join(_text(item) for item in node.items)})"
    if isinstance(node, ast.Times):
        return f"* {node.count.text}"
    return str(node)


def _bound(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


_FINITE = FINITE_HINT
_WHOLE = "write a whole number"
_WHOLE_KINDS = ("int_from_float", "int_parsing_size")
_KIND_HINTS = {"finite_number": _FINITE, "int_from_float": _WHOLE, "int_parsing_size": _WHOLE,
               "bool_parsing": "write `true` or `false`", "bool_type": "write `true` or `false`",
               "float32": "networks compute in float32, which holds values up to about 3.4e38"}


_OTHER_KINDS = {"size": codes.OUT_OF_RANGE, "spatial_word": codes.NOT_A_NUMBER}  # raised by nqa's own validators


def _problem(kind: str, what: str, given: str, ctx: dict[str, Any], err: ErrorDetails) -> tuple[str, str, str]:
    """(message, label, code) for one pydantic error type."""
    bare = given.strip("`")
    if kind in ("finite_number", "int_parsing_size") and bare.lstrip("-+").replace(".", "").replace("e", "").isdigit():
        return f"{what} {given} is too large", "too large", codes.TOO_LARGE_NUMBER
    if kind == "finite_number" or bare.lstrip("-+").lower() in ("nan", "inf", "infinity"):
        return f"{what} must be a finite number, not {given}", "not a finite number", codes.NOT_FINITE_VALUE
    if kind == "int_from_float":
        return f"{what} must be a whole number, not {given}", "not a whole number", codes.NOT_WHOLE
    if kind in ("int_parsing", "float_parsing", "int_type", "float_type"):
        return f"{what} must be a number, not {given}", "not a number", codes.NOT_A_NUMBER
    if kind in ("bool_parsing", "bool_type"):
        return f"{what} must be `true` or `false`, not {given}", "not true or false", codes.WRONG_TYPE
    if kind in ("string_type",):
        return f"{what} must be a name or a \"string\", not {given}", "not text", codes.WRONG_TYPE
    if kind in ("tuple_type", "list_type"):
        return f"{what} must be a vector like [1, 2], not {given}", "not a vector", codes.WRONG_TYPE
    if kind == "too_short":
        return f"{what} needs at least one value", "empty", codes.EMPTY_VALUE
    if kind == "literal_error":
        return f"unknown {what} {given}", "unknown", codes.UNKNOWN_VALUE
    if kind == "float32":
        return f"{what} {given} is too large for float32", "too large", codes.TOO_LARGE_NUMBER
    bounds = {"greater_than": ("greater than", "gt", "too small"),
              "greater_than_equal": ("at least", "ge", "too small"),
              "less_than": ("less than", "lt", "too large"),
              "less_than_equal": ("at most", "le", "too large")}
    if kind in bounds:
        words, key, label = bounds[kind]
        return f"{what} must be {words} {_bound(ctx[key])}, not {given}", label, codes.OUT_OF_RANGE
    message = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
    return message[:1].lower() + message[1:], "here", _OTHER_KINDS.get(kind, codes.INVALID_VALUE)


def pydantic_diagnostic(err: ErrorDetails, cls: type[StatementModel], stmt: ast.Statement, name: str,
                        spans: dict[str, ast.Span], nodes: dict[str, Any]) -> Diagnostic:
    loc = err.get("loc") or ()
    field = str(loc[0]) if loc else ""
    what = cls.title_of(field) if field else f"`{name}`"
    usage = f"write it like `{cls.example}`" if cls.example else ""
    if err["type"] == "missing":
        message, hint = cls.missing.get(field, (f"`{name}` needs {_article(what)}", ""))
        return Diagnostic(message, stmt.span, f"no {what} given", hint=hint or usage, code=codes.MISSING_VALUE)
    node, span = nodes.get(field), spans.get(field, stmt.span) if field else stmt.span
    if isinstance(node, ast.Vector) and len(loc) > 1 and isinstance(loc[1], int) and loc[1] < len(node.items):
        node = node.items[loc[1]]
        span = node.span
    elif isinstance(node, ast.Vector) and err["type"] == "float32":  # point at the value itself
        node = next((n for n in node.items if abs(n.value) > 3.4028234663852886e38), node)
        span = node.span
    given = shown(node) if node is not None else f"`{err.get('input')}`"
    message, label, code = _problem(err["type"], what, given, err.get("ctx") or {}, err)
    hint = _KIND_HINTS.get(err["type"]) or cls.hints.get(field, "") or usage
    if code == codes.NOT_FINITE_VALUE:
        hint = _FINITE
    elif code == codes.TOO_LARGE_NUMBER and err["type"] in ("finite_number", "int_parsing_size"):
        hint = "use a smaller number"
    elif err["type"] in _WHOLE_KINDS and cls.example:
        hint = f"{_WHOLE}, e.g. `{cls.example}`"
    fix = None
    if err["type"] == "literal_error":
        choices = [str(c).strip("'") for c in _literal_choices(err)]
        hint = did_you_mean(str(err.get("input")), choices) or (
            "choose one of " + ", ".join(f"`{c}`" for c in choices))
    return Diagnostic(message, span, label, hint=hint, code=code,
                      fix=fix)


def first_per_field(errors: list[ErrorDetails]) -> list[ErrorDetails]:
    """One error per field: the first pydantic found (later ones repeat its cause)."""
    seen, kept = set(), []
    for err in errors:
        key = (err.get("loc") or ("",))[0]
        if key not in seen:
            seen.add(key)
            kept.append(err)
    return kept


def _literal_choices(err: ErrorDetails) -> list[str]:
    expected = str((err.get("ctx") or {}).get("expected", ""))
    return [part.strip().strip("'") for part in expected.replace(" or ", ",").split(",") if part.strip()]


def _article(what: str) -> str:
    return f"an {what}" if what[:1] in "aeiou" else f"a {what}"


FLOAT32_TINY = 1.1754943508222875e-38  # float32's smallest normal number
_TINY_HINT = "networks compute in float32, whose smallest normal number is about 1.2e-38: write 0, or a larger number"


def too_small(node: Any) -> Diagnostic | None:
    """A diagnostic at the first number in `node` (a number, a vector, a list) that is
    written as not 0 but that float32 holds as 0 or only as a subnormal number."""
    numbers = node.items if isinstance(node, ast.Vector) else node if isinstance(node, tuple) else (node,)
    for number in numbers:
        if isinstance(number, ast.Vector):
            found = too_small(number)
            if found:
                return found
            continue
        if not isinstance(number, ast.Number) or not isinstance(number.value, float):
            continue
        value = number.value
        if abs(value) >= FLOAT32_TINY or (value == 0 and not any(c in "123456789" for c in number.text.lower()
                                                                      .split("e")[0])):
            continue
        as_float32 = struct.unpack("f", struct.pack("f", value))[0]
        outcome = "it would be 0" if as_float32 == 0 else "it would be a subnormal number, with less precision"
        return Diagnostic(f"`{number.text}` is too small for float32: {outcome}", number.span, "too small",
                          hint=_TINY_HINT, code=codes.TOO_SMALL_NUMBER)
    return None
