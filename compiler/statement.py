"""The base of every statement model, and how a statement's arguments bind to it.

In: an AST `Statement`. Out: a `Bound` — a validated, frozen pydantic model and
the span of every argument that gave it a field — or a list of `Diagnostic`s
(unknown option or word, too many arguments, a value pydantic refused), each
pointing at the argument at fault.

A model says how its arguments bind with class variables: `positional` (fields
filled by bare values, in order), `arrow` (the two fields a `left -> right`
argument fills), `flags` (bare words that set a field). Every other field is an
option, written `name=value`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from spec_lang import ast, codes
from spec_lang.errors import Diagnostic

from .messages import first_per_field, pydantic_diagnostic, shown, too_small
from .suggest import did_you_mean, replacement

FLOAT32_MAX = 3.4028234663852886e38


def fits_float32(value: float) -> bool:
    """Networks compute in float32: a value beyond its range would become infinite."""
    return abs(value) <= FLOAT32_MAX


_OPTION_NAMES: dict[type, tuple[str, ...]] = {}


class StatementModel(BaseModel):
    """A statement's validated content. Subclasses are frozen and forbid extra fields."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, defer_build=True)

    keyword: ClassVar[str] = ""
    positional: ClassVar[tuple[str, ...]] = ()
    arrow: ClassVar[tuple[str, str] | None] = None
    flags: ClassVar[Mapping[str, tuple[str, Any]]] = {}
    hints: ClassVar[Mapping[str, str]] = {}
    missing: ClassVar[Mapping[str, tuple[str, str]]] = {}
    example: ClassVar[str] = ""
    repeatable: ClassVar[bool] = False
    aliases: ClassVar[tuple[str, ...]] = ()  # other names people use for it, for hints
    internal: ClassVar[tuple[str, ...]] = ()  # fields the compiler fills in, never written as options
    # the fields a sweep may vary with `choice(...)` (None: every field), and why the others may not
    sweepable: ClassVar[frozenset[str] | None] = frozenset()
    fixed_hint: ClassVar[str] = ("every combination of a sweep trains on the same data and is measured the same "
                                 "way; a sweep varies the optimizer's and the loss's settings, `epochs`, `batch` "
                                 "and a few layer settings, e.g. `lr=choice(0.01, 0.1)`")

    @field_validator("*", mode="after", check_fields=False)
    @classmethod
    def _within_float32(cls, value: Any) -> Any:
        """Every number a statement holds (a learning rate, a slope) is used in float32."""
        if isinstance(value, float) and not fits_float32(value):
            raise PydanticCustomError("float32", "{value} is too large for float32", {"value": f"{value:g}"})
        return value

    @classmethod
    def option_names(cls) -> tuple[str, ...]:
        names = _OPTION_NAMES.get(cls)
        if names is None:  # worked out once per class: binding asks for every statement
            fixed = set(cls.arrow or ()) | {"kind"} | set(cls.internal)
            names = _OPTION_NAMES[cls] = tuple(name for name in cls.model_fields if name not in fixed)
        return names

    @classmethod
    def sweep_problem(cls, name: str) -> str | None:
        """Why the field `name` cannot hold a `choice(...)` (a hint), or None when a sweep may vary it."""
        if cls.sweepable is None or name in cls.sweepable:
            return None
        return cls.fixed_hint.format(title=cls.title_of(name))

    @classmethod
    def title_of(cls, name: str) -> str:
        info = cls.model_fields.get(name)
        return info.title if info is not None and info.title else name


@dataclass(frozen=True)
class Bound:
    """A statement checked against its model: the model and where each field came from."""

    model: StatementModel
    statement: ast.Statement
    spans: Mapping[str, ast.Span]
    body: tuple[Bound, ...] = ()  # a block's layers, bound: `repeat`, `residual`, a named block's use

    def span_of(self, name: str) -> ast.Span:
        return self.spans.get(name, self.statement.span)


_VALUE_OF: dict[type, Callable[[Any], Any]] = {
    ast.Number: lambda node: node.value,
    ast.Word: lambda node: node.name,
    ast.String: lambda node: node.value,
    ast.Vector: lambda node: tuple([item.value for item in node.items]),
    ast.Shape: lambda node: node.sizes,
    tuple: lambda node: tuple([value_of(n) for n in node]),
}


def value_of(node: ast.Value | tuple[ast.Value, ...]) -> Any:
    """The plain Python value of an argument node."""
    reader = _VALUE_OF.get(type(node))
    if reader is None:
        raise TypeError(f"not a value: {node!r}")
    return reader(node)


def bind(cls: type[StatementModel], stmt: ast.Statement, args: tuple[ast.Arg, ...],
         name: str) -> Bound | list[Diagnostic]:
    """Fill `cls` from `args` (the statement's arguments after any sub-kind word)."""
    values: dict[str, Any] = {}
    spans: dict[str, ast.Span] = {}
    nodes: dict[str, Any] = {}
    problems: list[Diagnostic] = []
    free = list(cls.positional) if cls.positional else []
    for arg in args:
        problem = _bind_one(cls, arg, name, free, values, spans, nodes)
        if problem:
            problems.append(problem)
    problems += [found for node in nodes.values() if (found := too_small(node))]
    if problems:
        return problems
    if "kind" in cls.__pydantic_fields__:
        values["kind"] = cls.keyword
    try:
        model = _validated(cls, values)
    except ValidationError as err:
        return [pydantic_diagnostic(e, cls, stmt, name, spans, nodes)
                for e in first_per_field(err.errors())]
    return Bound(model, stmt, spans)


_MODELS: dict[tuple[Any, ...], StatementModel] = {}
MAX_KEPT_MODELS = 4096
MAX_KEPT_SPELLING = 400  # characters of values, at most, for a model to be kept


def _validated(cls: type[StatementModel], values: dict[str, Any]) -> StatementModel:
    """`cls(**values)`, the same frozen model given again for the same class and values (a
    spec checked again as it is edited, a file of many `relu`s): validating is most of binding.
    Values are told apart by type and spelling (`repr`), so that `1`, `1.0`, `True` and `-0.0`
    never stand for each other; a refusal is not kept, and raises again; nor is a model of long values."""
    spelt = tuple((field, type(value), repr(value)) for field, value in values.items())
    if sum(len(text) for _, _, text in spelt) > MAX_KEPT_SPELLING:  # a long vector: not worth its memory
        return cls(**values)
    key = (cls, *spelt)
    found = _MODELS.get(key)
    if found is None:
        found = cls(**values)
        if len(_MODELS) >= MAX_KEPT_MODELS:
            _MODELS.clear()
        _MODELS[key] = found
    return found


def _set(field: str, node: ast.Value, values: dict[str, Any], spans: dict[str, ast.Span],
         nodes: dict[str, Any]) -> None:
    values[field] = value_of(node)
    spans[field] = node.span
    nodes[field] = node


def _bind_one(cls: type[StatementModel], arg: ast.Arg, name: str, free: list[str], values: dict[str, Any],
              spans: dict[str, ast.Span], nodes: dict[str, Any]) -> Diagnostic | None:
    if isinstance(arg, ast.Option):
        return _bind_option(cls, arg, name, values, spans, nodes)
    if isinstance(arg, ast.Arrow) and cls.arrow:
        first, second = cls.arrow
        if first in values or second in values:
            return _extra(arg, name, cls)
        if arg.left is not None:
            _set(first, arg.left, values, spans, nodes)
        _set(second, arg.right, values, spans, nodes)
        spans["arrow"] = arg.span
        for taken in (first, second):
            if taken in free:
                free.remove(taken)
        return None
    if isinstance(arg, ast.Word) and arg.name in cls.flags:
        field, value = cls.flags[arg.name]
        if field in values:
            return Diagnostic(f"`{field}` is set twice in `{name}`", arg.span, "set again here",
                              hint="keep one of them", code=codes.OPTION_TWICE)
        values[field], spans[field], nodes[field] = value, arg.span, arg
        return None
    free[:] = [f for f in free if f not in values]
    if free and not isinstance(arg, (ast.Arrow, ast.Times)):
        _set(free.pop(0), arg, values, spans, nodes)
        return None
    if isinstance(arg, ast.Word):
        words = list(cls.flags)
        hint = did_you_mean(arg.name, words) or (
            f"`{name}` takes the words {', '.join(f'`{w}`' for w in words)}" if words
            else _usage(cls, name))
        return Diagnostic(f"unknown word `{arg.name}` in `{name}`", arg.span, "not understood",
                          hint=hint, code=codes.UNEXPECTED_ARGUMENT,
                          fix=replacement(arg.name, words, arg.span))
    return _extra(arg, name, cls)


def _extra(arg: ast.Arg, name: str, cls: type[StatementModel]) -> Diagnostic:
    return Diagnostic(f"unexpected argument {shown(arg)} to `{name}`", arg.span, "not expected here",
                      hint=_usage(cls, name), code=codes.UNEXPECTED_ARGUMENT)


def _usage(cls: type[StatementModel], name: str) -> str:
    return f"write it like `{cls.example}`" if cls.example else f"`{name}` takes no arguments"


def _bind_option(cls: type[StatementModel], opt: ast.Option, name: str, values: dict[str, Any],
                 spans: dict[str, ast.Span], nodes: dict[str, Any]) -> Diagnostic | None:
    allowed = cls.option_names()
    if opt.key not in allowed:
        from .registry import statements_taking  # the registry imports this module

        hint = did_you_mean(opt.key, allowed, "`{}=`")
        if opt.key in (cls.arrow or ()):
            hint = f"write it like `{cls.example}`"
        if not hint:
            owners = [s for s in statements_taking(opt.key) if s != name]
            hint = (f"`{opt.key}=` belongs to {', '.join(f'`{o}`' for o in owners)}" if owners
                    else f"`{name}` takes {', '.join(f'`{a}=`' for a in allowed)}" if allowed
                    else f"`{name}` takes no options")
        return Diagnostic(f"`{name}` has no option `{opt.key}`", opt.key_span, "unknown option",
                          hint=hint, code=codes.UNKNOWN_OPTION,
                          fix=None if opt.key in (cls.arrow or ()) else replacement(opt.key, allowed, opt.key_span))
    if opt.key in values:
        return Diagnostic(f"`{opt.key}` is set twice in `{name}`", opt.span, "set again here",
                          hint="keep one of them", code=codes.OPTION_TWICE)
    values[opt.key] = value_of(opt.value)
    spans[opt.key] = opt.span
    nodes[opt.key] = opt.value
    return None
