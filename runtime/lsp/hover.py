"""What an editor shows on hover over a spec.

In: the document's text, its path (data files are read relative to its
folder), an LSP `Position`, and optionally the `Program` that `check` gave for
that text (checked here when not given). Out: an LSP `Hover` with markdown, or
None where there is nothing to say:

- on a layer statement, what it compiles to (its torch module, as
  `--emit python` writes it), the shape flowing in and out, its parameters and
  its FLOPs (multiply-accumulates per example, as `nqa compile` counts them);
- on any other statement, or a layer in a spec with errors, what it is and its options;
- on an option (`lr=0.1`, `stride=2`, a word such as `nobias`), its meaning,
  default and values (`docs.py`);
- on the file name of `data` or `test`, the file's rows, columns and class labels (`data_hover.py`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from lsprotocol.types import Hover, MarkupContent, MarkupKind, Position

from compiler.check import check
from compiler.layers.blocks import Container, Step
from compiler.model import Program
from compiler.registry import FAMILIES
from spec_lang import ast
from spec_lang.errors import SpecError

from .data_hover import data_file_doc
from .docs import model_of, option_doc, statement_doc
from .outline import tree_of
from .positions import UTF16, Lines

FLOPS_MEANING = "multiply-accumulates for one example, as `nqa compile` counts them"


def hover(text: str, path: Path, position: Position, program: Program | None = None,
          encoding: str = UTF16) -> Hover | None:
    """The hover for `position` in `text` (the document at `path`; positions counted in `encoding`)."""
    tree = tree_of(text)
    if tree is None:
        return None
    lines = Lines(text, encoding)
    stmt = statement_at(tree.statements, lines, position)
    if stmt is None:
        return None
    member = _member(stmt)
    found = _on_argument(stmt, member, lines, position, path, program)
    if found is not None:
        span, markdown = found
    else:
        span = stmt.name_span if lines.span_holds(stmt.name_span, position) else stmt.span
        markdown = _statement_markdown(stmt, member, text, path, program)
    if not markdown:
        return None
    return Hover(MarkupContent(MarkupKind.Markdown, markdown), lines.range_of(span))


def statement_at(statements: Iterable[ast.Statement], lines: Lines, position: Position) -> ast.Statement | None:
    """The innermost statement whose text holds `position` (a block's layer rather than the block)."""
    for stmt in statements:
        if lines.span_holds(stmt.span, position):
            inner = statement_at(stmt.body or (), lines, position)
            return inner or stmt
    return None


def _member(stmt: ast.Statement) -> str | None:
    """The word after `optimizer`, `loss`, `schedule` or `init`."""
    if stmt.name in FAMILIES and stmt.args and isinstance(stmt.args[0], ast.Word):
        return stmt.args[0].name
    return None


def _on_argument(stmt: ast.Statement, member: str | None, lines: Lines, position: Position, path: Path,
                 program: Program | None) -> tuple[ast.Span, str] | None:
    """The hover for the argument under `offset`: an option, a word setting one, a data file's name."""
    cls = model_of(stmt.name, member)
    shown = f"{stmt.name} {member}" if member else stmt.name
    for index, arg in enumerate(stmt.args):
        if not lines.span_holds(arg.span, position):
            continue
        if isinstance(arg, ast.Option) and cls is not None and arg.key in cls.model_fields:
            return arg.span, option_doc(cls, arg.key, shown)
        if isinstance(arg, ast.Word) and cls is not None and arg.name in cls.flags:
            return arg.span, option_doc(cls, cls.flags[arg.name][0], shown)
        if isinstance(arg, ast.Word) and index == 0 and member is not None:
            return arg.span, statement_doc(stmt.name, member)
        if isinstance(arg, ast.String) and index == 0 and stmt.name in ("data", "test"):
            return arg.span, data_file_doc(arg.value, stmt.name, path, program or checked(lines.text, path))
    return None


def checked(text: str, path: Path) -> Program | None:
    """The spec checked as `nqa check` checks it, or None when it has errors."""
    try:
        return check(text, filename=str(path), folder=path.parent)
    except SpecError:
        return None


def _statement_markdown(stmt: ast.Statement, member: str | None, text: str, path: Path,
                        program: Program | None) -> str:
    about = statement_doc(stmt.name, member)
    cls = model_of(stmt.name, member)
    if cls is None and stmt.name not in FAMILIES:  # a named block's use, or a name nqa does not know
        about = ""
    steps = _steps_of(stmt, program or checked(text, path))
    if not steps:
        return about
    return _layer_markdown(steps) + ("\n\n---\n\n" + about if about else "")


def _steps_of(stmt: ast.Statement, program: Program | None) -> list[Step]:
    """The network's layers this statement made (a block's layers, used twice, made two)."""
    if program is None:
        return []
    return [step for step in program.spec.steps() if program.path_spans.get(step.path) == stmt.span]


def _layer_markdown(steps: list[Step]) -> str:
    step = steps[0]
    layer, arriving = step.layer, step.arriving
    module = layer.source(arriving) if isinstance(layer, Container) else layer.call(arriving).source()
    parameters, flops = layer.parameter_count(arriving), layer.flops(arriving)
    lines = [f"```python\n{module}\n```",
             f"`{arriving}` → `{step.given}`",
             f"{parameters:,} parameters · {flops:,} FLOPs ({FLOPS_MEANING})"]
    init = getattr(layer, "init", None)
    if init is not None:
        lines.append(f"weights start by `init {init.kind}`")
    if len(steps) > 1:
        uses = ", ".join(f"`{s.arriving}` → `{s.given}`" for s in steps[1:])
        lines.append(f"used {len(steps)} times: shown is module `{step.path}`; the others take {uses}")
    return "\n\n".join(lines)
