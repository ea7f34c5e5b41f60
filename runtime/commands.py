"""`nqa run`: train a spec file and write what was asked for.

In: the parsed command line and limits. Out: the text report on stdout (unless
`--quiet` or `--json -`), and where asked the JSON report, the weights
(`--save`), the loss curve (`--plot`) and the drawn network with its trained
weights (`--draw`), each written atomically; the exit code. An interrupted or
diverging run still writes them all, up to where it stopped.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from spec_lang import usage_error

from .files import check_writable, write_atomic
from .progress import Bar, plain_lines
from .text_report import render_text
from .training import Run, TrainingInterrupted, TrainOptions, train


def run_command(args, limits) -> int:
    if args.runs:
        return _many(args, limits)
    _needs_matplotlib(args)
    for path in (args.save, args.plot, args.draw, None if args.json == "-" else args.json):
        if path:
            check_writable(path)
    progress, every = _progress(args)
    options = TrainOptions(seed=args.seed, epochs=args.epochs, limits=limits,
                           allow_outside_data=args.allow_outside_data, progress=progress, every=every,
                           trace=frozenset(args.trace or ()), device=args.device,
                           load=Path(args.load) if args.load else None)
    program = _checked(args, limits)
    try:
        run = train(program, options=options)
    except TrainingInterrupted as stop:
        _emit(stop.run, args)
        print(f"nqa: {stop.run.report.stopped}; the report so far was written", file=sys.stderr)
        return 130
    finally:
        if isinstance(progress, Bar):
            progress.close()
    _emit(run, args)
    if run.report.stopped:
        for diagnostic in run.report.diagnostics:
            if diagnostic.kind == "diverged":
                print(f"error: {diagnostic.message}", file=sys.stderr)
        return 3
    return 0


def _many(args, limits) -> int:
    import time

    from .runs import train_runs
    from .runs_report import render_runs, runs_report

    ignored = [flag for flag, value in (("--save", args.save), ("--load", args.load), ("--plot", args.plot),
                                        ("--draw", args.draw), ("--trace", args.trace),
                                        ("--log-every", args.log_every), ("--device", args.device != "cpu"))
               if value]
    if ignored:
        raise usage_error(f"{', '.join(ignored)} cannot be used with --runs",
                          "train one seed with `nqa run SPEC --seed N` to save, load, plot, draw or trace it")
    if not args.tolerance >= 0:
        raise usage_error(f"--tolerance must be a loss of at least 0, not {args.tolerance}", "e.g. --tolerance 0.001")
    if args.runs > limits.max_runs:
        raise usage_error(f"--runs {args.runs:,} is over the limit of {limits.max_runs:,}", "raise it with --max-runs")
    if args.json and args.json != "-":
        check_writable(args.json)
    program = _checked(args, limits)
    if args.epochs:
        program = type(program)(program.spec.model_copy(update={"epochs": args.epochs}), program.source,
                                program.filename, program.layer_spans, program.data_span, program.table)
    start = time.perf_counter()
    result = train_runs(program, program.spec.seed if args.seed is None else args.seed, args.runs)
    timing = {"train_seconds": time.perf_counter() - start}
    report = runs_report(program, result, args.tolerance, timing)
    if args.json == "-":
        sys.stdout.write(report.model_dump_json(indent=2) + "\n")
        return 0
    if args.json:
        write_atomic(args.json, report.model_dump_json(indent=2) + "\n")
    if not args.quiet:
        sys.stdout.write(render_runs(report, relu=any(layer.kind == "relu" for layer in program.spec.layers)))
    return 0


def _checked(args, limits):
    """The spec, checked as training needs it, with its warnings printed before anything runs."""
    from compiler import check

    from .cli import print_warnings

    program = check(Path(args.spec), filename=args.spec, limits=limits, require_data=True,
                    allow_outside=args.allow_outside_data)
    print_warnings(program)
    return program


def _progress(args):
    if args.log_every:
        return plain_lines(sys.stderr), args.log_every
    if sys.stderr.isatty() and not args.quiet and args.json != "-":
        return Bar(sys.stderr), None
    return None, 0


PLOT_FORMATS = ("png", "svg", "pdf", "jpg", "jpeg", "webp", "tif", "tiff", "eps", "ps")


def _needs_matplotlib(args) -> None:
    suffix = Path(args.plot).suffix.lstrip(".").lower() if args.plot else ""
    if args.plot and suffix not in PLOT_FORMATS:
        raise usage_error(f"--plot cannot write a `.{suffix}` file" if suffix else
                          "--plot needs a file name ending in the picture format",
                          "end the name with " + ", ".join(f".{f}" for f in PLOT_FORMATS[:4]))
    if args.plot and importlib.util.find_spec("matplotlib") is None:
        raise usage_error("--plot needs matplotlib, which is not installed", "install it with `pip install 'nqa[plot]'`")


def _emit(run: Run, args) -> None:
    if args.save:
        from .checkpoint import save_weights

        save_weights(Path(args.save), run.model, run.program, run.report.seed)
    if args.plot:
        from .plot import plot_losses

        plot_losses(run.report, Path(args.plot))
    if args.draw:
        from compiler.draw import draw_network

        write_atomic(args.draw, draw_network(run.program.spec, run.report.parameters.final))
    as_json = run.report.model_dump_json(indent=2) + "\n"
    if args.json == "-":
        sys.stdout.write(as_json)
        return
    if args.json:
        write_atomic(args.json, as_json)
    if not args.quiet:
        sys.stdout.write(render_text(run.report))
