"""The command line's grammar: every subcommand, option and help text.

In: nothing. Out: `parser()` for `nqa` and `run_parser()` for `python -m runtime`.
Importing this module is cheap (no torch, no pydantic models built).
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import NoReturn

from compiler.limits import Limits, parse_size
from spec_lang import codes

from . import version


class _Version(argparse.Action):
    """`--version`, looking the version up only when asked (it costs a metadata scan)."""

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"{parser.prog} {version()}")
        parser.exit()


class _Once(argparse.Action):
    """An option that takes one value and may be given once: a second `--seed` is a
    mistake to point out, not a silent "the last one wins"."""

    def __call__(self, parser, namespace, values, option_string=None):
        given = namespace.__dict__.setdefault("_given", set())
        if self.dest in given:
            parser.error(f"argument {'/'.join(self.option_strings)}: given twice; give it once")
        given.add(self.dest)
        setattr(namespace, self.dest, values)


class UsageExit(SystemExit):
    """The command line's own grammar refused the arguments (exit 2); `message` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(2)
        self.message = message


class _Parser(argparse.ArgumentParser):
    """A parser (and, through `add_subparsers`, subparsers) whose options that store
    a value take it once, and whose refusals carry their message (for `--json -`)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.register("action", None, _Once)
        self.register("action", "store", _Once)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error[{codes.BAD_COMMAND_LINE}]: {message}", file=sys.stderr)
        raise UsageExit(message)


_DIGITS = re.compile(r"[+-]?[0-9]+")


def _integer(text: str) -> int:
    """A whole number written as in a spec: digits 0 to 9 (`int` would take `1_000` and other scripts' digits)."""
    if not _DIGITS.fullmatch(text):
        raise argparse.ArgumentTypeError(f"expected a whole number written with the digits 0 to 9, not {text!r}")
    return int(text)


def _count(text: str, least: int = 0) -> int:
    value = _integer(text)
    if value < least:
        raise argparse.ArgumentTypeError(f"expected a number of at least {least}, not {value}")
    return value


def _positive(text: str) -> int:
    return _count(text, 1)


def _limits(p: argparse.ArgumentParser) -> None:
    p.add_argument("--allow-outside-data", action="store_true",
                   help="let `data` statements read files outside the spec's folder")
    defaults = Limits()
    group = p.add_argument_group("limits")
    for name, field in Limits.model_fields.items():
        if name == "memory_budget":
            continue
        what = f"{field.description} " if field.description else ""
        group.add_argument("--" + name.replace("_", "-"), type=_positive, default=getattr(defaults, name),
                           metavar="N", help=f"{what}(default {getattr(defaults, name):,})")
    group.add_argument("--memory-budget", type=_size, metavar="SIZE",
                       help="bytes a data set may take in memory, e.g. 500MB or 2GiB: a data set (CSV or "
                            "Parquet files) that reading whole would hold more of, or larger than --max-data-bytes, "
                            "is streamed in pieces "
                            "(default: a quarter of this machine's memory)")


def _size(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _run_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", help="the .nqa file to train")
    p.add_argument("--seed", type=_integer, help="random seed (overrides the spec's `seed`)")
    p.add_argument("--epochs", type=_integer, help="epochs (overrides the spec's `epochs`)")
    p.add_argument("--json", metavar="PATH|-", help="also write the JSON report to PATH; `-` prints only JSON")
    p.add_argument("--quiet", "-q", action="store_true", help="print no text report and no progress bar")
    p.add_argument("--log-every", type=_count, default=0, metavar="N",
                   help="print a progress line to stderr every N steps (for pipes and CI; 0, the default: none)")
    p.add_argument("--trace", action="append", choices=["grads", "params"],
                   help="record the gradients (after backward) or parameters (after each step) "
                        "of every step in the JSON report; printed with --log-every")
    p.add_argument("--full-parameters", action="store_true",
                   help="list every parameter value in the JSON report (above 100,000 values it gives each "
                        "tensor's count, mean, min, max and sha256)")
    p.add_argument("--save", metavar="PATH", help="write the trained weights (safetensors) with the spec and seed")
    p.add_argument("--load", metavar="PATH", help="start from weights saved with --save")
    p.add_argument("--plot", metavar="PNG", help="draw the loss curve (needs matplotlib: the `plot` extra)")
    p.add_argument("--draw", metavar="SVG", help="draw the network with its trained weights")
    p.add_argument("--runs", type=_positive, metavar="N",
                   help="train N copies at once, seeds SEED to SEED+N-1, and report the distribution; for a "
                        "sweep, N seeds of every combination")
    p.add_argument("--tolerance", type=float, metavar="LOSS",
                   help="with --runs: a run has reached the target when its final loss is below this (default 0.001)")
    p.add_argument("--best", metavar="PATH",
                   help="for a sweep (a spec with choice(...) values): write the best combination to PATH as a "
                        "plain spec, each choice replaced by its value")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="cpu",
                   help="where to train; auto uses a GPU when there is one (default: cpu)")
    p.add_argument("--precision", choices=["fp32", "bf16", "fp16"],
                   help="with a CUDA device: run the forward pass and the loss in bfloat16 or float16 "
                        "(torch.autocast; fp16 with a grad scaler) (default: fp32)")
    p.add_argument("--compile", action="store_true", help="with a CUDA device: run the network through torch.compile")
    p.add_argument("--nproc", type=_integer, metavar="N",
                   help="train on N worker processes of this machine (torch.distributed, DDP), each taking "
                        "1/N of every batch; rank 0 prints and writes (default: 1)")
    p.add_argument("--checkpoint-every", type=_positive, metavar="N",
                   help="write a checkpoint every N epochs (and on Ctrl-C), from which --resume goes on exactly")
    p.add_argument("--checkpoint-dir", metavar="DIR",
                   help="the folder of checkpoints (default: beside the --json report, named after it, "
                        "else beside the spec: iris.nqa -> iris.checkpoints; with --resume, its folder)")
    p.add_argument("--resume", metavar="DIR",
                   help="go on from the newest checkpoint in DIR, checkpointing on into it as often as before")
    p.add_argument("--log-dir", metavar="DIR",
                   help="keep the run log (runs.db) in DIR (default: $NQA_LOG_DIR, else .nqa beside the spec)")
    p.add_argument("--no-log", action="store_true", help="do not add this run to the run log")
    p.add_argument("--tensorboard", metavar="DIR",
                   help="write the losses as TensorBoard event files in DIR (needs the `tensorboard` extra)")
    _limits(p)


def run_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m runtime", description="Train a .nqa spec and print its report.")
    _run_arguments(p)
    return p


def parser() -> argparse.ArgumentParser:
    top = _Parser(prog="nqa", description="Check, compile, train and draw .nqa network specs.")
    top.add_argument("--version", action=_Version, nargs=0, help="show program's version number and exit")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (_check, _run, _predict, _evaluate, _compile, _draw, _fmt, _export, _schema, _explain, _lsp):
        add(sub)
    from .runs_arguments import runs_arguments

    runs_arguments(sub, _positive)
    return top


def _check(sub) -> None:
    p = sub.add_parser("check", help="parse and check specs without running them (no torch)",
                       description="Parse and check specs; report every problem with its place.")
    p.add_argument("specs", nargs="+", metavar="spec", help="the .nqa files to check; `-` reads standard input")
    p.add_argument("--quiet", "-q", action="store_true", help="print only errors")
    p.add_argument("--format", choices=["text", "json"], default="text",
                   help="json: print every error as an object on stdout, for editors and CI")
    _limits(p)


def _run(sub) -> None:
    _run_arguments(sub.add_parser("run", help="train a spec and print its report",
                                  description="Train a spec and print its report (the same as python -m runtime)."))


def _trained(p: argparse.ArgumentParser) -> None:
    """The spec and the weights, as `predict` and `evaluate` both take them."""
    p.add_argument("spec", help="the .nqa file the weights were trained from")
    p.add_argument("--load", required=True, metavar="PATH", help="the weights, saved with `nqa run --save`")


def _predict(sub) -> None:
    p = sub.add_parser("predict", help="run a trained network over new rows",
                       description="Run the network of a spec, with weights saved by `nqa run --save`, over the "
                                   "rows of a file (or one example) in eval mode, and write its answers.")
    _trained(p)
    p.add_argument("--data", metavar="FILE", help="the rows to predict (CSV, .npz or Parquet; targets may be left out)")
    p.add_argument("--input", metavar="VECTOR", help='one example to predict, e.g. "[5.1, 3.5, 1.4, 0.2]"')
    p.add_argument("-o", "--output", default="-", metavar="PATH",
                   help="where to write the predictions CSV (default: stdout)")
    p.add_argument("--json", metavar="PATH|-", help="with --input: also write the answer as JSON; `-` prints only JSON")
    _limits(p)


def _evaluate(sub) -> None:
    p = sub.add_parser("evaluate", help="score a trained network on labelled rows",
                       description="The loss and the metrics (accuracy, precision, recall, F1 and the confusion "
                                   "matrix; or MAE, RMSE and R²) of a trained network on a file of rows with targets.")
    _trained(p)
    p.add_argument("--data", required=True, metavar="FILE", help="the labelled rows to score (CSV, .npz or Parquet)")
    p.add_argument("--json", metavar="PATH|-", help="also write the results as JSON to PATH; `-` prints only JSON")
    p.add_argument("--plot", metavar="PNG", help="draw the confusion matrix (needs matplotlib: the `plot` extra)")
    _limits(p)


def _compile(sub) -> None:
    p = sub.add_parser("compile", help="print the network a spec builds, with its summary",
                       description="Print the nn.Sequential a spec builds and its summary table.")
    p.add_argument("spec", help="the .nqa file to compile")
    p.add_argument("--emit", choices=["summary", "python"], default="summary",
                   help="summary: the network and its table; python: a standalone PyTorch script")
    p.add_argument("-o", "--output", default="-", metavar="PATH", help="where to write (default: stdout)")
    _limits(p)


def _draw(sub) -> None:
    p = sub.add_parser("draw", help="draw the network as SVG",
                       description="Draw the network as SVG: inputs, neurons, bias units, connections.")
    p.add_argument("spec", help="the .nqa file to draw")
    p.add_argument("-o", "--output", default="-", metavar="SVG", help="where to write it (default: stdout)")
    p.add_argument("--weights", metavar="PATH", help="colour the connections by weights saved with --save")
    _limits(p)


def _fmt(sub) -> None:
    p = sub.add_parser("fmt", help="rewrite specs in the canonical layout, keeping comments",
                       description="Rewrite specs in one canonical layout (spacing, separators, argument "
                                   "order, number spelling), keeping every comment.")
    p.add_argument("specs", nargs="+", metavar="spec", help="the .nqa files to format")
    p.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file would change")
    p.add_argument("--diff", action="store_true", help="change nothing; print how each file would change")


def _export(sub) -> None:
    p = sub.add_parser("export", help="write the trained network as ONNX",
                       description="Train a spec as `nqa run` would (or not, with --untrained) "
                                   "and write the network as ONNX (needs the `onnx` extra).")
    p.add_argument("spec", help="the .nqa file to export")
    p.add_argument("--onnx", required=True, metavar="PATH", help="where to write the ONNX model")
    p.add_argument("--untrained", action="store_true", help="export the seeded, untrained network")
    p.add_argument("--seed", type=_integer, help="random seed (overrides the spec's `seed`)")
    p.add_argument("--epochs", type=_integer, help="epochs (overrides the spec's `epochs`)")
    _limits(p)


def _lsp(sub) -> None:
    sub.add_parser("lsp", help="run the language server for editors, on standard input and output (no torch)",
                   description="Run the Language Server Protocol server for .nqa files on standard input and "
                               "output: diagnostics as you type, shape hints, formatting, symbols. Needs "
                               "`pip install 'nqa[lsp]'`. See docs/editors.md.")


def _schema(sub) -> None:
    p = sub.add_parser("schema", help="print the JSON Schema of the checked spec and of the report",
                       description="Print JSON Schemas: the checked spec model, the JSON report, the JSON "
                                   "report of a sweep, and the JSON of `nqa evaluate` and of `nqa predict --input`.")
    p.add_argument("which", nargs="?", choices=["all", "spec", "report", "sweep", "evaluate", "predict"],
                   default="all",
                   help="which schema to print (default: all, as one object)")


def _explain(sub) -> None:
    p = sub.add_parser("explain", help="explain an error code, with a wrong spec and its fix",
                       description="Explain an error code (`E0201`, as in `error[E0201]: ...`): what it means, "
                                   "a spec that gets it, the message, and the spec fixed. Without a code, "
                                   "list every code.")
    p.add_argument("code", nargs="?", help="the code, e.g. E0201 (any case); leave it out to list every code")
