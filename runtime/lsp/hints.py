"""Inlay hints: the shape flowing out of each layer and its parameters.

In: a checked `Program` and the document's `Lines`. Out: one `InlayHint` at
the end of each layer statement, `→ [16, 8, 8] · 160 params`, read from the
program's model summary (`CheckedSpec.summary()`, the rows `nqa compile`
prints; nothing is worked out again here). A statement the summary holds more
than once (a layer in a `repeat`, or in a named block used twice) shows its
row once with how many copies are made (`(3 copies)`), or each distinct row; a block's
statement (after its `}`) shows what the block gives; the last layer adds the
network's total. A sweep shows its first combination. Never imports torch.
"""

from __future__ import annotations

from lsprotocol import types

from compiler import LayerInfo, Program
from compiler.messages import plural
from spec_lang.ast import Span

from .positions import Lines

MAX_SHOWN = 3  # distinct rows shown for one statement


def inlay_hints(program: Program, lines: Lines, within: types.Range | None = None) -> list[types.InlayHint]:
    rows = program.spec.summary()
    by_span: dict[Span, list[LayerInfo]] = {}
    for row in rows:
        span = program.path_spans.get(row.path)
        if span is not None:
            by_span.setdefault(span, []).append(row)
    last = program.path_spans.get(str(len(program.spec.layers) - 1))
    found = []
    for span in sorted(by_span, key=lambda s: (s.end_line, s.end_column, s.line, s.column)):
        label = _label(by_span[span])
        if span == last:
            label += f" · total {plural(program.spec.parameter_count, 'param')}"
        at = lines.position(span.end_line, span.end_column)
        if within is not None and not within.start.line <= at.line <= within.end.line:
            continue
        found.append(types.InlayHint(position=at, label=label, kind=types.InlayHintKind.Type, padding_left=True,
                                     tooltip=by_span[span][0].name))
    return found


def _label(rows: list[LayerInfo]) -> str:
    shown = list(dict.fromkeys(_row_text(row) for row in rows))
    if len(shown) == 1:
        return f"→ {shown[0]}" + (f" ({plural(len(rows), 'copy', 'copies')})" if len(rows) > 1 else "")
    more = " …" if len(shown) > MAX_SHOWN else ""
    return "→ " + " | ".join(shown[:MAX_SHOWN]) + more


def _row_text(row: LayerInfo) -> str:
    shape = "[" + ", ".join(str(size) for size in row.output_shape) + "]"
    if row.output_dtype != "float32":
        shape += f" {row.output_dtype}"
    return f"{shape} · {plural(row.parameters, 'param')}"
