"""The command line: `nqa run|check|compile`, and `python -m runtime SPEC` (= `nqa run`).

In: argv. Out: the report on stdout (or JSON with `--json -`), errors on
stderr, and the exit code: 0 success, 2 a mistake in the spec or the command
line, 3 training stopped because the loss was not finite, 130 interrupted,
1 anything unexpected. `check` never imports torch.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from pathlib import Path

from spec_lang import SpecError

EXIT_OK, EXIT_BUG, EXIT_USAGE, EXIT_DIVERGED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number of at least 0, not {value}")
    return value


def _add_limits(p: argparse.ArgumentParser) -> None:
    from compiler import Limits

    p.add_argument("--allow-outside-data", action="store_true",
                   help="let `data` statements read files outside the spec's folder")
    defaults = Limits()
    group = p.add_argument_group("limits")
    for name in Limits.model_fields:
        flag = "--" + name.replace("_", "-")
        group.add_argument(flag, type=_positive, default=getattr(defaults, name), metavar="N",
                           help=f"(default {getattr(defaults, name):,})")


def _run_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", help="the .nqa file to train")
    p.add_argument("--seed", type=_positive, help="random seed (overrides the spec's `seed`)")
    p.add_argument("--epochs", type=_positive, help="epochs (overrides the spec's `epochs`)")
    p.add_argument("--json", metavar="PATH|-", help="also write the JSON report to PATH; `-` prints only JSON")
    p.add_argument("--quiet", "-q", action="store_true", help="print no text report")
    p.add_argument("--log-every", type=_positive, default=0, metavar="N",
                   help="print the loss to stderr every N steps (default: never)")
    _add_limits(p)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="nqa", description="Check, compile and train .nqa network specs.")
    top.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser("run", help="train a spec and print its report")
    _run_arguments(run)
    check = sub.add_parser("check", help="parse and check specs without running them")
    check.add_argument("specs", nargs="+", metavar="spec")
    check.add_argument("--quiet", "-q", action="store_true", help="print only errors")
    check.add_argument("--format", choices=["text", "json"], default="text",
                       help="json: print every error as an object on stdout, for editors and CI")
    _add_limits(check)
    comp = sub.add_parser("compile", help="print the network a spec builds, with its summary")
    comp.add_argument("spec")
    _add_limits(comp)
    return top


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nqa")
    except PackageNotFoundError:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    """`nqa COMMAND ...`."""
    return _dispatch(parser().parse_args(argv))


def main_run(argv: list[str] | None = None) -> int:
    """`python -m runtime SPEC ...`: `nqa run` under its module name."""
    run = argparse.ArgumentParser(prog="python -m runtime", description="Train a .nqa spec and print its report.")
    _run_arguments(run)
    args = run.parse_args(argv)
    args.command = "run"
    return _dispatch(args)


def _dispatch(args: argparse.Namespace) -> int:
    try:
        return _COMMANDS[args.command](args)
    except SpecError as err:
        print(err.render(), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("nqa: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
    except Exception:  # a bug in nqa, not in the spec: say so, with the details
        print("nqa: internal error (please report it with the spec that caused it):", file=sys.stderr)
        traceback.print_exc()
        return EXIT_BUG


def _limits(args):
    from compiler import Limits

    return Limits(**{name: getattr(args, name) for name in Limits.model_fields})


def _check(args) -> int:
    from compiler import check

    failed, records = 0, []
    for name in args.specs:
        try:
            check(Path(name), filename=name, limits=_limits(args), allow_outside=args.allow_outside_data)
            if not args.quiet and args.format == "text":
                print(f"{name}: ok")
        except SpecError as err:
            failed += 1
            if args.format == "json":
                records += [_record(d, name) for d in err.diagnostics]
            else:
                print(err.render(), file=sys.stderr)
    if args.format == "json":
        print(json.dumps(records, indent=2, ensure_ascii=False))
    return EXIT_USAGE if failed else EXIT_OK


def _record(diagnostic, filename: str) -> dict:
    """One error as data: where it is, what is wrong, what to do."""
    span = diagnostic.span
    where = dict(line=span.line, column=span.column, end_line=span.end_line,
                 end_column=span.end_column) if span else dict(line=None, column=None,
                                                                end_line=None, end_column=None)
    return dict(file=filename, **where, severity=diagnostic.code, message=diagnostic.message,
                label=diagnostic.label, hint=diagnostic.hint)


def _compile(args) -> int:
    from compiler import check, compile_spec

    from .text_report import model_table

    program = check(Path(args.spec), filename=args.spec, limits=_limits(args),
                    allow_outside=args.allow_outside_data)
    print(compile_spec(program))
    print()
    print(model_table(program.spec.summary(), program.spec.parameter_count))
    return EXIT_OK


def _run(args) -> int:
    from .commands import run_command

    return run_command(args, _limits(args))


_COMMANDS = {"run": _run, "check": _check, "compile": _compile}
