"""The shape pass: the width flowing through the layer list, checked layer by layer.

In: the bound layer statements, where the input width comes from, and the
limits. Out: the layers with every input width filled in, and a diagnostic for
each layer whose stated input width differs from what flows into it (naming
both places), each width over the limit, and the layer that pushes the
parameter count over the limit. After a mismatch the pass goes on with the
layer's own stated width, so one mistake is reported once, at its cause.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from spec_lang import ast
from spec_lang.errors import Diagnostic, Label

from .layers import Layer
from .limits import BYTES_PER_PARAMETER, Limits, human_bytes
from .messages import plural, shown
from .statement import Bound


@dataclass(frozen=True)
class Source:
    """Where the current width came from: a layer, the `input` statement or the data."""

    width: int
    span: ast.Span
    what: str  # "layer" | "input" | "example" | "eval"
    statement: ast.Statement
    index: int = -1  # the producing layer's position, for layers


def statement_text(stmt: ast.Statement) -> str:
    """The statement as written, normalised: `linear 3->1`."""
    parts = [stmt.name] + [shown(arg).strip("`") for arg in stmt.args]
    text = " ".join(parts)
    return text if len(text) <= 60 else text[:57] + "..."


def first_stated_width(layers: list[Bound]) -> Source | None:
    """The input width the first width-changing layer states, if any."""
    for bound in layers:
        layer: Layer = bound.model  # type: ignore[assignment]
        if layer.expects() is not None:
            return Source(layer.expects(), bound.span_of("in_features"), "layer",  # type: ignore[arg-type]  # not None
                          bound.statement)
        if layer.states_output():
            return None
    return None


@dataclass(frozen=True)
class Shapes:
    """What the shape pass found."""

    layers: tuple[Layer, ...]
    problems: tuple[Diagnostic, ...]
    output: Source  # where the network's output width is set
    input_in_doubt: bool  # the first stated width disagrees or is over the limit
    output_in_doubt: bool  # some width along the way is wrong


def infer_widths(layers: list[Bound], start: Source, limits: Limits, gaps: Sequence[int] = ()) -> Shapes:
    """`gaps`: where statements that failed and may have been width-setting layers
    stand (offsets). Past a gap the width flowing on is unknown until a layer
    states one, so no mismatch is reported there; a gap before the first stated
    width puts the input in doubt, one after the last puts the output in doubt."""
    resolved: list[Layer] = []
    problems: list[Diagnostic] = []
    flow, total, over, first_doubt = start, 0, False, False
    ahead, unsure = sorted(gaps), False
    for index, bound in enumerate(layers):
        layer: Layer = bound.model  # type: ignore[assignment]
        while ahead and ahead[0] < bound.statement.span.start:
            ahead.pop(0)
            unsure = True
        expected = layer.expects()
        width = flow.width
        too_wide = _width_limits(bound, layer.resolve(width if expected is None else expected), limits)
        problems += too_wide
        if expected is not None and expected != width and not too_wide and not unsure:
            problems.append(_mismatch(bound, expected, flow, index))
        if expected is not None and flow is start:
            first_doubt = bool(problems) or (unsure and start.what == "layer")
        if expected is not None:
            unsure = False  # the layer states the width it takes
        width = width if expected is None else expected
        layer = layer.resolve(width)
        resolved.append(layer)
        total += 0 if too_wide else layer.parameter_count(width)
        if total > limits.max_params and not over:
            over = True
            problems.append(_too_many(bound, total, limits))
        if layer.states_output():
            out_span = bound.spans.get("arrow") or bound.span_of("out_features")
            flow = Source(layer.output_width(width), out_span, "layer", bound.statement, index)
            unsure = False  # and what follows gets the width it states
    return Shapes(tuple(resolved), tuple(problems), flow, first_doubt, bool(problems) or unsure or bool(ahead))


def _mismatch(bound: Bound, expected: int, flow: Source, index: int) -> Diagnostic:
    name = statement_text(bound.statement)
    if flow.what == "layer" and flow.index == index - 1:
        why = f"the layer before it produces {flow.width}"
    elif flow.what == "layer":
        why = f"it receives {flow.width} from `{statement_text(flow.statement)}`"
    elif flow.what == "input":
        why = f"the input width is {flow.width}"
    else:
        why = f"the first {flow.what} has {flow.width} values"
    label = "produces" if flow.what == "layer" else "gives"
    out = bound.model.output_width(expected)  # type: ignore[attr-defined]
    return Diagnostic(
        f"`{name}` expects {plural(expected, 'input')}, but {why}", bound.span_of("in_features"),
        f"expects {expected}", (Label(flow.span, f"{label} {flow.width}"),),
        hint=f"write `linear {flow.width}->{out}`, or `linear ->{out}` to infer the width")


def _width_limits(bound: Bound, layer: Layer, limits: Limits) -> list[Diagnostic]:
    """One diagnostic for a layer with a width over the limit, saying what it would cost."""
    wide = [(field, getattr(layer, field)) for field in ("in_features", "out_features")
            if field in bound.spans and (getattr(layer, field, None) or 0) > limits.max_width]
    if not wide:
        return []
    (field, value), *others = wide
    width = layer.expects() or 0
    params = layer.parameter_count(width)
    cost = (f": `{statement_text(bound.statement)}` alone would have {params:,} parameters "
            f"({human_bytes(params * BYTES_PER_PARAMETER)})" if params else "")
    return [Diagnostic(f"width {value:,} is over the limit of {limits.max_width:,}{cost}", bound.spans[field],
                       "too wide", tuple(Label(bound.spans[f], "too wide") for f, _ in others),
                       hint="use a smaller width, or raise the limit with --max-width")]


def _too_many(bound: Bound, total: int, limits: Limits) -> Diagnostic:
    size = human_bytes(total * BYTES_PER_PARAMETER)
    return Diagnostic(
        f"the network would have {total:,} parameters ({size}), over the limit of {limits.max_params:,}",
        bound.statement.span, f"brings the total to {total:,}",
        hint="make the layers narrower, or raise the limit with --max-params")
