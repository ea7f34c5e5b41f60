"""Checking a spec before anything runs.

In: spec text, a `pathlib.Path`, or a parsed `Spec`; optional `Limits`.
Out: a `Program` (the frozen `CheckedSpec` plus its source, and the warnings
found: what is accepted but likely a mistake, such as a `softmax` before
`cross_entropy` or a bidirectional control character in the text), or a
`SpecError` listing every error in the file in source order: unknown
statements and options, bad values, settings given twice, widths that do not
fit, data that does not fit the network, sizes over the limits. Warnings go
with a `Program` only: a spec with errors raises them alone. Never imports torch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

from spec_lang import ast, codes, read_source
from spec_lang.characters import bidi_warnings
from spec_lang.errors import Diagnostic, SpecError, SyntaxErrors, usage_error
from spec_lang.gcpause import paused_gc
from spec_lang.parser import normalized, parse_lenient

from .activations import activation_problem, batch_problems, example_problem
from .bind_all import Collected, collect
from .control_checks import check_control
from .data_checks import (
    check_classes,
    check_examples,
    check_loss,
    check_table,
    check_validate,
    read_table,
    table_source,
)
from .data_ids import ids_of
from .layers import Layer
from .layers.blocks import Container
from .limits import Limits
from .model import CheckedSpec, Program
from .normalize import check_normalize, method_of
from .registry import lookup, statement_names
from .settings import Epochs, Eval, Example, Input
from .shapes import Source, first_stated_input, infer_types, layer_count, leaf_bounds, path_spans, statement_text
from .stream_checks import check_stream
from .suggest import closest
from .sweep import find_choices, first_items, has_choices
from .test_data import read_test
from .types import TensorType

_DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class Options:
    """How to check: the limits, whether training data is required, and where data files may be read."""

    limits: Limits = field(default_factory=Limits)
    require_data: bool = False
    folder: Path | None = None  # the spec's folder; data paths are relative to it (None: the working folder)
    allow_outside: bool = False  # let `data` read files outside `folder`
    # what checking the combinations of a sweep reads once: a data file's table, statements bound (None: no sweep)
    memo: dict[Any, Any] | None = field(default=None, compare=False)


def check(spec: str | os.PathLike[str] | ast.Spec, *, filename: str | None = None,
          limits: Limits | None = None, require_data: bool = False, folder: Path | None = None,
          allow_outside: bool = False) -> Program:
    """Parse (if needed) and check a spec; raise `SpecError` with every problem found.

    Data files are read relative to `folder`: the spec's own folder when `spec` is
    a path, else the working folder."""
    vector_problems: list[Diagnostic] = []
    bad: list[ast.Statement] = []
    if limits is not None and not isinstance(limits, Limits):
        raise usage_error(f"limits must be a compiler.Limits, not {type(limits).__name__}",
                          "e.g. `limits=Limits(max_params=10_000)`", code=codes.BAD_ARGUMENT_TYPE)
    if isinstance(spec, os.PathLike):
        filename = filename or str(spec)
        folder = folder or Path(spec).parent
        source = read_source(Path(spec))
        tree, vector_problems, bad = _parse(source, filename)
    elif isinstance(spec, str):
        _not_a_file_name(spec)
        source, filename = spec, filename or "<spec>"
        tree, vector_problems, bad = _parse(source, filename)
    elif isinstance(spec, ast.Spec):
        source, filename, tree = "", filename or "<spec>", spec
    else:
        hint = ("it is checked already: `compile_spec` and `train` take it as it is" if isinstance(spec, Program)
                else "e.g. `check(Path('specs/mlp.nqa'))` or `check('linear 2->1')`")
        raise usage_error(f"a spec is its text (str), a pathlib.Path or a parsed Spec, not {type(spec).__name__}",
                          hint, code=codes.BAD_ARGUMENT_TYPE)
    options = Options(limits or _DEFAULT_LIMITS, require_data, folder, allow_outside)
    try:
        with paused_gc():
            if ("(" in source or not source) and has_choices(tree):  # a choice needs a `(`: most specs have none
                from .sweep_check import check_sweep

                program = check_sweep(tree, source, filename, options, vector_problems, bad, _check_tree)
            else:
                program = _check_tree(tree, source, filename, options, vector_problems, bad)
    except SpecError as err:
        raise err.with_source(normalized(source), filename) from None
    hidden = bidi_warnings(program.source)
    if hidden:
        program = replace(program, warnings=tuple(sorted(program.warnings + tuple(hidden),
                                                         key=lambda d: d.position_key)))
    return program


def _not_a_file_name(text: str) -> None:
    """A str is spec text; one that is only the name of an existing .nqa file was
    surely meant as the file (`check("specs/mlp.nqa")`): say how to pass it."""
    name = text.strip()
    if name.endswith(".nqa") and len(name.split()) == 1 and len(name) < 4096 and Path(name).is_file():
        raise usage_error(f"`{name}` was given as spec text, but it names a spec file",
                          f"pass a path to read the file: `Path({name!r})`", code=codes.BAD_ARGUMENT_TYPE)


def _parse(source: str, filename: str) -> tuple[ast.Spec, list[Diagnostic], list[ast.Statement]]:
    """`parse_lenient`; after syntax errors, also what is wrong in each statement
    of the rest of the file on its own (an unknown name or option, a bad value,
    a setting given twice). Checks across statements (widths, data) wait for
    the file to parse: with a statement missing they would be wrong."""
    try:
        return parse_lenient(source, filename)
    except SyntaxErrors as err:
        if err.rest is None:
            raise
        rest, nodes = err.rest
        rest = _without(rest, nodes.bad)
        found = collect(first_items(rest))  # each choice as its first value; one written wrong is left out
        choices = find_choices(rest).problems
        every = [*err.diagnostics, *nodes.problems, *choices, *found.problems]  # a spec that fails: its errors alone
        raise SpecError([d for d in every if d.severity == "error"], err.source, filename) from None


def _without(tree: ast.Spec, bad: list[ast.Statement]) -> ast.Spec:
    """The spec without the statements holding a bad vector item."""
    if not bad:
        return tree
    left_out = {id(stmt) for stmt in bad}
    return ast.Spec(tuple(stmt for stmt in tree.statements if id(stmt) not in left_out))


def _check_tree(tree: ast.Spec, source: str, filename: str, options: Options,
                vector_problems: list[Diagnostic], bad: list[ast.Statement]) -> Program:
    found = collect(_without(tree, bad), options.memo)  # a bad vector item is reported once, for itself
    found.failed.update(stmt.name for stmt in bad)
    problems = vector_problems + found.problems
    if not found.layers:
        if not any(p.severity == "error" for p in problems):
            problems.append(Diagnostic("this spec has no layers", None, hint="add a layer, e.g. `linear 2->1`",
                                       code=codes.NO_LAYERS))
        raise _errors(problems)
    stated, implied = _input_statement(found), _implied_input(found)
    table, table_found = read_table(found, stated or implied, options)
    problems += table_found
    table_failed = table is None and bool(table_found)
    # a shape the data states comes before one the first layer implies: `linear 3->1` reads the last of [2, 3]
    shaped = table_source(found, table) if table is not None and table.shaped else None
    start = _typed(stated or shaped or implied or table_source(found, table), found)
    failed = found.failed_statements + bad
    meant = {_meant(stmt) for stmt in failed}
    gaps = [stmt.span.start for stmt in failed if _may_change_width(stmt) or id(stmt) in found.gaps]
    if start is None:
        if meant & _WIDTH_GIVERS or gaps or table_failed:  # the width may be where a mistake is
            raise _errors(problems)
        first = found.layers[0].statement
        problems.append(Diagnostic(
            f"cannot tell how many inputs `{statement_text(first)}` takes", first.span,
            "input width unknown", hint="state it, e.g. `linear 2->3`, or add `input 2`",
            code=codes.INPUT_WIDTH_UNKNOWN))
        raise _errors(problems)
    too_many = _layer_limit(found, options.limits)
    if too_many is not None:  # counting blocks out first: a `repeat 1000000000` is refused before it is gone through
        raise _errors(problems + [too_many])
    shapes = infer_types(found.layers, start, options.limits, gaps)
    problems += shapes.problems
    checked = _assemble(found, start.type, shapes.layers)
    if not shapes.problems:  # one example's values, with or without data
        too_big = example_problem(checked, options.limits, start.span,
                                  [b.statement.span for b in leaf_bounds(found.layers)])
        problems += [too_big] if too_big else []
    problems += check_loss(found, checked, shapes)
    problems += check_examples(found, checked, start, shapes)
    problems += check_table(found, table, checked, start, shapes, options.limits)
    problems += check_validate(found, table, checked)
    problems += check_classes(found, table, checked)
    problems += check_normalize(found)
    problems += check_stream(found, table, checked, options.limits, options.memo is not None)
    test_table = None
    if not any(p.severity == "error" for p in problems):  # the network and its data are right: test rows fit them
        test_table, test_found = read_test(found, checked, table, shapes, options)
        problems += test_found
    problems += check_control(found, checked, len(checked.examples) + (table.rows if table else 0))
    problems += _limit_problems(found, options.limits)
    if not any(p.severity == "error" for p in problems):  # sizes are only known once the rest is right
        rows = len(checked.examples) + (table.rows if table else 0)
        if table is not None and table.streamed and checked.batch:  # held-out rows too go through in batches
            rows = min(rows, checked.batch)
        examples = found.all("example")
        where = found.one("batch") or found.one("data") or (examples[0] if examples else None)
        too_big = activation_problem(checked, rows, options.limits, where.statement.span if where else None)
        problems += [too_big] if too_big else []
        if rows:
            problems += batch_problems(checked, rows, tuple(b.statement for b in leaf_bounds(found.layers)))
    if options.require_data and checked.parameter_count == 0 and not (shapes.problems or gaps):
        problems.append(Diagnostic(
            "this network has no parameters to train", found.layers[0].statement.span, "no weights in any layer",
            hint=f"add a layer with weights, e.g. `linear {checked.input_width}->1`", code=codes.NO_PARAMETERS))
    if options.require_data and not checked.examples and table is None and not (
            meant & {"example", "data"}) and not table_failed:
        problems.append(Diagnostic(
            "nothing to train on: this spec has no `example` and no `data`", None,
            hint="add a training example, e.g. `example [1, 1] -> [10]`", code=codes.NO_TRAINING_DATA))
    if any(p.severity == "error" for p in problems):
        raise _errors(problems)
    data = found.one("data")
    warnings = sorted(problems, key=lambda d: d.position_key)
    return Program(checked, normalized(source), filename, tuple(b.statement.span for b in found.layers),
                   data.statement.span if data else None, table, tuple(warnings), path_spans(found.layers),
                   test_table=test_table)


def _errors(problems: list[Diagnostic]) -> SpecError:
    """The errors among `problems`: a spec that fails is shown its errors alone."""
    return SpecError([p for p in problems if p.severity == "error"])


_WIDTH_GIVERS = frozenset({"input", "example", "eval", "data"})


def _meant(stmt: ast.Statement) -> str | None:
    """The statement a failed one stands for: its own name, or for an unknown name
    the known one it is most likely a misspelling of (None if there is none)."""
    if lookup(stmt.name) is not None:
        return stmt.name
    return closest(stmt.name, statement_names()) if len(stmt.name) <= 40 else None


def _may_change_width(stmt: ast.Statement) -> bool:
    """A failed statement that may have been a layer setting a width (`linear`,
    or an unknown name with a `->` and no likelier meaning): past it, the width
    flowing through the network is not known."""
    meant = _meant(stmt)
    if meant is None:
        return any(isinstance(arg, ast.Arrow) for arg in stmt.args)
    entry = lookup(meant)
    return isinstance(entry, type) and issubclass(entry, Layer) and not entry.keeps_shape


def _input_statement(found: Collected) -> Source | None:
    stated = found.one("input")
    if stated is None:
        return None
    assert isinstance(stated.model, Input)
    return Source(TensorType.of(*stated.model.shape), stated.statement.span, "input", stated.statement)


def _typed(start: Source | None, found: Collected) -> Source | None:
    """The input type with the dtype the first layer takes: int64 ids for an `embedding`, else float32."""
    if start is None or ids_of(found.layers) is None:
        return start
    return replace(start, type=replace(start.type, dtype="int64"))


def _implied_input(found: Collected) -> Source | None:
    """The input type the first layer's statement implies, or else the first `example` or `eval`'s width."""
    from_layer = first_stated_input(found.layers)
    if from_layer is not None:
        return from_layer
    for name in ("example", "eval"):
        for bound in found.all(name):
            assert isinstance(bound.model, (Example, Eval))
            return Source(TensorType.vector(len(bound.model.input)), bound.span_of("input"), name, bound.statement)
    return None


def _assemble(found: Collected, input_type: TensorType, layers: tuple[Layer, ...]) -> CheckedSpec:
    def value(name: str, attr: str, default: Any) -> Any:
        bound = found.one(name)
        return getattr(bound.model, attr) if bound else default

    data = found.one("data")
    fields: dict[str, Any] = {
        "input_type": input_type, "layers": layers,
        "epochs": value("epochs", "count", 100), "seed": value("seed", "value", 0),
        "batch": value("batch", "size", None), "shuffle": found.one("shuffle") is not None,
        "held_out": value("validate", "fraction", None),
        "examples": tuple(b.model for b in found.all("example")),
        "evals": tuple(cast(Eval, b.model).input for b in found.all("eval")),
        "data": data.model if data else None,
    }
    shuffle = found.one("shuffle")
    if shuffle is not None and getattr(shuffle.model, "buffer", None) is not None:  # left out otherwise, as below
        fields["shuffle_buffer"] = shuffle.model.buffer  # type: ignore[attr-defined]  # a `Shuffle`
    if method_of(found) is not None:  # left out otherwise: a spec without it is the model it always was
        fields["normalize"] = method_of(found)
    for name in ("optimizer", "loss", "schedule", "warmup", "stop", "clip", "init"):
        chosen = found.one(name)
        if chosen:
            fields[name] = chosen.model
    if "init" in fields:  # each layer with weights starts as the `init` statement says, unless it says otherwise
        fields["layers"] = tuple(layer.with_init(fields["init"]) for layer in layers)
    return CheckedSpec.model_construct(**fields)


def _limit_problems(found: Collected, limits: Limits) -> list[Diagnostic]:
    problems = []
    epochs = found.one("epochs")
    if epochs and isinstance(epochs.model, Epochs) and epochs.model.count > limits.max_epochs:
        problems.append(Diagnostic(
            f"{epochs.model.count:,} epochs is over the limit of {limits.max_epochs:,}",
            epochs.span_of("count"), "too many", hint="use fewer epochs, or raise the limit with --max-epochs",
            code=codes.TOO_MANY_EPOCHS))
    examples = found.all("example")
    if len(examples) > limits.max_examples:
        extra = examples[limits.max_examples]
        problems.append(Diagnostic(
            f"{len(examples):,} examples is over the limit of {limits.max_examples:,}",
            extra.statement.span, "one too many", hint="use a data file, or raise the limit with --max-examples",
            code=codes.TOO_MANY_EXAMPLES))
    return problems


def _layer_limit(found: Collected, limits: Limits) -> Diagnostic | None:
    """The layers the spec makes, blocks counted out, against `max_layers`: pointing at the statement
    that goes over (a `repeat` or a block's use when its copies do)."""
    total = 0
    for bound in found.layers:
        total += layer_count([bound])
        if total > limits.max_layers:
            every = layer_count(found.layers)
            blocks = " (blocks counted out)" if isinstance(bound.model, Container) else ""
            label = "one too many" if layer_count([bound]) == 1 else f"brings the count to {total:,}"
            return Diagnostic(f"{every:,} layers{blocks} is over the limit of {limits.max_layers:,}",
                              bound.statement.span, label,
                              hint="use fewer layers, or raise the limit with --max-layers", code=codes.TOO_MANY_LAYERS)
    return None
