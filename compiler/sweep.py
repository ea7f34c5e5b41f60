"""Sweeps: the `choice(...)` values of a parsed spec, and the specs they stand for.

In: a parsed `Spec`. Out: `find_choices(spec)` — each `Site` (the statement,
and the option key or the bare argument holding the choice), the problems in
how the choices are written (a name other than `choice`, no values, values of
mixed kinds, a value given twice, a choice in a choice or in a list), each at
its place, and the statements holding those; `substitute(spec, sites, picks)`,
the spec with every choice replaced by the item picked, the item keeping its
own span, so that checking the result points at the very item at fault;
`filled(text, choices, picks)`, the text with every `choice(...)` replaced by
the item picked as it was written, and nothing else changed. Also the data a
checked sweep carries: `SweepChoice`, `Combination`, `Sweep`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from spec_lang import ast, codes
from spec_lang.errors import Diagnostic, Label, SpecError

from .messages import plural, shown
from .suggest import did_you_mean

if TYPE_CHECKING:
    from .model import CheckedSpec, Program

_KINDS = {ast.Number: "a number", ast.Word: "a name", ast.String: 'a "string"', ast.Vector: "a vector",
          ast.Shape: "a shape"}
EXAMPLE = "e.g. `lr=choice(0.001, 0.01, 0.1)`"


@dataclass(frozen=True)
class Site:
    """Where a choice stands: in statement `index` of the spec, or in the statement the `path` leads to
    through the braces of blocks below it; as an option's value (`key`) or a bare argument."""

    index: int
    choice: ast.Choice
    key: str | None
    path: tuple[int, ...] = ()

    def statement(self, spec: ast.Spec) -> ast.Statement:
        """The statement holding the choice."""
        stmt = spec.statements[self.index]
        for at in self.path:
            assert stmt.body is not None  # the path goes through braces
            stmt = stmt.body[at]
        return stmt


@dataclass(frozen=True)
class Found:
    sites: list[Site]
    problems: list[Diagnostic]
    bad: list[ast.Statement]  # statements holding a choice written wrong: checking leaves them out


def has_choices(spec: ast.Spec) -> bool:
    return any(_choices_in(stmt) for top in spec.statements for stmt, _ in _within(top))


def _within(stmt: ast.Statement, path: tuple[int, ...] = ()) -> list[tuple[ast.Statement, tuple[int, ...]]]:
    """The statement and every statement in its braces, at any depth, with the path to each."""
    found = [(stmt, path)]
    for at, inner in enumerate(stmt.body or ()):
        found += _within(inner, (*path, at))
    return found


def _choices_in(stmt: ast.Statement) -> list[tuple[ast.Choice, str | None]]:
    found: list[tuple[ast.Choice, str | None]] = []
    for arg in stmt.args:
        if isinstance(arg, ast.Choice):
            found.append((arg, None))
        elif isinstance(arg, ast.Option):
            values = arg.value if isinstance(arg.value, tuple) else (arg.value,)
            found += [(value, arg.key) for value in values if isinstance(value, ast.Choice)]
    return found


def find_choices(spec: ast.Spec) -> Found:
    sites: list[Site] = []
    problems: list[Diagnostic] = []
    bad: list[ast.Statement] = []
    for index, top in enumerate(spec.statements):
        inside = _within(top)
        here = [problem for stmt, _ in inside for choice, key in _choices_in(stmt)
                for problem in _written_problems(choice, key, stmt)]
        if here:
            problems += here
            bad.append(top)  # a block holding one is left out whole
        else:
            sites += [Site(index, choice, key, path) for stmt, path in inside for choice, key in _choices_in(stmt)]
    return Found(sites, problems, bad)


def _written_problems(choice: ast.Choice, key: str | None, stmt: ast.Statement) -> list[Diagnostic]:
    """What is wrong with how `choice` is written, on its own."""
    if choice.name != "choice":
        hint = did_you_mean(choice.name, ["choice"]) or f"a value that varies is written `choice(...)`, {EXAMPLE}"
        return [Diagnostic(f"unknown function `{choice.name}`: the only one is `choice`", choice.name_span,
                           "not `choice`", hint=hint, code=codes.UNKNOWN_FUNCTION)]
    in_list = key is not None and any(isinstance(arg, ast.Option) and isinstance(arg.value, tuple)
                                      and any(v is choice for v in arg.value) for arg in stmt.args)
    if in_list:
        return [Diagnostic("a choice cannot be one value of a list", choice.span, "part of a list",
                           hint=f"make the whole value the choice, {EXAMPLE}", code=codes.CHOICE_PLACE)]
    if not choice.items:
        return [Diagnostic("`choice()` is empty: it needs the values to try", choice.span, "no values",
                           hint=f"list two or more values, {EXAMPLE}", code=codes.EMPTY_CHOICE)]
    nested = next((item for item in choice.items if isinstance(item, ast.Choice)), None)
    if nested is not None:
        return [Diagnostic("a choice cannot hold a choice", nested.span, "inside another choice",
                           hint=f"list the values in one choice, {EXAMPLE}", code=codes.CHOICE_PLACE)]
    first = choice.items[0]
    for item in choice.items[1:]:
        if type(item) is not type(first):
            return [Diagnostic(f"a choice holds values of one kind: {shown(item)} is {_KINDS[type(item)]}, "
                               f"but {shown(first)} is {_KINDS[type(first)]}", item.span, f"{_KINDS[type(item)]}",
                               (Label(first.span, _KINDS[type(first)]),),
                               hint="give every value of a choice in the same kind, e.g. all numbers",
                               code=codes.MIXED_CHOICE)]
    for at, item in enumerate(choice.items):
        again = next((earlier for earlier in choice.items[:at] if earlier == item), None)
        if again is not None:
            return [Diagnostic(f"{shown(item)} is given twice in this choice", item.span, "given again here",
                               (Label(again.span, "first given here"),), hint="keep one of them",
                               code=codes.CHOICE_VALUE_TWICE)]
    return []


def substitute(spec: ast.Spec, sites: Sequence[Site], picks: Sequence[int]) -> ast.Spec:
    """`spec` with the choice of each site replaced by its item `picks[n]`; statements without a
    choice are the very same objects."""
    chosen: dict[int, dict[int, ast.Value]] = {}
    for site, pick in zip(sites, picks, strict=True):
        chosen.setdefault(site.index, {})[id(site.choice)] = site.choice.items[pick]
    statements = list(spec.statements)
    for index, items in chosen.items():
        statements[index] = _rewritten(statements[index], items)
    return ast.Spec(tuple(statements))


def _rewritten(stmt: ast.Statement, items: dict[int, ast.Value]) -> ast.Statement:
    """`stmt` with its choices (and those in its braces) among `items` replaced; itself if it holds none."""
    args = tuple(_picked(arg, items) for arg in stmt.args)
    body = tuple(_rewritten(inner, items) for inner in stmt.body) if stmt.body is not None else None
    same = all(a is b for a, b in zip(args, stmt.args, strict=True)) and (
        body is None or all(a is b for a, b in zip(body, stmt.body or (), strict=True)))
    return stmt if same else replace(stmt, args=args, body=body)


def _picked(arg: ast.Arg, items: dict[int, ast.Value]) -> ast.Arg:
    if isinstance(arg, ast.Choice):
        return items.get(id(arg), arg)
    if isinstance(arg, ast.Option) and isinstance(arg.value, ast.Choice) and id(arg.value) in items:
        item = items[id(arg.value)]
        return replace(arg, value=item, span=item.span)  # what is wrong with the option is wrong with the item
    return arg


def first_items(spec: ast.Spec) -> ast.Spec:
    """`spec` with every choice written right replaced by its first item, and the statements
    holding one written wrong left out: what checking a file with other mistakes reads."""
    found = find_choices(spec)
    if not found.sites and not found.bad:
        return spec
    left_out = {id(stmt) for stmt in found.bad}
    kept = ast.Spec(tuple(stmt for stmt in spec.statements if id(stmt) not in left_out))
    sites = find_choices(kept).sites
    return substitute(kept, sites, [0] * len(sites))


@dataclass(frozen=True)
class SweepChoice:
    """One choice of a checked sweep: what reports call it (`lr`, or `optimizer lr` where two
    choices share an option's name), the statement and field it sets, where it is, its items."""

    label: str
    statement: str  # the statement's name: `optimizer`, `batch`, `dropout`
    field: str  # the field of that statement's model it sets: `lr`, `size`, `p`
    span: ast.Span
    items: tuple[ast.Value, ...]

    def values(self) -> tuple[Any, ...]:
        """The items as plain values: numbers, names, strings."""
        from .statement import value_of

        return tuple(value_of(item) for item in self.items)

    def text(self, pick: int, source: str) -> str:
        """The item as it is written in `source` (`1e-3` stays `1e-3`)."""
        span = self.items[pick].span
        return source[span.start:span.end] if span.end > span.start else shown(self.items[pick]).strip("`")


@dataclass(frozen=True)
class Combination:
    """One combination of a sweep: the item picked from each choice, and the spec checked with them."""

    picks: tuple[int, ...]
    spec: CheckedSpec


@dataclass(frozen=True)
class Sweep:
    choices: tuple[SweepChoice, ...]
    combinations: tuple[Combination, ...]

    def values(self, combination: Combination) -> dict[str, Any]:
        """Each choice's item as a plain value (a number, a name), by the choice's label."""
        from .statement import value_of

        return {c.label: value_of(c.items[pick]) for c, pick in zip(self.choices, combination.picks, strict=True)}

    def size(self) -> str:
        """`3 x 2 = 6 combinations`, or `3 combinations` for one choice."""
        count = plural(math.prod(len(c.items) for c in self.choices), "combination")
        sizes = " x ".join(str(len(c.items)) for c in self.choices)
        return count if len(self.choices) == 1 else f"{sizes} = {count}"


def filled(text: str, choices: Sequence[SweepChoice], picks: Sequence[int], source: str) -> str:
    """`text` (the spec file as read) with each choice replaced by its picked item as written in
    `source` (the text `parse` read: without a leading byte-order mark, positions otherwise the same)."""
    shift = len(text) - len(source)  # 1 for a leading byte-order mark, else 0
    out, at = [], 0
    for choice, pick in sorted(zip(choices, picks, strict=True), key=lambda pair: pair[0].span.start):
        start, end = choice.span.start + shift, choice.span.end + shift
        out += [text[at:start], choice.text(pick, source)]
        at = end
    return "".join(out) + text[at:]


def one_network(program: Program, what: str, networks_alike: bool = False) -> None:
    """Refuse a sweep where `what` (`nqa export`, `train`) needs one spec; with `networks_alike`,
    only a sweep whose combinations build different networks (a layer's setting varies)."""
    sweep = program.sweep
    if sweep is None or (networks_alike and all(c.spec.layers == program.spec.layers for c in sweep.combinations)):
        return
    varies = "builds a different network in each of its" if networks_alike else "is a sweep of"
    raise SpecError(Diagnostic(
        f"{what} takes one spec, and this one {varies} {sweep.size()}", sweep.choices[0].span, "a choice",
        (*(Label(c.span, "a choice") for c in sweep.choices[1:]),),
        hint="write one value in place of each `choice(...)`; `nqa run SPEC --best best.nqa` trains them all "
             "and writes the best so", code=codes.SWEEP_NOT_HERE), program.source, program.filename)
