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

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from spec_lang import ast, codes
from spec_lang.errors import Diagnostic, Fix, Label

from .layers import Layer
from .layers.base import Fault, inferred
from .layers.blocks import Container, Residual
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
    for bound in leaf_bounds(layers, once=True):  # a copy of a block states what its first copy does
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
    fold = _Fold(start, limits, sorted(gaps))
    resolved, types, flow = fold.run(layers, start, top=True)
    problems = fold.problems
    return Shapes(tuple(resolved), tuple(types), tuple(problems), flow, fold.first_doubt,
                  bool(problems) or fold.unsure or bool(fold.ahead))


class _Fold:
    """The pass's state as it goes through the layers and into blocks: the problems, the parameters so far."""

    def __init__(self, start: Source, limits: Limits, ahead: list[int]) -> None:
        self.start, self.limits, self.ahead = start, limits, ahead
        self.problems: list[Diagnostic] = []
        self.total, self.over, self.first_doubt, self.unsure = 0, False, False, False
        self.count = 0  # layers gone through, blocks counted out: the index of the next one

    def run(self, layers: Sequence[Bound], flow: Source, top: bool = False
            ) -> tuple[list[Layer], list[TensorType], Source]:
        resolved: list[Layer] = []
        types: list[TensorType] = []
        for bound in layers:
            while top and self.ahead and self.ahead[0] < bound.statement.span.start:
                self.ahead.pop(0)
                self.unsure = True
            if isinstance(bound.model, Container):
                layer, flow = self.block(bound, flow)
            else:
                layer, flow = self.leaf(bound, flow)
            resolved.append(layer)
            types.append(flow.type)
        return resolved, types, flow

    def block(self, bound: Bound, flow: Source) -> tuple[Layer, Source]:
        container: Container = bound.model  # type: ignore[assignment]
        arriving, unsure = flow, self.unsure
        inner, _, flow = self.run(container.copies(bound.body), flow)
        resolved = container.model_copy(update={"layers": tuple(inner)})
        if not isinstance(container, Residual):
            return resolved, flow
        given = resolved.body_output(arriving.type)
        if (given.sizes != arriving.type.sizes or given.dtype != arriving.type.dtype) and not (unsure or self.unsure):
            last = bound.body[-1].statement
            self.problems.append(Diagnostic(
                f"`residual` adds its input, {arriving.type}, to what its layers give, {given}: "
                "the shapes must be the same", last.span, f"gives {given}",
                (Label(bound.statement.name_span, f"takes {arriving.type}"),),
                hint=f"the layers inside must give back the shape they take, {arriving.type}",
                code=codes.RESIDUAL_SHAPE))
        return resolved, Source(arriving.type, bound.statement.name_span, "layer", bound.statement, self.count - 1)

    def _said_at(self, span: ast.Span) -> bool:
        """Whether a fault is reported at `span` already: a layer in a block is at fault in its first copy."""
        return any(problem.span == span for problem in self.problems)

    def leaf(self, bound: Bound, flow: Source) -> tuple[Layer, Source]:
        layer: Layer = bound.model  # type: ignore[assignment]
        index, limits = self.count, self.limits
        self.count += 1
        arriving = flow.type
        too_wide = _size_limits(bound, layer, limits) if layer.size_fields else []
        if too_wide:
            self.problems += too_wide
        found = inferred(layer, arriving)
        fault = isinstance(found, Fault)
        if fault and not too_wide and not self.unsure and not self._said_at(bound.span_of(found.field)):  # type: ignore[union-attr]
            self.problems.append(_fault(bound, found, flow, index))  # type: ignore[arg-type]  # a Fault
        if flow is self.start and layer.expects() is not None:
            self.first_doubt = bool(self.problems) or (self.unsure and self.start.what == "layer")
        given = layer.recover(arriving) if fault else found
        taken = layer.assumed_input(arriving)
        layer = layer.resolve(taken)
        self.total += 0 if too_wide or given is None else layer.parameter_count(taken)
        if self.total > limits.max_params and not self.over:
            self.over = True
            self.problems.append(_too_many(bound, self.total, limits))
        if given is None:  # what flows on is unknown: go on with what arrived, reporting nothing more
            self.unsure, given = True, arriving
        elif layer.states_output():
            self.unsure = False  # what follows gets the size it states
        if (given is not arriving and given != arriving) or layer.states_output():
            flat = "x".join(map(str, arriving.sizes)) if (
                given.rank == 1 < arriving.rank and given.values == arriving.values) else ""  # type: ignore[union-attr]
            flow = Source(given, _output_span(bound, layer), "layer", bound.statement, index, flat)  # type: ignore[arg-type]
        return layer, flow


def leaf_bounds(layers: Sequence[Bound], once: bool = False) -> Iterator[Bound]:
    """The layer statements in the order data goes through them, blocks counted out, one at a
    time (a `repeat 1000000000` is never made into a list); `once`: each block's layers once."""
    for bound in layers:
        if isinstance(bound.model, Container):
            for _ in range(1 if once else bound.model.times()):
                yield from leaf_bounds(bound.body, once)
        else:
            yield bound


def path_spans(layers: Sequence[Bound], prefix: str = "") -> dict[str, ast.Span]:
    """Each layer's module path (`1`, `1.0`, as torch names them) to the statement that made it."""
    found: dict[str, ast.Span] = {}
    for index, bound in enumerate(layers):
        path = f"{prefix}{index}"
        found[path] = bound.statement.span
        if isinstance(bound.model, Container):
            found.update(path_spans(bound.model.copies(bound.body), path + "."))
    return found


def layer_count(layers: Sequence[Bound]) -> int:
    """How many layers the statements make, blocks counted out (without counting them out one by one)."""
    total = 0
    for bound in layers:
        if isinstance(bound.model, Container):
            total += layer_count(bound.body) * bound.model.times()
        else:
            total += 1
    return total


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
    if flow.what == "layer" and flow.statement is bound.statement:  # a block's copy after its first
        why = f"its copy before it in the block produces {arriving}"
    elif flow.what == "layer" and flow.index == index - 1:
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
    hint, fix = fault.hint, fault.fix
    if flow.what == "layer" and flow.statement is bound.statement:
        hint = ("each copy takes what the copy before it gives: make the block give back the size it takes, "
                "or leave the size out to infer it")
        fix = None
    return Diagnostic(fault.message.format(name=name, why=why), bound.span_of(fault.field),
                      fault.label or "here", (Label(flow.span, f"{label} {arriving}"),), hint=hint, code=fault.code,
                      fix=Fix(bound.spans[fault.field], *fix) if fix and fault.field in bound.spans else None)


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
                       hint="use a smaller width, or raise the limit with --max-width", code=codes.TOO_WIDE)]


def _too_many(bound: Bound, total: int, limits: Limits) -> Diagnostic:
    size = human_bytes(total * BYTES_PER_PARAMETER)
    return Diagnostic(
        f"the network would have {total:,} parameters ({size}), over the limit of {limits.max_params:,}",
        bound.statement.span, f"brings the total to {total:,}",
        hint="make the layers narrower, or raise the limit with --max-params", code=codes.TOO_MANY_PARAMETERS)
