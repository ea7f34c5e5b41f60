"""The command line: `nqa check|run|predict|evaluate|compile|draw|fmt|export|schema|runs|explain|lsp`,
and `python -m runtime SPEC` (= `nqa run`).

In: argv. Out: results on stdout, errors and warnings on stderr (in colour
only on a terminal, never with NO_COLOR; control characters from a spec or a
data file spelt out, never sent raw), and the exit code: 0 success (warnings
included), 2 a mistake in the spec or the command line, 3 training stopped
because the loss was not finite, 130 interrupted (Ctrl-C), 143 terminated
(SIGTERM), 1 anything unexpected. `check`, `draw` (without weights),
`schema`, `explain` and `lsp` never import torch.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import sys
import traceback
from pathlib import Path

from compiler.sweep import one_network
from spec_lang import Diagnostic, Span, SpecError, codes, render_all, usage_error, visible

from .arguments import UsageExit, parser, run_parser
from .files import OutputError
from .json_text import json_text

EXIT_OK, EXIT_BUG, EXIT_USAGE, EXIT_DIVERGED = 0, 1, 2, 3


def main(argv: list[str] | None = None) -> int:
    """`nqa COMMAND ...`."""
    return _dispatch(_parsed(parser(), argv))


def main_run(argv: list[str] | None = None) -> int:
    """`python -m runtime SPEC ...`: `nqa run` under its module name."""
    args = _parsed(run_parser(), argv)
    args.command = "run"
    return _dispatch(args)


def _parsed(grammar: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """The arguments; a refusal of the grammar's is also written as JSON when `--json -` was asked."""
    try:
        args = grammar.parse_args(argv)
        args.words = sys.argv[1:] if argv is None else list(argv)  # `--nproc N` runs them again in each worker
        args.nqa_command = grammar.prog == "nqa"
        return args
    except UsageExit as refused:
        words = sys.argv[1:] if argv is None else argv
        if any(pair == ("--json", "-") for pair in itertools.pairwise(words)) or "--json=-" in words:
            refusal = Diagnostic(refused.message, hint="see --help", code=codes.BAD_COMMAND_LINE)
            sys.stdout.write(json_text({"errors": [_record(refusal, "")]}))
        raise


def colour_wanted(stream) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def _dispatch(args: argparse.Namespace) -> int:
    size = os.environ.get("WORLD_SIZE", "").strip()
    if args.command == "run" and size.isdigit() and int(size) > 1:
        from .launch import as_worker  # one worker of a distributed run: rank 0 alone prints, even its errors

        return as_worker(lambda: _handled(args), args)
    return _handled(args)[0]


def _handled(args: argparse.Namespace) -> tuple[int, str]:
    """The command's exit code, and what kind of ending it was (for a distributed run's launcher)."""
    from .signals import exit_code, stop_word, terminate_as_interrupt

    try:
        from .option_rules import command_line

        command_line(args)
        with terminate_as_interrupt():
            return _COMMANDS[args.command](args), "done"
    except SpecError as err:
        print(err.render(colour=colour_wanted(sys.stderr)), file=sys.stderr)
        if getattr(args, "json", None) == "-":  # a program reading the report reads the errors too
            errors = [_record(d, err.filename) for d in err.diagnostics]
            sys.stdout.write(json_text({"errors": errors}))
        return EXIT_USAGE, "usage"
    except OutputError as err:  # its message quotes a path the user gave: spelt out, never sent raw
        print(f"error[{codes.OUTPUT_UNWRITABLE}]: {visible(str(err))}", file=sys.stderr)
        return EXIT_USAGE, "usage"
    except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM (`Terminated`)
        print(f"nqa: {stop_word(stop)}", file=sys.stderr)
        return exit_code(stop), "stopped"
    except BrokenPipeError:
        return EXIT_OK, "done"
    except Exception as err:  # a bug in nqa, not in the spec: say so, with the details
        from .distributed import worker_failure

        kind = worker_failure(err)  # one worker of a distributed run: said in one line, for the launcher
        if kind is not None:
            return EXIT_BUG, kind
        print("nqa: internal error (please report it with the spec that caused it):", file=sys.stderr)
        traceback.print_exc()
        return EXIT_BUG, "error"


def _limits(args):
    from compiler import Limits

    given = {name: getattr(args, name, None) for name in Limits.model_fields}
    return Limits(**{name: value for name, value in given.items() if value is not None})


def _checked(args, name: str, require_data: bool = False, show_warnings: bool = True):
    from compiler import check

    spec: str | Path = Path(name)
    if name == "-" and args.command == "check":  # the spec on standard input; data paths from here
        from spec_lang.source import read_stream

        spec, name = read_stream(sys.stdin.buffer), "<stdin>"
    program = check(spec, filename=name, limits=_limits(args), allow_outside=args.allow_outside_data,
                    require_data=require_data)
    if show_warnings:
        print_warnings(program)
    return program


def print_warnings(program) -> None:
    """A checked program's warnings, drawn as errors are, on stderr."""
    if program.warnings:
        print(render_all(program.warnings, program.source, program.filename, colour_wanted(sys.stderr)),
              file=sys.stderr)


def _check(args) -> int:
    if args.specs.count("-") > 1:
        raise usage_error("`-` (standard input) is given more than once", "read standard input once",
                          code=codes.CONFLICTING_OPTIONS)
    failed, records = 0, []
    for name in args.specs:
        try:
            program = _checked(args, name, show_warnings=args.format == "text")
            records += [_record(d, program.filename) for d in program.warnings]
            if not args.quiet and args.format == "text":
                sweep = f", a sweep of {program.sweep.size()}" if program.sweep else ""
                print(f"{visible(program.filename)}: ok{sweep}")
        except SpecError as err:
            failed += 1
            if args.format == "json":
                records += [_record(d, err.filename or name) for d in err.diagnostics]
            else:
                print(err.render(colour=colour_wanted(sys.stderr)), file=sys.stderr)
    if args.format == "json":
        sys.stdout.write(json_text(records))
    return EXIT_USAGE if failed else EXIT_OK


def _record(diagnostic: Diagnostic, filename: str) -> dict:
    """One error or warning as data: where it is, its code and severity, what is wrong, what to do;
    the places its secondary labels point at (`related`), and the one edit its hint asks for (`fix`)."""
    related = [dict(_where(note.span), label=note.text) for note in diagnostic.notes]
    fix = diagnostic.fix
    return dict(file=filename, **_where(diagnostic.span), code=diagnostic.code, severity=diagnostic.severity,
                message=diagnostic.message, label=diagnostic.label, hint=diagnostic.hint, related=related,
                fix=dict(_where(fix.span), text=fix.text, title=fix.title) if fix else None)


def _where(span: Span | None) -> dict:
    if span is None:
        return {"line": None, "column": None, "end_line": None, "end_column": None}
    return {"line": span.line, "column": span.column, "end_line": span.end_line, "end_column": span.end_column}


def _compile(args) -> int:
    from compiler import compile_spec

    from .text_report import model_table

    program = _checked(args, args.spec, require_data=args.emit == "python")
    one_network(program, f"`nqa compile --emit {args.emit}`", networks_alike=args.emit == "summary")
    _check_outputs({"-o": None if args.output == "-" else args.output}, args.spec, program)
    if args.emit == "python":
        from compiler.emit_python import emit_python

        text = emit_python(program)
    else:
        spec = program.spec
        table = model_table(spec.summary(), spec.parameter_count, spec.input_type.sizes, spec.input_type.dtype)
        text = f"{compile_spec(program)}\n\n{table}\n"
    if args.output == "-":
        sys.stdout.write(text)
    else:
        from .files import write_atomic

        write_atomic(args.output, text)
    return EXIT_OK


def _check_outputs(outputs: dict, spec: str, program, inputs: dict | None = None) -> None:
    """Refuse, before any work, an output that is an input (the spec, its data, `inputs`) or another output."""
    from .files import check_outputs, spec_inputs

    check_outputs(outputs, {**spec_inputs(spec, program), **(inputs or {})})


def _draw(args) -> int:
    from compiler.draw import draw_network

    from .files import check_svg_name, write_atomic

    program = _checked(args, args.spec)
    one_network(program, "`nqa draw`", networks_alike=True)
    _check_outputs({"-o": None if args.output == "-" else args.output}, args.spec, program,
                   {"the --weights file": args.weights})
    check_svg_name("-o", args.output)
    weights = None
    if args.weights:
        from .checkpoint import load_state

        weights = load_state(Path(args.weights), program)
    svg = draw_network(program.spec, weights)
    if args.output == "-":
        sys.stdout.write(svg)
    else:
        write_atomic(args.output, svg)
    return EXIT_OK


def _fmt(args) -> int:
    import difflib

    from compiler.format import format_spec
    from spec_lang import read_source

    from .files import write_atomic

    changed = failed = 0
    for name in args.specs:
        try:
            before = read_source(Path(name))
            after = format_spec(before, name)
        except SpecError as err:  # report it and go on with the other files
            failed += 1
            print(err.render(colour=colour_wanted(sys.stderr)), file=sys.stderr)
            continue
        if after == before:
            continue
        changed += 1
        if args.diff:
            sys.stdout.writelines(_visible_line(line) for line in difflib.unified_diff(
                _lines(before), _lines(after), f"{name} (before)", f"{name} (formatted)"))
        elif args.check:
            print(f"{visible(name)}: would be reformatted", file=sys.stderr)
        else:
            refused = _not_rewritable(name)
            if refused:
                failed += 1
                print(refused.render(colour=colour_wanted(sys.stderr)), file=sys.stderr)
                continue
            write_atomic(name, after)
            print(f"{visible(name)}: reformatted", file=sys.stderr)
    if failed:
        return EXIT_USAGE
    return 1 if changed and (args.check or args.diff) else EXIT_OK


def _not_rewritable(name: str) -> SpecError | None:
    """Why `nqa fmt` must not replace the file `name`: it is read-only (by its mode
    bits, which hold for root too), or other hard links share it (a new file
    renamed over it would leave them with the old text)."""
    from compiler.messages import plural

    try:
        found = os.stat(name)
    except OSError:  # gone since it was read: writing it says why
        return None
    if not found.st_mode & 0o222 or not os.access(name, os.W_OK):
        return SpecError(Diagnostic(f"cannot reformat `{name}`: it is read-only",
                                    hint="make it writable first (`chmod u+w`), or see the changes with "
                                         "`nqa fmt --diff`", code=codes.CANNOT_REFORMAT), "", name)
    if found.st_nlink > 1:
        return SpecError(Diagnostic(
            f"cannot reformat `{name}`: it has {plural(found.st_nlink - 1, 'other hard link')}, "
            "which would keep the old text", hint="format a copy, then copy it over the file "
                                                  "(`cp` keeps the links), or see the changes with `nqa fmt --diff`",
            code=codes.CANNOT_REFORMAT),
            "", name)
    return None


def _lines(text: str) -> list[str]:
    """The lines of a spec as `parse` reads them, each with its line end (LF, CRLF or a CR alone)."""
    return re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", text)


def _visible_line(line: str) -> str:
    """A diff line with its control characters spelt out and its tabs kept, ending in LF:
    a Windows line end is shown as a line end, a CR alone as `\\x0d` (it becomes LF)."""
    body = line.removesuffix("\n").removesuffix("\r") if line.endswith("\r\n") else line.removesuffix("\n")
    return visible(body, tab="\t") + "\n"


def _export(args) -> int:
    from .export import export_onnx, untrained
    from .normalize import of_program

    if args.untrained and args.epochs is not None:
        raise usage_error("--epochs has no effect with --untrained", "leave out one of them",
                          code=codes.CONFLICTING_OPTIONS)
    program = _checked(args, args.spec, require_data=not args.untrained)
    one_network(program, "`nqa export`")
    _check_outputs({"--onnx": args.onnx}, args.spec, program)
    if args.untrained:
        model = untrained(program, args.seed)
        normalization = of_program(program, program.spec.seed if args.seed is None else args.seed)
    else:
        from .training import TrainingInterrupted, TrainOptions, train

        try:
            run = train(program, options=TrainOptions(seed=args.seed, epochs=args.epochs, limits=_limits(args)))
        except TrainingInterrupted as stop:  # Ctrl-C, or SIGTERM: nothing half-trained is exported
            print(f"nqa: {stop.run.report.stopped}; nothing exported", file=sys.stderr)
            return stop.exit_code
        if run.report.stopped:
            print(f"error[{codes.DIVERGED}]: training stopped ({run.report.stopped}); nothing exported",
                  file=sys.stderr)
            return EXIT_DIVERGED
        model, normalization = run.model, run.normalization
    export_onnx(model, program, Path(args.onnx), normalization)
    print(f"{visible(args.onnx)}: written")
    return EXIT_OK


def _schema(args) -> int:
    from compiler import CheckedSpec

    from .answers import Evaluation, Prediction
    from .report import Report
    from .sweep_report import SweepReport

    schemas = {"spec": CheckedSpec.model_json_schema(), "report": Report.model_json_schema(),
               "sweep": SweepReport.model_json_schema(), "evaluate": Evaluation.model_json_schema(),
               "predict": Prediction.model_json_schema()}
    chosen = schemas if args.which == "all" else schemas[args.which]
    print(json.dumps(chosen, indent=2))
    return EXIT_OK


def _predict(args) -> int:
    from .predict import predict_command

    return predict_command(args, _limits(args))


def _evaluate(args) -> int:
    from .evaluate import evaluate_command

    return evaluate_command(args, _limits(args))


def _run(args) -> int:
    from .commands import run_command
    from .run_log import logged

    return logged(args, lambda: run_command(args, _limits(args)))


def _explain(args) -> int:
    from .explain_command import explain_command

    return explain_command(args)


def _lsp(args) -> int:
    from .lsp import serve

    return serve()


def _runs(args) -> int:
    from .runs_command import runs_command

    return runs_command(args)


_COMMANDS = {"run": _run, "predict": _predict, "evaluate": _evaluate, "check": _check, "compile": _compile,
             "draw": _draw, "fmt": _fmt, "export": _export, "schema": _schema, "runs": _runs,
             "explain": _explain, "lsp": _lsp}
