"""What one training step holds besides the parameters: every layer's output for
every row of the batch (kept for the backward pass), checked against a limit
before anything is allocated.

In: the checked spec, the number of training rows and the limits. Out: a
`Diagnostic` when the rows of one step times the values a layer chain makes per
example exceed `max_activations`, else None. No torch here.
"""

from __future__ import annotations

from spec_lang import ast
from spec_lang.errors import Diagnostic

from .data_rules import rows_per_step, smallest_batch
from .limits import BYTES_PER_PARAMETER, Limits, human_bytes
from .model import CheckedSpec
from .shapes import statement_text


def per_example(spec: CheckedSpec) -> int:
    """Values one example makes on its way through the network: its input and each layer's output."""
    return sum(t.values for t in spec.types())


def batch_problems(spec: CheckedSpec, rows: int, statements: tuple[ast.Statement, ...]) -> list[Diagnostic]:
    """Layers that cannot train on the smallest batch of an epoch (`batch_norm` on one row)."""
    smallest = smallest_batch(rows, spec.held_out, spec.batch)
    found = []
    for layer, t, statement in zip(spec.layers, spec.types(), statements, strict=False):
        fault = layer.batch_problem(t, smallest)
        if fault is not None:
            found.append(Diagnostic(fault.message.format(name=statement_text(statement), why=""), statement.span,
                                    fault.label, hint=fault.hint))
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
        hint="train in mini-batches (e.g. `batch 64`), narrow the layers, or raise the limit with --max-activations")
