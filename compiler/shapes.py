"""The shape pass: the type flowing through the layer list, folded layer by layer.

In: the bound layer statements, where the input type comes from, and the
limits. Out: the layers with every size they read filled in, and a
diagnostic for each layer that cannot take what flows into it (the layer's
own `Fault`, pointing at the field at fault and at the place the type came
from), each size over the limit, and the layer that pushes the parameter count
over the limit. After a fault the pass goes on as if the layer's own statement
were right, so one mistake is reported once, at its cause. Nothing here knows
any layer or field by name: each layer says what it takes and gives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from spec_lang import ast
from spec_lang.errors import Diagnostic, Label

from .layers import Layer
from .layers.base import Fault
from .limits import BYTES_PER_PARAMETER, Limits, human_bytes
from .messages import shown
from .statement import Bound
from .types import TensorType


@dataclass(frozen=True)
class Source:
    """Where the current type came from: a layer, the `input` statement or the data."""

    type: TensorType
    span: ast.Span
    what: str  # "layer" | "input" | "example" | "eval" | "data file"
    statement: ast.Statement
    index: int = -1  # the producing layer's position, for layers
    flattened: str = ""  # when a layer flattened a shape into this vector, that shape: "16x4x4"

    @property
    def width(self) -> int:
        """The values one example holds here."""
        return self.type.values


def statement_text(stmt: ast.Statement) -> str:
    """The statement as written, normalised: `linear 3->1`."""
    parts = [stmt.name] + [shown(arg).strip("`") for arg in stmt.args]
    text = " ".join(parts)
    return text if len(text) <= 60 else text[:57] + "..."


def first_stated_input(layers: list[Bound]) -> Source | None:
    """The input type the first layer's statement implies (`linear 2->3`: `[2]`), if it does.
    Only layers that keep the shape may come before it."""
    for bound in layers:
        layer: Layer = bound.model  # type: ignore[assignment]
        implied = layer.implied_input()
        if implied is not None:
            return Source(implied, bound.span_of(layer.input_field or ""), "layer", bound.statement)
        if not layer.keeps_shape:
            return None
    return None


@dataclass(frozen=True)
class Shapes:
    """What the shape pass found."""

    layers: tuple[Layer, ...]
    types: tuple[TensorType, ...]  # the type each layer gives
    problems: tuple[Diagnostic, ...]
    output: Source  # where the network's output type is set
    input_in_doubt: bool  # the first stated size disagrees or is over the limit
    output_in_doubt: bool  # some type along the way is wrong


def infer_types(layers: list[Bound], start: Source, limits: Limits, gaps: Sequence[int] = ()) -> Shapes:
    """`gaps`: where statements that failed and may have changed the shape stand
    (offsets). Past a gap the type flowing on is unknown until a layer states
    its output, so no fault is reported there; a gap before the first stated
    size puts the input in doubt, one after the last puts the output in doubt."""
    resolved: list[Layer] = []
    types: list[TensorType] = []
    problems: list[Diagnostic] = []
    flow, total, over, first_doubt = start, 0, False, False
    ahead, unsure = sorted(gaps), False
    for index, bound in enumerate(layers):
        layer: Layer = bound.model  # type: ignore[assignment]
        while ahead and ahead[0] < bound.statement.span.start:
            ahead.pop(0)
            unsure = True
        arriving = flow.type
        too_wide = _size_limits(bound, layer, limits)
        problems += too_wide
        found = layer.infer(arriving)
        fault = isinstance(found, Fault)
        if fault and not too_wide and not unsure:
            problems.append(_fault(bound, found, flow, index))  # type: ignore[arg-type]  # a Fault
        if layer.expects() is not None and flow is start:
            first_doubt = bool(problems) or (unsure and start.what == "layer")
        given = layer.recover(arriving) if fault else found
        taken = layer.assumed_input(arriving)
        layer = layer.resolve(taken)
        resolved.append(layer)
        total += 0 if too_wide or given is None else layer.parameter_count(taken)
        if total > limits.max_params and not over:
            over = True
            problems.append(_too_many(bound, total, limits))
        if given is None:  # what flows on is unknown: go on with what arrived, reporting nothing more
            unsure, given = True, arriving
        elif layer.states_output():
            unsure = False  # what follows gets the size it states
        types.append(given)  # type: ignore[arg-type]  # not a Fault here
        if given != arriving or layer.states_output():
            flat = "x".join(map(str, arriving.sizes)) if (
                given.rank == 1 < arriving.rank and given.values == arriving.values) else ""  # type: ignore[union-attr]
            flow = Source(given, _output_span(bound, layer), "layer", bound.statement, index, flat)  # type: ignore[arg-type]
    return Shapes(tuple(resolved), tuple(types), tuple(problems), flow, first_doubt,
                  bool(problems) or unsure or bool(ahead))


def _output_span(bound: Bound, layer: Layer) -> ast.Span:
    """Where a layer states what it gives: its arrow (`2->3`), its output size, or the statement."""
    if "arrow" in bound.spans:
        return bound.spans["arrow"]
    return bound.span_of(layer.output_field or "")


def _fault(bound: Bound, fault: Fault, flow: Source, index: int) -> Diagnostic:
    """A layer's fault as a diagnostic: its field underlined, the source of the type labelled."""
    name = statement_text(bound.statement)
    arriving = fault.arriving or str(flow.type)
    if flow.flattened and arriving == str(flow.type.last):
        arriving = f"{arriving} = {flow.flattened}"
    if flow.what == "layer" and flow.index == index - 1:
        why = f"the layer before it produces {arriving}"
    elif flow.what == "layer":
        why = f"it receives {arriving} from `{statement_text(flow.statement)}`"
    elif flow.what == "input":
        why = (f"the input width is {arriving}" if flow.type.rank == 1 and arriving == str(flow.type.last)
               else f"the input gives {arriving}")
    elif flow.what == "data file":
        why = f"the data file gives {arriving}"
    else:
        why = f"the first {flow.what} has {flow.type.values} values"
    label = "produces" if flow.what == "layer" else "gives"
    return Diagnostic(fault.message.format(name=name, why=why), bound.span_of(fault.field),
                      fault.label or "here", (Label(flow.span, f"{label} {arriving}"),), hint=fault.hint)


def _size_limits(bound: Bound, layer: Layer, limits: Limits) -> list[Diagnostic]:
    """One diagnostic for a layer with a size over the limit, saying what it would cost."""
    wide = [(field, getattr(layer, field)) for field in layer.size_fields
            if field in bound.spans and (getattr(layer, field, None) or 0) > limits.max_width]
    if not wide:
        return []
    (field, value), *others = wide
    stated = layer.implied_input()
    params = layer.parameter_count(stated) if stated is not None else 0
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
