"""The grammar of `nqa runs`, `nqa runs show ID` and `nqa runs compare ID ID`.

In: the `nqa` subparsers and the parser of a whole number of at least 1. Out:
the `runs` subcommand, its options and help texts; `args.action` is None (the
list), "show" or "compare".
"""

from __future__ import annotations

import argparse

SORTS = ("time", "final_loss", "best_loss", "accuracy", "held_out_loss", "seed", "id")

_LOG_DIR = "the folder of the run log (default: $NQA_LOG_DIR, else .nqa beside --spec, else ./.nqa)"


SQLITE_MAX = 2**63 - 1  # the largest number SQLite keeps: a run's number or a limit above it is refused


def _bounded(positive):
    def number(text: str) -> int:
        value = positive(text)
        if value > SQLITE_MAX:
            raise argparse.ArgumentTypeError(f"expected a number of at most {SQLITE_MAX:,}, not {value}")
        return int(value)
    return number


def runs_arguments(sub, positive) -> None:
    positive = _bounded(positive)
    p = sub.add_parser("runs", help="list the runs in the run log; show or compare them",
                       description="List the runs `nqa run` logged (newest first), show one's report, or "
                                   "compare two: `nqa runs`, `nqa runs show ID`, `nqa runs compare ID ID`.")
    p.add_argument("--spec", metavar="PATH", help="only the runs of this spec (and look for the log beside it)")
    p.add_argument("--sort", choices=SORTS, default="time",
                   help="order: time and id newest first; losses lowest first; accuracy highest first")
    p.add_argument("--limit", type=positive, metavar="N", help="list at most N runs")
    p.add_argument("--json", action="store_true", help="print the list as JSON")
    p.add_argument("--log-dir", metavar="DIR", help=_LOG_DIR)
    actions = p.add_subparsers(dest="action", metavar="ACTION", help="show or compare; none: list the runs")
    show = actions.add_parser("show", help="print the report of a logged run",
                              description="Print a logged run's report as `nqa run` printed it.")
    show.add_argument("id", type=positive, help="the run's number, as `nqa runs` lists it")
    show.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                      help="print the stored JSON report instead")
    show.add_argument("--log-dir", metavar="DIR", default=argparse.SUPPRESS, help=_LOG_DIR)
    compare = actions.add_parser("compare", help="the spec diff and the metrics of two logged runs",
                                 description="Show how two logged runs differ: their specs (a unified diff) and "
                                             "their metrics side by side.")
    compare.add_argument("ids", type=positive, nargs=2, metavar="ID", help="the two runs' numbers")
    compare.add_argument("--plot", metavar="PNG", help="draw both loss curves in one picture (needs matplotlib)")
    compare.add_argument("--log-dir", metavar="DIR", default=argparse.SUPPRESS, help=_LOG_DIR)
