"""Checking a sweep: every combination of its choices, each as an ordinary spec.

In: a parsed spec holding `choice(...)` values, and what `check` checks a spec
with (the source, the options, the problems the parser found, and the check
itself, `check_tree`). Out: a `Program` whose `spec` is the first combination's
and whose `sweep` holds every combination's checked spec, or a `SpecError`
with everything wrong: choices written wrong (`sweep.find_choices`), a choice in
a place that cannot vary (a width, the data, the seed: each statement's model
says which of its fields may vary, `sweepable`, and why the others may not), more
combinations than `max_combinations`, and what checking each combination finds,
once per place: an item that does not fit is pointed at, as it keeps its span.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from spec_lang import ast, codes
from spec_lang.errors import Diagnostic, Label, SpecError

from .bind_all import bind_statement
from .model import Program
from .registry import lookup
from .statement import Bound, StatementModel
from .sweep import Combination, Site, Sweep, SweepChoice, find_choices, substitute

if TYPE_CHECKING:
    from .check import Options

CheckTree = Callable[..., Program]
Key = Diagnostic  # without its notes: the same problem, found in several combinations, is said once


def check_sweep(tree: ast.Spec, source: str, filename: str, options: Options, vector_problems: list[Diagnostic],
                bad: list[ast.Statement], check_tree: CheckTree) -> Program:
    options = replace(options, memo={})
    found = find_choices(tree)
    left_out = bad + found.bad
    clean = _without(tree, left_out)
    sites = find_choices(clean).sites
    fields = [_field(site.statement(clean), site, [s for s in sites if (s.index, s.path) == (site.index, site.path)])
              for site in sites]  # each with the choices of its own statement
    misplaced = [(site, problem) for site, (_, problem) in zip(sites, fields, strict=True) if problem is not None]
    problems = vector_problems + found.problems + [problem for _, problem in misplaced]
    too_many = _over_limit(sites, options.limits.max_combinations)
    problems += [too_many] if too_many else []
    if any(p.severity == "error" for p in problems) or not sites:
        # the rest checked with each choice's first value, without the statements holding one misplaced
        left_out += [clean.statements[site.index] for site, _ in misplaced]
        rest = _without(clean, left_out)
        kept = find_choices(rest).sites
        check_tree(substitute(rest, kept, [0] * len(kept)), source, filename, options, problems, left_out)
        raise SpecError(problems)  # not reached: `check_tree` raises the errors among `problems`
    errors: dict[Key, tuple[Diagnostic, list[tuple[int, ...]]]] = {}
    warnings: dict[Key, Diagnostic] = {}
    combinations, first = [], None
    for picks in itertools.product(*(range(len(site.choice.items)) for site in sites)):
        try:
            program = check_tree(substitute(clean, sites, picks), source, filename, options, [], [])
        except SpecError as err:
            for d in err.diagnostics:
                if d.severity == "error":
                    errors.setdefault(_key(d), (d, []))[1].append(picks)
            continue
        first = first or program
        warnings.update((_key(d), d) for d in program.warnings)
        combinations.append(Combination(tuple(picks), program.spec))
    if errors or first is None:
        raise SpecError([_with_culprits(d, failed, sites) for d, failed in errors.values()])
    choices = tuple(SweepChoice(label, site.statement(clean).name, field or "", site.choice.span,
                                site.choice.items)
                    for site, (field, _), label in zip(sites, fields, _labels(clean, sites, fields), strict=True))
    return replace(first, warnings=tuple(sorted(warnings.values(), key=lambda d: d.position_key)),
                   sweep=Sweep(choices, tuple(combinations)))


def _with_culprits(diagnostic: Diagnostic, failed: list[tuple[int, ...]], sites: list[Site]) -> Diagnostic:
    """An error found in some combinations only, away from the choices (`nesterov` with
    `momentum=choice(0, 0.9)`), with the items it comes with underlined too."""
    span = diagnostic.span
    if span is None or any(s.choice.span.start <= span.start < s.choice.span.end for s in sites):
        return diagnostic
    notes = []
    for n, site in enumerate(sites):
        seen = sorted({picks[n] for picks in failed})
        if len(seen) < len(site.choice.items):
            notes += [Label(site.choice.items[pick].span, "with this value") for pick in seen]
    return replace(diagnostic, notes=diagnostic.notes + tuple(notes)) if notes else diagnostic


def _key(diagnostic: Diagnostic) -> Key:
    """The diagnostic as it stands (its code first of all), less the notes that differ between combinations."""
    return replace(diagnostic, notes=())


def _without(tree: ast.Spec, left_out: list[ast.Statement]) -> ast.Spec:
    ids = {id(stmt) for stmt in left_out}
    return ast.Spec(tuple(stmt for stmt in tree.statements if id(stmt) not in ids)) if ids else tree


def _field(stmt: ast.Statement, site: Site, here: list[Site]) -> tuple[str | None, Diagnostic | None]:
    """The field of the statement's model the choice sets, and why it cannot vary (None if it
    may). (None, None) where the statement itself is wrong: checking it says so."""
    entry = lookup(stmt.name)
    if isinstance(entry, dict) and stmt.args and stmt.args[0] is site.choice:
        return None, Diagnostic(f"the {stmt.name} cannot vary in a sweep", site.choice.span, "cannot vary",
                                hint=f"every combination of a sweep uses one {stmt.name}: write one spec for each, "
                                     f"or vary its settings, e.g. `{stmt.name} {_member_example(entry)}`",
                                code=codes.CANNOT_VARY)
    alone = [replace(s, index=0, path=()) for s in here]  # the statement's choices (`here`, this one among them)
    for pick in range(len(site.choice.items)):  # the first item that binds tells which field it fills
        picks = [pick if s is site else 0 for s in here]
        bound = bind_statement(substitute(ast.Spec((stmt,)), alone, picks).statements[0])
        if isinstance(bound, Bound):
            break
    else:
        return None, None
    item = site.choice.items[pick]
    if site.key is not None:
        field: str | None = site.key
    else:
        field = next((name for name, span in bound.spans.items() if span == item.span), None)
    cls = type(bound.model)
    reason = cls.sweep_problem(field) if field is not None else (
        f"`{stmt.name}` takes no value that varies here; a sweep varies settings, e.g. `lr=choice(0.01, 0.1)`")
    if reason is None:
        return field, None
    what = f"the {cls.title_of(field)}" if field is not None else "this value"
    return field, Diagnostic(f"{what} cannot vary in a sweep", site.choice.span, "cannot vary", hint=reason,
                             code=codes.CANNOT_VARY)


def _member_example(members: dict[str, type[StatementModel]]) -> str:
    """A member of a family with one of its number settings as a choice: `sgd lr=choice(...)`."""
    for keyword, cls in members.items():
        for name, info in cls.model_fields.items():
            if info.annotation is float and info.default is not None and name != "kind":
                return f"{keyword} {name}=choice({info.default:g}, {info.default * 2:g})"
    return f"{next(iter(members))} ..."


def _over_limit(sites: list[Site], limit: int) -> Diagnostic | None:
    sizes = [len(site.choice.items) for site in sites]
    count = math.prod(sizes)
    if count <= limit:
        return None
    at = next(n for n in range(len(sizes)) if math.prod(sizes[:n + 1]) > limit)  # the choice taking it past
    notes = tuple(Label(site.choice.span, f"{size} values") for n, (site, size) in enumerate(zip(sites, sizes,
                                                                                                 strict=True))
                  if n != at)
    written = " x ".join(str(size) for size in sizes)
    return Diagnostic(f"this sweep has {count:,} combinations ({written}), over the limit of {limit:,}",
                      sites[at].choice.span, f"{sizes[at]} values", notes,
                      hint="try fewer values, or raise the limit with --max-combinations",
                      code=codes.TOO_MANY_COMBINATIONS)


def _labels(tree: ast.Spec, sites: list[Site], fields: list[tuple[str | None, Diagnostic | None]]) -> list[str]:
    """What reports call each choice: its option's name (`lr`) or its statement's (`batch`); where two
    are alike, the statement and field (`batch_norm momentum`); where those are too, with the line."""
    plain = [site.key or site.statement(tree).name for site in sites]
    full = [f"{site.statement(tree).name} {field or site.key or ''}".strip()
            for site, (field, _) in zip(sites, fields, strict=True)]
    labels = []
    for n, site in enumerate(sites):
        if plain.count(plain[n]) == 1:
            labels.append(plain[n])
        elif full.count(full[n]) == 1:
            labels.append(full[n])
        else:
            labels.append(f"{full[n]} (line {site.choice.span.line})")
    return labels
