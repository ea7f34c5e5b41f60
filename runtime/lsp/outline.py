"""The layers and blocks of a spec: document symbols, and where a named block is defined.

In: a document's text and `Lines`. Out: `symbols()`, a `DocumentSymbol` for
each layer and block in source order (a block's layers as its children: a
`block NAME { ... }` definition, a `repeat` or `residual`); `definition()`,
the `Location` of the `block NAME` that a use of `NAME` under the cursor
refers to. Both work from the syntax tree, so they answer for a spec with
errors too (a statement with a syntax error is left out). Never imports torch.
"""

from __future__ import annotations

from lsprotocol import types

from compiler.bind_blocks import _block_name
from compiler.layers import Layer
from compiler.registry import lookup
from compiler.shapes import statement_text
from spec_lang import SpecError, ast
from spec_lang.errors import SyntaxErrors
from spec_lang.parser import parse_lenient

from .positions import Lines


def tree_of(text: str) -> ast.Spec | None:
    """The statements of a text, those with a syntax error left out (None when none could be read)."""
    try:
        return parse_lenient(text)[0]
    except SyntaxErrors as err:
        return err.rest[0] if err.rest is not None else None
    except SpecError:
        return None


def symbols(tree: ast.Spec, lines: Lines) -> list[types.DocumentSymbol]:
    blocks = _definitions(tree)
    return [found for stmt in tree.statements if (found := _symbol(stmt, blocks, lines)) is not None]


def _symbol(stmt: ast.Statement, blocks: dict[str, ast.Statement], lines: Lines) -> types.DocumentSymbol | None:
    name, kind, detail = _kind(stmt, blocks)
    if kind is None:
        return None
    children = [found for inner in stmt.body or () if (found := _symbol(inner, blocks, lines)) is not None]
    selected = stmt.args[0].span if stmt.name == "block" and stmt.args else stmt.name_span
    return types.DocumentSymbol(name=name or stmt.name, kind=kind, range=lines.range_of(stmt.span),
                                selection_range=lines.range_of(selected), detail=detail,
                                children=children or None)


def _kind(stmt: ast.Statement, blocks: dict[str, ast.Statement]) -> tuple[str, types.SymbolKind | None, str]:
    """The symbol's name, kind and detail; no kind for a setting (`epochs`, `data`, ...)."""
    if stmt.name == "block":
        name = _block_name(stmt)
        return name or "block", types.SymbolKind.Class, "block"
    if stmt.name in blocks:
        return statement_text(stmt), types.SymbolKind.Object, "uses a block"
    entry = lookup(stmt.name)
    if isinstance(entry, type) and issubclass(entry, Layer):
        kind = types.SymbolKind.Namespace if stmt.body is not None else types.SymbolKind.Function
        return statement_text(stmt), kind, "layer"
    if entry is None:  # a name nqa does not know: shown where a layer would be, as it may be one misspelt
        return statement_text(stmt), types.SymbolKind.Function, "unknown statement"
    return "", None, ""


def definition(tree: ast.Spec, lines: Lines, uri: str, position: types.Position) -> types.Location | None:
    """Where the named block used (or defined) under `position` is defined."""
    blocks = _definitions(tree)
    for stmt in _walk(tree.statements):
        if stmt.name == "block" and stmt.args and lines.span_holds(stmt.args[0].span, position):
            name = _block_name(stmt)
        elif lines.span_holds(stmt.name_span, position):
            name = stmt.name
        else:
            continue
        target = blocks.get(name or "")
        if target is not None:
            return types.Location(uri=uri, range=lines.range_of(target.args[0].span))
    return None


def _walk(statements: tuple[ast.Statement, ...]):
    for stmt in statements:
        yield stmt
        yield from _walk(stmt.body or ())


def _definitions(tree: ast.Spec) -> dict[str, ast.Statement]:
    """The named blocks defined at the top of the file, the first of each name."""
    found: dict[str, ast.Statement] = {}
    for stmt in tree.statements:
        name = _block_name(stmt)
        if name is not None:
            found.setdefault(name, stmt)
    return found
