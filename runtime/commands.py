"""`nqa run`: train a spec file and write its reports.

In: the parsed command line and limits. Out: the text report on stdout (unless
`--quiet` or `--json -`), the JSON report where asked (written atomically),
and the exit code. An interrupted or diverging run still writes its reports.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .text_report import render_text
from .files import write_atomic
from .training import Run, TrainingInterrupted, train


def run_command(args, limits) -> int:
    try:
        run = train(Path(args.spec), seed=args.seed, epochs=args.epochs,
                    filename=args.spec, limits=limits, progress=_log_line, every=args.log_every,
                    allow_outside_data=args.allow_outside_data)
    except TrainingInterrupted as stop:
        _emit(stop.run, args)
        print(f"nqa: {stop.run.report.stopped}; the report so far was written", file=sys.stderr)
        return 130
    _emit(run, args)
    if run.report.stopped:
        for diagnostic in run.report.diagnostics:
            print(f"error: {diagnostic.message}", file=sys.stderr)
        return 3
    return 0


def _log_line(step: int, steps: int, loss: float) -> None:
    print(f"step {step:>{len(str(steps))}}/{steps}  loss {loss:.6g}", file=sys.stderr, flush=True)


def _emit(run: Run, args) -> None:
    as_json = run.report.model_dump_json(indent=2) + "\n"
    if args.json == "-":
        sys.stdout.write(as_json)
        return
    if args.json:
        write_atomic(args.json, as_json)
    if not args.quiet:
        sys.stdout.write(render_text(run.report))
