"""What one training step holds besides the parameters: every layer's output for
every row of the batch (kept for the backward pass), checked against limits
before anything is allocated.

In: the checked spec, the number of training rows (when there is data), the
limits and where each value came from. Out: a `Diagnostic` when one example
alone makes more values than `max_example_activations` (at the input or the
layer that pushes the total over), or when the rows of one step times the
values per example exceed `max_activations`; else None. Also the layers that
cannot train on the smallest batch (`batch_problems`). No torch here.
"""

from __future__ import annotations

from collections.abc import Sequence

from spec_lang import ast, codes
from spec_lang.errors import Diagnostic

from .data_rules import rows_per_step, smallest_batch
from .limits import BYTES_PER_PARAMETER, Limits, human_bytes
from .model import CheckedSpec
from .shapes import statement_text

EXAMPLE_FLAG = "--max-example-activations"


def per_example(spec: CheckedSpec) -> int:
    """Values one example makes on its way through the network: its input and each layer's output."""
    return sum(t.values for t in spec.flat()[1])


def example_problem(spec: CheckedSpec, limits: Limits, input_span: ast.Span | None,
                    layer_spans: Sequence[ast.Span]) -> Diagnostic | None:
    """One example's values against `max_example_activations`, summed from the input on: the
    diagnostic points at the input, or at the layer whose output pushes the sum over."""
    limit, total = limits.max_example_activations, 0
    for index, t in enumerate(spec.flat()[1]):
        total += t.values
        if total <= limit:
            continue
        size = human_bytes(total * BYTES_PER_PARAMETER)
        if index == 0:
            return Diagnostic(
                f"one example of {t} is {total:,} values ({size} as float32), over the limit of {limit:,} "
                f"values per example", input_span, f"{total:,} values",
                hint=f"use a smaller input, or raise the limit with {EXAMPLE_FLAG}", code=codes.EXAMPLE_TOO_LARGE)
        span = layer_spans[index - 1] if index - 1 < len(layer_spans) else None
        return Diagnostic(
            f"one example would make {total:,} values by this layer ({size} as float32), over the limit of "
            f"{limit:,} values per example", span, f"gives {t}, {total:,} values so far",
            hint=f"the input and every layer's output count: make them smaller (fewer channels, a stride or a pool "
                 f"earlier), or raise the limit with {EXAMPLE_FLAG}", code=codes.EXAMPLE_TOO_LARGE)
    return None


def batch_problems(spec: CheckedSpec, rows: int, statements: tuple[ast.Statement, ...]) -> list[Diagnostic]:
    """Layers that cannot train on the smallest batch of an epoch (`batch_norm` on one row)."""
    smallest = smallest_batch(rows, spec.held_out, spec.batch)
    found = []
    layers, types = spec.flat()
    for layer, t, statement in zip(layers, types, statements, strict=False):
        fault = layer.batch_problem(t, smallest)
        if fault is not None:
            found.append(Diagnostic(fault.message.format(name=statement_text(statement), why=""), statement.span,
                                    fault.label, hint=fault.hint, code=fault.code))
    return found


def activation_problem(spec: CheckedSpec, rows: int, limits: Limits, span: ast.Span | None) -> Diagnostic | None:
    step = rows_per_step(rows, spec.held_out, spec.batch)
    each = per_example(spec)
    total = step * each
    if total <= limits.max_activations:
        return None
    return Diagnostic(
        f"one step would hold {total:,} activations ({step:,} rows x {each:,} values each, "
        f"{human_bytes(total * BYTES_PER_PARAMETER)} as float32), over the limit of {limits.max_activations:,}",
        span, f"{step:,} rows at once",
        hint="train in mini-batches (e.g. `batch 64`), narrow the layers, or raise the limit with --max-activations",
        code=codes.TOO_MANY_ACTIVATIONS)
