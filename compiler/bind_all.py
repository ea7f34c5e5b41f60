"""From statements to bound models: look each statement up, bind its arguments,
and sort layers from settings.

In: a parsed `Spec`. Out: `Collected` — the bound layers in order, the bound
settings by name (all of them, for `example` and `eval`), and a diagnostic for
every unknown statement, bad argument or setting given twice. An unknown name
that other libraries use (Keras's `Dense`, `binary_crossentropy`) is answered
with nqa's name for it, and a layer nqa does not have yet (`batchnorm`) is
said to be missing rather than matched to a near spelling.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from spec_lang import ast, codes
from spec_lang.errors import Diagnostic, Fix, Label

from .bind_blocks import Scope
from .bind_kept import bind_kept, bound_before
from .layers import Layer
from .layers.blocks import Container
from .messages import shorten, shown
from .registry import FAMILIES, STATEMENTS, layer_classes, lookup, statement_names
from .statement import Bound, StatementModel, bind
from .suggest import closest, did_you_mean, known_as, replacement

# layers other libraries have and nqa does not yet: what they are called, by their names there
NOT_YET = {
    "3-d convolutions": ("conv3d", "convolution3d", "maxpool3d", "avgpool3d"),
    "plain recurrent layers": ("rnn", "simplernn"),
    "attention": ("attention", "multiheadattention", "transformer"),
}


@dataclass
class Collected:
    layers: list[Bound] = field(default_factory=list)
    settings: dict[str, list[Bound]] = field(default_factory=dict)
    problems: list[Diagnostic] = field(default_factory=list)
    failed: set[str] = field(default_factory=set)  # names of statements that did not bind
    failed_statements: list[ast.Statement] = field(default_factory=list)
    gaps: set[int] = field(default_factory=set)  # ids of failed statements that stood for layers (blocks)

    def one(self, name: str) -> Bound | None:
        found = self.settings.get(name)
        return found[0] if found else None

    def all(self, name: str) -> list[Bound]:
        return self.settings.get(name, [])


def collect(spec: ast.Spec, memo: dict[Any, Any] | None = None) -> Collected:
    """`memo` keeps each statement's binding for the next call with the same statement
    (checking a sweep's combinations binds the statements without a choice once)."""
    out = Collected()
    scope = Scope.of(spec.statements, _bind_kept)
    for stmt in spec.statements:
        if stmt.name == "block":
            out.problems += scope.define(stmt)
            continue
        # a statement bound before (a sweep's combination share the statements without a choice) is taken
        # from `memo`, held there so that its id is not reused; not one with braces or naming a block, whose
        # binding depends on the blocks, which a combination may change
        kept = memo.get(("bound", id(stmt))) if memo is not None else None
        # a statement without braces, not naming a block, binds as `bind_kept` binds it: a line
        # kept where it was since the last check is the statement bound then
        same = bound_before(stmt) if stmt.body is None and stmt.name not in scope.later and (
            stmt.name not in scope.defined) else None
        if kept is not None and kept[0] is stmt:
            result = kept[1]
        elif same is not None and not isinstance(same.model, Container):  # a block's needs its braces
            result = same
        else:
            result = scope.bind_layer(stmt)
            if memo is not None and stmt.body is None and stmt.name not in scope.later and isinstance(result, Bound):
                memo[("bound", id(stmt))] = (stmt, result)
        if isinstance(result, list):
            out.problems += result
            out.failed.add(stmt.name)
            out.failed_statements.append(stmt)
        elif isinstance(result.model, Layer):
            out.layers.append(result)
        else:
            _add_setting(out, result)
    out.problems += scope.unused()
    out.gaps = scope.gaps
    return out


def _add_setting(out: Collected, bound: Bound) -> None:
    name = bound.statement.name
    earlier = out.settings.setdefault(name, [])
    if earlier and not type(bound.model).repeatable:
        first = earlier[0].statement
        out.problems.append(Diagnostic(
            f"`{name}` is given twice", bound.statement.span, "given again here",
            (Label(first.span, "first given here"),), hint=f"keep one `{name}` statement",
            code=codes.STATEMENT_TWICE))
        return
    earlier.append(bound)


def _bind_kept(stmt: ast.Statement) -> Bound | list[Diagnostic]:
    """`bind_statement`, taking the model of a statement of the same words bound before."""
    return bind_kept(stmt, bind_statement)


def bind_statement(stmt: ast.Statement) -> Bound | list[Diagnostic]:
    entry = lookup(stmt.name)
    if entry is None:
        return [_unknown_statement(stmt)]
    if isinstance(entry, dict):
        return _bind_member(stmt, entry)
    return bind(entry, stmt, stmt.args, stmt.name)


def _bind_member(stmt: ast.Statement, members: dict[str, type[StatementModel]]) -> Bound | list[Diagnostic]:
    choices = ", ".join(f"`{m}`" for m in members)
    first = stmt.args[0] if stmt.args else None
    if not isinstance(first, ast.Word):
        span = first.span if first is not None else stmt.name_span
        return [Diagnostic(f"`{stmt.name}` needs a name: one of {choices}", span,
                           f"expected {_article(stmt.name)} name", hint=f"e.g. `{_example(stmt.name, members)}`",
                           code=codes.MISSING_VALUE)]
    cls = members.get(first.name)
    if cls is None:
        hint = did_you_mean(first.name, members) or f"choose one of {choices}"
        return [Diagnostic(f"unknown {stmt.name} `{shorten(first.name)}`", first.span,
                           f"not {_article(stmt.name)}", hint=_alias(first.name, members) or hint,
                           code=codes.UNKNOWN_KIND,
                           fix=_member_fix(first, members))]
    return bind(cls, stmt, stmt.args[1:], f"{stmt.name} {first.name}")


def _article(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def _example(family: str, members: dict[str, type[StatementModel]]) -> str:
    cls = next(iter(members.values()))
    return cls.example or f"{family} {cls.keyword}"


def _member_fix(word: ast.Word, members: dict[str, type[StatementModel]]) -> Fix | None:
    """The edit the hint names: the member this name is known as, or the closest one."""
    keyword = known_as(word.name, {keyword: cls.aliases for keyword, cls in members.items()})
    return Fix(word.span, keyword, f"write `{keyword}`") if keyword else replacement(word.name, members, word.span)


def _alias(name: str, members: dict[str, type[StatementModel]]) -> str:
    keyword = known_as(name, {keyword: cls.aliases for keyword, cls in members.items()})
    return f"`{name}` is called `{keyword}` here" if keyword else ""


def _unknown_statement(stmt: ast.Statement) -> Diagnostic:
    for family, members in FAMILIES.items():
        member = stmt.name if stmt.name in members else known_as(
            stmt.name, {keyword: cls.aliases for keyword, cls in members.items()})
        if member:
            return Diagnostic(f"unknown statement `{stmt.name}`", stmt.name_span, "not a statement",
                              hint=f"`{stmt.name}` is {_article(family)}: write `{family} {member}`",
                              code=codes.UNKNOWN_STATEMENT,
                              fix=Fix(stmt.name_span, f"{family} {member}", f"write `{family} {member}`"))
    other = known_as(stmt.name, {keyword: cls.aliases for keyword, cls in STATEMENTS.items()})
    if other:
        written = " ".join([other] + [shown(arg).strip("`") for arg in stmt.args])
        return Diagnostic(f"unknown statement `{stmt.name}`", stmt.name_span, f"called `{other}` here",
                          hint=f"`{stmt.name}` is called `{other}` here: write `{written}`",
                          code=codes.UNKNOWN_STATEMENT,
                          fix=Fix(stmt.name_span, other, f"write `{written}`"))
    missing = known_as(stmt.name, NOT_YET)
    if missing:
        layers = ", ".join(sorted(f"`{cls.keyword}`" for cls in layer_classes()))
        return Diagnostic(f"`{shorten(stmt.name)}` is not available in nqa yet", stmt.name_span,
                          f"no {missing} yet", hint=f"nqa has no {missing} yet; its layers are {layers}",
                          code=codes.NOT_AVAILABLE)
    best = closest(stmt.name, statement_names()) if len(stmt.name) <= 40 else None
    hint = f"did you mean `{best}`?" if best else (
        "statements are " + ", ".join(f"`{n}`" for n in statement_names()))
    return Diagnostic(f"unknown statement `{shorten(stmt.name)}`", stmt.name_span, "not a statement",
                      hint=hint, code=codes.UNKNOWN_STATEMENT,
                      fix=Fix(stmt.name_span, best, f"write `{best}`") if best else None)
