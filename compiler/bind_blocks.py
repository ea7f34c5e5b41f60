"""Blocks while binding: the layers in braces, named blocks, and where each is used.

In: the top-level statements (to know every `block NAME { ... }` defined, in order)
and, one at a time, statements to bind as layers. Out: a `Bound` whose `body` holds
the bound layers of its braces (for a named block's use, the block's own, so an
error inside it points at the text inside the block), or the diagnostics: layers
in braces after a statement that takes none, a `repeat` or `residual` without
braces or with nothing in them, a setting inside braces, a block used before it
is defined or inside itself, defined twice or named like a statement, and —
as a warning — a block never used.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from spec_lang import ast, codes
from spec_lang.braces import MAX_DEPTH
from spec_lang.errors import Diagnostic, Label

from .layers import Layer
from .layers.blocks import BlockUse, Container
from .messages import shorten, shown
from .registry import statement_names
from .statement import Bound

Binder = Callable[[ast.Statement], "Bound | list[Diagnostic]"]
BLOCK_EXAMPLE = "block stem { conv2d ->16 kernel=3; relu }"


@dataclass
class Definition:
    statement: ast.Statement
    name: str
    body: tuple[Bound, ...] | None = None  # None until bound, or when its layers have errors
    used: bool = False
    depth: int = 1  # blocks inside blocks, uses counted: `block b { a }` is one deeper than `a`


@dataclass
class Scope:
    """The named blocks: every one the file defines, and which are defined so far."""

    binder: Binder
    later: dict[str, ast.Statement] = field(default_factory=dict)  # every definition, by name (the first)
    defined: dict[str, Definition] = field(default_factory=dict)
    within: list[str] = field(default_factory=list)  # the blocks whose layers are being bound
    gaps: set[int] = field(default_factory=set)  # ids of failed statements that stand for layers
    used_early: set[str] = field(default_factory=set)  # blocks used before their definition (said once)

    @classmethod
    def of(cls, statements: tuple[ast.Statement, ...], binder: Binder) -> Scope:
        scope = cls(binder)
        for stmt in statements:
            name = _block_name(stmt)
            if name is not None and name not in statement_names():
                scope.later.setdefault(name, stmt)
        return scope

    def define(self, stmt: ast.Statement) -> list[Diagnostic]:
        """`block NAME { ... }`: the name checked, the layers bound once for every use."""
        name = _block_name(stmt)
        if name is None:
            return [Diagnostic("`block` needs a name, then its layers in braces", stmt.name_span, "no name",
                               hint=f"e.g. `{BLOCK_EXAMPLE}`, then use it as a layer: `stem`", code=codes.BLOCK_NAME)]
        name_span = stmt.args[0].span
        if len(stmt.args) > 1:
            return [Diagnostic(f"unexpected argument {shown(stmt.args[1])} to `block {shorten(name)}`",
                               stmt.args[1].span, "not expected here",
                               hint=f"a block has a name and its layers in braces: `{BLOCK_EXAMPLE}`",
                               code=codes.UNEXPECTED_ARGUMENT)]
        if name in statement_names():
            return [Diagnostic(f"a block cannot be named `{name}`: that is a statement", name_span,
                               "the name of a statement", hint="give the block a name of its own, e.g. `stem`",
                               code=codes.BLOCK_NAME)]
        if name in self.defined:
            first = self.defined[name].statement
            return [Diagnostic(f"block `{name}` is defined twice", name_span, "defined again here",
                               (Label(first.args[0].span, "first defined here"),),
                               hint="give the second block another name, or remove one", code=codes.BLOCK_TWICE)]
        if self.within:
            return [Diagnostic("a block is defined at the top of the file, not inside braces", stmt.name_span,
                               "inside another block", hint="move this definition out, before the block using it",
                               code=codes.BLOCK_PLACE)]
        definition = self.defined[name] = Definition(stmt, name)
        if stmt.body is None:
            return [Diagnostic(f"block `{name}` has no layers: they go in braces", stmt.span, "no braces",
                               hint=f"e.g. `{BLOCK_EXAMPLE}`", code=codes.NEEDS_BRACES)]
        self.within.append(name)
        found = self.bind_body(stmt, name)
        self.within.pop()
        if isinstance(found, list):
            return found
        definition.depth = 1 + max((_depth(b, self.defined) for b in found), default=0)
        if definition.depth > MAX_DEPTH:
            return [Diagnostic(f"block `{name}` nests blocks more than {MAX_DEPTH} deep, counting the blocks "
                               "it uses", name_span, "too deep",
                               hint="use fewer blocks inside blocks: one block may hold many layers",
                               code=codes.NESTED_TOO_DEEP)]
        definition.body = found
        return []

    def bind_layer(self, stmt: ast.Statement, inside: str = "") -> Bound | list[Diagnostic]:
        """A statement where a layer goes; `inside`: the block holding it ("" at the top)."""
        if stmt.name in self.defined or stmt.name in self.later:
            return self._use(stmt)
        if stmt.name == "block":
            return self.define(stmt) or [Diagnostic(
                "a block is defined at the top of the file, not inside braces", stmt.name_span,
                "inside another block", hint="move this definition out, before the block using it",
                code=codes.BLOCK_PLACE)]
        times = next((arg for arg in stmt.args if isinstance(arg, ast.Times)), None)
        if times is not None:
            return [Diagnostic(f"`*` repeats a named block, and `{shorten(stmt.name)}` is not one", times.span,
                               "not a block", hint=f"to repeat layers, write `repeat {times.count.text} "
                                                   f"{{ {_without_times(stmt)} }}`", code=codes.NOT_A_BLOCK)]
        found = self.binder(stmt)
        if isinstance(found, list):
            return found
        if inside and not isinstance(found.model, Layer):
            return [Diagnostic(f"`{stmt.name}` is a setting: only layers go inside `{inside}`'s braces",
                               stmt.name_span, "not a layer", hint=f"move `{stmt.name}` out of the braces",
                               code=codes.SETTING_IN_BLOCK)]
        if isinstance(found.model, Container):
            if stmt.body is None:
                example = type(found.model).example
                return [Diagnostic(f"`{stmt.name}` needs its layers in braces", stmt.span, "no braces",
                                   hint=f"e.g. `{example}`", code=codes.NEEDS_BRACES)]
            body = self.bind_body(stmt, stmt.name)
            if isinstance(body, list):
                self.gaps.add(id(stmt))
                return body
            return Bound(found.model, stmt, found.spans, body)
        if stmt.body is not None:
            return [Diagnostic(f"`{stmt.name}` takes no layers in braces", stmt.body_span, "not a block",
                               hint="braces hold the layers of `repeat 3 { ... }`, `residual { ... }` "
                                    "or `block NAME { ... }`", code=codes.BRACES_NOT_TAKEN)]
        return found

    def bind_body(self, stmt: ast.Statement, inside: str) -> tuple[Bound, ...] | list[Diagnostic]:
        body = stmt.body or ()
        if not body:
            return [Diagnostic(f"`{inside}` has no layers in its braces", stmt.body_span, "empty",
                               hint="put at least one layer inside, e.g. `{ linear ->64; relu }`",
                               code=codes.EMPTY_BLOCK)]
        problems: list[Diagnostic] = []
        bound: list[Bound] = []
        for inner in body:
            found = self.bind_layer(inner, inside)
            if isinstance(found, list):
                problems += found
            else:
                bound.append(found)
        return problems or tuple(bound)

    def _use(self, stmt: ast.Statement) -> Bound | list[Diagnostic]:
        name = stmt.name
        if name in self.within:
            return [Diagnostic(f"block `{name}` uses itself", stmt.name_span, "inside its own definition",
                               hint="a block cannot hold itself: use `repeat N { ... }` to repeat layers",
                               code=codes.BLOCK_ITSELF)]
        definition = self.defined.get(name)
        if definition is None:
            first = self.later[name]
            self.gaps.add(id(stmt))
            self.used_early.add(name)
            return [Diagnostic(f"block `{name}` is used before it is defined", stmt.name_span, "used here",
                               (Label(first.args[0].span, "defined later here"),),
                               hint="move the block's definition above its first use", code=codes.BLOCK_ORDER)]
        definition.used = True
        times, problems = 1, []
        for index, arg in enumerate(stmt.args):
            if isinstance(arg, ast.Times) and index == 0 and isinstance(arg.count.value, int) and arg.count.value >= 1:
                times = arg.count.value
            elif isinstance(arg, ast.Times) and index == 0:
                problems.append(Diagnostic(f"a block is used a whole number of times, at least once, "
                                           f"not {arg.count.text}", arg.count.span, "not a count",
                                           hint=f"e.g. `{name} * 2`", code=codes.BLOCK_USE))
            else:
                problems.append(Diagnostic(f"unexpected argument {shown(arg)} to block `{name}`", arg.span,
                                           "not expected here",
                                           hint=f"a block is used by its name, `{name}`, or `{name} * 2`",
                                           code=codes.BLOCK_USE))
        if stmt.body is not None:
            problems.append(Diagnostic(f"block `{name}` is used here, not defined", stmt.body_span,
                                       "layers in braces", hint=f"define blocks with `block {name} {{ ... }}`",
                                       code=codes.BLOCK_USE))
        if problems or definition.body is None:
            self.gaps.add(id(stmt))
            return problems  # a block whose own layers have errors: reported once, at its definition
        spans = {"count": stmt.args[0].span} if stmt.args else {}
        return Bound(BlockUse(name=name, count=times), stmt, spans, definition.body)

    def unused(self) -> list[Diagnostic]:
        return [Diagnostic(f"block `{name}` is never used", d.statement.args[0].span, "defined here",
                           hint=f"use it as a layer, `{name}`, or remove it", severity="warning",
                           code=codes.UNUSED_BLOCK)
                for name, d in self.defined.items() if not d.used and name not in self.used_early]


def _block_name(stmt: ast.Statement) -> str | None:
    """The name of `block NAME { ... }`, if the statement is one with a name."""
    if stmt.name != "block" or not stmt.args or not isinstance(stmt.args[0], ast.Word):
        return None
    return stmt.args[0].name


def _without_times(stmt: ast.Statement) -> str:
    """The statement as written, without its `* N`: `linear ->4`."""
    kept = [shown(arg).strip("`") for arg in stmt.args if not isinstance(arg, ast.Times)]
    return shorten(" ".join([stmt.name, *kept]))


def _depth(bound: Bound, defined: dict[str, Definition]) -> int:
    """How deep blocks nest in a bound layer: 0 for a plain layer, a named block's own depth for its use."""
    if isinstance(bound.model, BlockUse):
        return defined[bound.model.name].depth
    if isinstance(bound.model, Container):
        return 1 + max((_depth(b, defined) for b in bound.body), default=0)
    return 0
