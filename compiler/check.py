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
from .shapes import Source, first_stated_width, infer_widths, statement_text

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
    layers, shape_problems = infer_widths(found.layers, start, limits)
    problems += shape_problems
    spec_or_none = _assemble(found, start.width, tuple(layers))
    problems += _check_settings(found, spec_or_none, start, found.layers, limits, require_data)
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


def _check_settings(found: Collected, spec: CheckedSpec, start: Source, layers: list,
                    limits: Limits, require_data: bool) -> list[Diagnostic]:
    problems: list[Diagnostic] = []
    takes = Label(start.span, f"takes {spec.input_width}" if start.what != "example" else
                  f"{spec.input_width} inputs here")
    last = layers[-1].statement.span
    outputs = spec.output_width
    for bound in found.all("example"):
        example = bound.model
        if len(example.input) != spec.input_width:
            problems.append(_width_problem("example", bound, len(example.input), spec.input_width, takes))
        trouble = spec.loss.target_problem(example.target, outputs)
        if trouble:
            problems.append(Diagnostic(
                trouble, bound.span_of("target"), "target", (Label(last, f"{outputs} outputs"),),
                hint=_target_hint(spec, outputs)))
    for bound in found.all("eval"):
        if len(bound.model.input) != spec.input_width:
            problems.append(_width_problem("eval", bound, len(bound.model.input), spec.input_width, takes))
    problems += _limit_problems(found, limits)
    if require_data and not spec.examples and spec.data is None:
        problems.append(Diagnostic(
            "nothing to train on: this spec has no `example` and no `data`", None,
            hint="add a training example, e.g. `example [1, 1] -> [10]`"))
    return problems


def _width_problem(name: str, bound, got: int, want: int, takes: Label) -> Diagnostic:
    values = ", ".join(["1"] * want)
    fix = f"example [{values}] -> [...]" if name == "example" else f"eval [{values}]"
    return Diagnostic(
        f"`{name}` has {got} input value{'s' * (got != 1)}, but the network takes {want}",
        bound.span_of("input"), f"{got} value{'s' * (got != 1)}", (takes,),
        hint=f"give {want} value{'s' * (want != 1)}, e.g. `{fix}`")


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
