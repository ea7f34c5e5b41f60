"""`nqa run` of a sweep: train every combination and write what was asked for.

In: the parsed command line, the limits and the checked program (whose `sweep`
holds the combinations). Out: the ranked table on stdout (unless `--quiet` or
`--json -`), the JSON report (`--json`), and with `--best PATH` the best
combination as a plain spec: the spec file's text with each `choice(...)`
replaced by the value picked, and nothing else changed (comments, layout and
line ends kept), written atomically, never over the spec or its data file
(checked before training), and only when the sweep finished. The exit code:
0, or 130/143 when stopped (the report so far is still written).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

from compiler.sweep import filled
from spec_lang import codes, read_source, usage_error
from spec_lang.parser import normalized

from .files import check_outputs, spec_inputs, write_atomic
from .json_text import json_text
from .option_rules import seed as seed_rule
from .resume_rules import given as checkpoint_flags
from .run_log import note
from .sweep_report import SweepReport, render_sweep, sweep_report
from .sweep_run import SweepResult, sweep_fits, train_sweep

_FOR_ONE_RUN = ("train one combination to save, load, plot, draw or trace it: `nqa run SPEC --best best.nqa` "
                "writes the best as a plain spec")


def sweep_command(args, limits, program) -> int:
    from .commands import test_not_scored

    _refuse_options(args)
    test_not_scored(program, "in a sweep")
    check_outputs({"--json": None if args.json == "-" else args.json, "--best": args.best},
                  spec_inputs(args.spec, program))
    if args.epochs is not None:
        program = _with_epochs(program, args.epochs)
    runs = args.runs or 1
    first = program.spec.seed if args.seed is None else args.seed
    seed_rule(first, "--seed" if args.seed is not None else "the spec's `seed`", runs)
    sweep_fits(program, runs, limits)
    started = time.perf_counter()
    result = train_sweep(program, first, runs)
    timing = {"train_seconds": time.perf_counter() - started}
    report = sweep_report(program, result, first, runs, torch.__version__, timing)
    if args.best:
        report = _write_best(args, program, report, result)
    note(args, report, "sweep")
    if args.json == "-":
        sys.stdout.write(json_text(report))
    else:
        if args.json:
            write_atomic(args.json, json_text(report))
        if not args.quiet:
            sys.stdout.write(render_sweep(report))
    if result.stopped:
        print(f"nqa: {result.stopped}; the report so far was written", file=sys.stderr)
    return result.exit_code


def _refuse_options(args) -> None:
    given = [flag for flag, value in (("--save", args.save), ("--load", args.load), ("--plot", args.plot),
                                      ("--draw", args.draw), ("--trace", args.trace),
                                      ("--log-every", args.log_every), ("--device", args.device != "cpu"),
                                      ("--precision", args.precision), ("--compile", args.compile),
                                      ("--full-parameters", args.full_parameters),
                                      ("--tensorboard", args.tensorboard),
                                      ("--tolerance", getattr(args, "tolerance_given", False)),
                                      *((flag, True) for flag in checkpoint_flags(args)))
             if value]
    if given:
        raise usage_error(f"{', '.join(given)} cannot be used with a sweep (a spec with `choice(...)` values)",
                          _FOR_ONE_RUN, code=codes.CONFLICTING_OPTIONS)


def _with_epochs(program, epochs: int):
    """Every combination with the epochs `--epochs` gives: refused where the sweep varies them."""
    from dataclasses import replace

    sweep = program.sweep
    if any(choice.statement == "epochs" for choice in sweep.choices):
        raise usage_error("--epochs cannot override `epochs`: this sweep varies it",
                          "leave out --epochs, or write the values to try in the spec's `epochs choice(...)`",
                          code=codes.CONFLICTING_OPTIONS)
    combinations = tuple(replace(c, spec=c.spec.model_copy(update={"epochs": epochs})) for c in sweep.combinations)
    return replace(program, spec=combinations[0].spec, sweep=replace(sweep, combinations=combinations))


def _write_best(args, program, report: SweepReport, result: SweepResult) -> SweepReport:
    """The best combination as a plain spec at `--best`; the report says where, or why not."""
    best = report.each[0]
    if result.stopped or best.metric.mean is None:
        why = "the sweep did not finish" if result.stopped else "no combination finished training"
        print(f"nqa: {why}, so nothing was written to `{args.best}`", file=sys.stderr)
        return report
    text = read_source(Path(args.spec))
    if normalized(text) != program.source:
        raise usage_error(f"`{args.spec}` changed while the sweep trained, so nothing was written to `{args.best}`",
                          "run the sweep again", code=codes.SPEC_CHANGED)
    picks = program.sweep.combinations[best.combination].picks
    write_atomic(args.best, filled(text, program.sweep.choices, picks, program.source))
    return report.model_copy(update={"best": args.best})
