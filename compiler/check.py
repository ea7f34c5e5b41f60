"""Checking a spec before anything runs.

In: spec text, a `pathlib.Path`, or a parsed `Spec`; optional `Limits`.
Out: a `Program` (the frozen `CheckedSpec` plus its source), or a `SpecError`
listing every problem in the file in source order: unknown statements and
options, bad values, settings given twice, widths that do not fit, data that
does not fit the network, sizes over the limits. Never imports torch.
"""

from __future__ import annotations

import os
from pathlib import Path

from spec_lang import ast, parse, read_source
from spec_lang.errors import Diagnostic, Label, SpecError

from .bind_all import Collected, collect
from .limits import Limits
from .model import CheckedSpec, Program
from .messages import shown
from .shapes import Shapes, Source, first_stated_width, infer_widths, statement_text

def check(spec: str | os.PathLike | ast.Spec, *, filename: str | None = None,
          limits: Limits | None = None, require_data: bool = False) -> Program:
    """Parse (if needed) and check a spec; raise `SpecError` with every problem found."""
    if isinstance(spec, os.PathLike):
        filename = filename or str(spec)
        source = read_source(Path(spec))
        tree = parse(source, filename)
    elif isinstance(spec, str):
        source, filename = spec, filename or "<spec>"
        tree = parse(source, filename)
    else:
        source, filename, tree = "", filename or "<spec>", spec
    try:
        return _check_tree(tree, source, filename, limits or Limits(), require_data)
    except SpecError as err:
        raise err.with_source(source, filename) from None


def _check_tree(tree: ast.Spec, source: str, filename: str, limits: Limits,
                require_data: bool) -> Program:
    found = collect(tree)
    problems = list(found.problems)
    if not found.layers:
        if problems:
            raise SpecError(problems)
        problems.append(Diagnostic("this spec has no layers", None,
                                   hint="add a layer, e.g. `linear 2->1`"))
        raise SpecError(problems)
    start = _input_source(found)
    if start is None:
        first = found.layers[0].statement
        problems.append(Diagnostic(
            f"cannot tell how many inputs `{statement_text(first)}` takes", first.span,
            "input width unknown", hint="state it, e.g. `linear 2->3`, or add `input 2`"))
        raise SpecError(problems)
    shapes = infer_widths(found.layers, start, limits)
    problems += shapes.problems
    spec_or_none = _assemble(found, start.width, shapes.layers)
    problems += _check_data(found, spec_or_none, start, shapes)
    problems += _limit_problems(found, limits)
    if require_data and not spec_or_none.examples and spec_or_none.data is None and not (
            found.failed & {"example", "data"}):
        problems.append(Diagnostic(
            "nothing to train on: this spec has no `example` and no `data`", None,
            hint="add a training example, e.g. `example [1, 1] -> [10]`"))
    if problems:
        raise SpecError(problems)
    return Program(spec_or_none, source, filename,
                   tuple(b.statement.span for b in found.layers),
                   found.one("data").statement.span if found.one("data") else None)


def _input_source(found: Collected) -> Source | None:
    stated = found.one("input")
    if stated is not None:
        return Source(stated.model.width, stated.statement.span, "input", stated.statement)
    from_layer = first_stated_width(found.layers)
    if from_layer is not None:
        return from_layer
    for name in ("example", "eval"):
        for bound in found.all(name):
            return Source(len(bound.model.input), bound.span_of("input"), name, bound.statement)
    return None


def _assemble(found: Collected, input_width: int, layers: tuple) -> CheckedSpec:
    def value(name: str, attr: str, default):
        bound = found.one(name)
        return getattr(bound.model, attr) if bound else default

    fields = dict(
        input_width=input_width, layers=layers,
        epochs=value("epochs", "count", 100), seed=value("seed", "value", 0),
        batch=value("batch", "size", None), shuffle=found.one("shuffle") is not None,
        examples=tuple(b.model for b in found.all("example")),
        evals=tuple(b.model.input for b in found.all("eval")),
        data=found.one("data").model if found.one("data") else None,
    )
    for family in ("optimizer", "loss"):
        if found.one(family):
            fields[family] = found.one(family).model
    return CheckedSpec(**fields)


def _check_data(found: Collected, spec: CheckedSpec, start: Source, shapes: Shapes) -> list[Diagnostic]:
    """Examples and evals against the network's input and output widths."""
    problems: list[Diagnostic] = []
    takes = Label(start.span, f"takes {spec.input_width}" if start.what != "example" else
                  f"{spec.input_width} inputs here")
    outputs = spec.output_width
    produces = Label(shapes.output.span, f"{outputs} output{'s' * (outputs != 1)}")
    for bound in found.all("example") + found.all("eval"):
        given = len(bound.model.input)
        if given != spec.input_width and not shapes.input_in_doubt:
            problems.append(_width_problem(bound, given, spec.input_width, takes))
        if bound.statement.name != "example" or shapes.output_in_doubt:
            continue
        target = bound.model.target
        trouble = spec.loss.target_problem(target, outputs)
        if trouble:
            problems.append(Diagnostic(
                trouble, bound.span_of("target"), f"{len(target)} value{'s' * (len(target) != 1)}",
                (produces,), hint=_target_hint(spec, outputs)))
    return problems


def _width_problem(bound, got: int, want: int, takes: Label) -> Diagnostic:
    name = bound.statement.name
    hint = f"give {want} input value{'s' * (want != 1)}"
    if want <= 8:
        values = "[" + ", ".join(["1"] * want) + "]"
        target = bound.statement.args[0].right if name == "example" and isinstance(
            bound.statement.args[0], ast.Arrow) else None
        fix = f"example {values} -> {shown(target).strip('`')}" if target is not None else f"{name} {values}"
        hint += f", e.g. `{fix}`"
    return Diagnostic(
        f"`{name}` has {got} input value{'s' * (got != 1)}, but the network takes {want}",
        bound.span_of("input"), f"{got} value{'s' * (got != 1)}", (takes,), hint=hint)


def _target_hint(spec: CheckedSpec, outputs: int) -> str:
    if spec.loss.class_targets:
        return f"give the index of the right class, from 0 to {outputs - 1}, e.g. `-> [0]`"
    return f"give {outputs} target values, or one value to use for every output"


def _limit_problems(found: Collected, limits: Limits) -> list[Diagnostic]:
    problems = []
    epochs = found.one("epochs")
    if epochs and epochs.model.count > limits.max_epochs:
        problems.append(Diagnostic(
            f"{epochs.model.count:,} epochs is over the limit of {limits.max_epochs:,}",
            epochs.span_of("count"), "too many", hint="use fewer epochs, or raise the limit with --max-epochs"))
    examples = found.all("example")
    if len(examples) > limits.max_examples:
        extra = examples[limits.max_examples]
        problems.append(Diagnostic(
            f"{len(examples):,} examples is over the limit of {limits.max_examples:,}",
            extra.statement.span, "one too many", hint="use a data file, or raise the limit with --max-examples"))
    if len(found.layers) > limits.max_layers:
        extra = found.layers[limits.max_layers]
        problems.append(Diagnostic(
            f"{len(found.layers):,} layers is over the limit of {limits.max_layers:,}",
            extra.statement.span, "one too many", hint="raise the limit with --max-layers"))
    return problems
