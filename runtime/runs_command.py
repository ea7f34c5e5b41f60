"""`nqa runs` (the list) and `nqa runs show ID`: reading the run log.

In: the parsed `nqa runs` command line. Out: on stdout, a table of the logged
runs (id, time, spec, seed, status, final and best loss, held-out accuracy) or
its JSON, or one run's report as `nqa run` printed it (`--json`: the stored
JSON report); exit 0, or 2 with a message for an unknown id, a missing,
locked or unreadable log. Reads are bounded: a stored report is taken only
under `REPORT_CAP` bytes compressed, and unpacked only up to `SHOWN_CAP` bytes.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import zlib
from pathlib import Path

from spec_lang import codes, usage_error, visible

from .json_text import json_text
from .run_log import REPORT_CAP
from .run_log_schema import COLUMNS, FILE, TIMEOUT, LogError, connect, explain, log_folder

SHOWN_CAP = 256 * 2**20  # bytes of JSON report unpacked for `nqa runs show`
_ORDER = {"time": "started DESC, id DESC", "id": "id DESC", "seed": "seed IS NULL, seed, id DESC",
          "final_loss": "final_loss IS NULL, final_loss, id DESC", "best_loss": "best_loss IS NULL, best_loss, id DESC",
          "held_out_loss": "held_out_loss IS NULL, held_out_loss, id DESC",
          "accuracy": "held_out_accuracy IS NULL, held_out_accuracy DESC, id DESC"}
_LISTED = ("id", "started", "spec_path", "seed", "kind", "status", "final_loss", "best_loss", "held_out_loss",
           "held_out_accuracy")


def runs_command(args) -> int:
    if args.action == "show":
        return _show(args)
    if args.action == "compare":
        from .runs_compare import compare_command

        return compare_command(args)
    return _list(args)


def opened(args) -> sqlite3.Connection | None:
    """The log `--log-dir` (or `NQA_LOG_DIR`, or `.nqa` beside `--spec`) names; None when there is none yet."""
    folder = log_folder(args.log_dir, getattr(args, "spec", None))
    if not (folder / FILE).exists() and not (folder / FILE).is_symlink():
        return None
    try:
        return connect(folder, create=False)
    except LogError as err:
        raise usage_error(f"cannot read the run log: {err}", "give another folder with --log-dir",
                          code=codes.RUN_LOG) from None


def no_log(args) -> str:
    folder = log_folder(args.log_dir, getattr(args, "spec", None))
    return f"no run log in `{folder}` yet: each `nqa run` adds a record to it"


def _list(args) -> int:
    db = opened(args)
    if db is None:
        print(f"nqa: {visible(no_log(args))}", file=sys.stderr)
        return 0
    where, values = ("WHERE spec_path = ?", (str(Path(args.spec).resolve()),)) if args.spec else ("", ())
    limit = f" LIMIT {int(args.limit)}" if args.limit else ""
    with _reading(db):
        rows = db.execute(f"SELECT {', '.join(_LISTED)} FROM runs {where} ORDER BY {_ORDER[args.sort]}{limit}",
                          values).fetchall()
    records = [dict(zip(_LISTED, row, strict=True)) for row in rows]
    if args.json:
        sys.stdout.write(json_text(records))
    elif not records:
        print("no runs logged" + (f" for `{visible(args.spec)}`" if args.spec else ""), file=sys.stderr)
    else:
        sys.stdout.write(_table(records))
    return 0


def _table(records: list[dict]) -> str:
    head = ("id", "time (UTC)", "spec", "seed", "status", "final loss", "best loss", "held-out acc")
    lines = [head] + [(str(r["id"]), r["started"][:19].replace("T", " "), visible(shown_path(r["spec_path"])),
                       "-" if r["seed"] is None else str(r["seed"]),
                       r["status"] if r["kind"] == "run" else f"{r['status']} ({r['kind']})",
                       number(r["final_loss"]), number(r["best_loss"]), percent(r["held_out_accuracy"]))
                      for r in records]
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    right = {0, 3, 5, 6, 7}
    return "".join("  ".join(cell.rjust(w) if i in right else cell.ljust(w)
                             for i, (cell, w) in enumerate(zip(line, widths, strict=True))).rstrip() + "\n"
                   for line in lines)


def shown_path(path: str) -> str:
    """A stored (absolute) spec path, relative to the current folder when it is inside it."""
    try:
        return os.path.relpath(path) if not os.path.relpath(path).startswith("..") else path
    except ValueError:
        return path


def number(value) -> str:
    return "-" if value is None else f"{value:.6g}"


def percent(value) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def record(db: sqlite3.Connection, number: int) -> dict:
    """The logged run `number` (without its report); a usage error when there is none."""
    known = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
    names = [c for c in COLUMNS if c in known]
    with _reading(db):
        row = db.execute(f"SELECT {', '.join(names)} FROM runs WHERE id = ?", (number,)).fetchone()
    if row is None:
        last = db.execute("SELECT max(id) FROM runs").fetchone()[0]
        raise usage_error(f"there is no run {number} in the run log",
                          f"the runs are numbered 1 to {last}: see `nqa runs`" if last else
                          "no run is logged yet", code=codes.RUN_LOG)
    return dict(zip(names, row, strict=True))


def stored_report(db: sqlite3.Connection, number: int) -> str | None:
    """The run's JSON report, as `--json` wrote it; None when it was too large to keep."""
    with _reading(db):
        size = db.execute("SELECT length(report) FROM runs WHERE id = ?", (number,)).fetchone()
        if not size or size[0] is None or size[0] > REPORT_CAP:
            return None
        packed = db.execute("SELECT report FROM runs WHERE id = ?", (number,)).fetchone()[0]
    unpack = zlib.decompressobj()
    try:
        text = unpack.decompress(packed, SHOWN_CAP)
    except zlib.error:
        raise usage_error(f"the stored report of run {number} is damaged", "see the run's own --json file",
                          code=codes.RUN_LOG) from None
    if unpack.unconsumed_tail:
        return None
    return text.decode("utf-8", errors="replace")


def _show(args) -> int:
    db = opened(args)
    if db is None:
        raise usage_error(f"there is no run {args.id}: {no_log(args)}", "give the log's folder with --log-dir",
                          code=codes.RUN_LOG)
    run = record(db, args.id)
    text = stored_report(db, args.id)
    if text is None:
        raise usage_error(f"run {args.id}'s report ({run['report_bytes']:,} bytes compressed) was too large to keep "
                          "in the run log", f"see its own report file: {run['report_path'] or 'none was written'}",
                          code=codes.RUN_LOG)
    if getattr(args, "json", False):
        try:
            json.loads(text)
        except (ValueError, RecursionError):
            raise usage_error(f"the stored report of run {args.id} is damaged: it is not JSON",
                              "see the run's own --json file", code=codes.RUN_LOG) from None
        sys.stdout.write(text)
    else:
        sys.stdout.write(rendered(run, text))
    return 0


def rendered(run: dict, text: str) -> str:
    """The text report of a stored JSON report, as `nqa run` printed it (its JSON, if it no longer reads)."""
    from pydantic import ValidationError

    try:
        if run["kind"] == "sweep":
            from .sweep_report import SweepReport, render_sweep

            return render_sweep(SweepReport.model_validate_json(text))
        if run["kind"] == "runs":
            from .runs_report import RunsReport, render_runs

            return render_runs(RunsReport.model_validate_json(text), relu=_has_relu(run["spec_text"]))
        from .report import Report
        from .text_report import render_text

        return render_text(Report.model_validate_json(text))
    except (ValidationError, ValueError):
        return text if text.endswith("\n") else text + "\n"


class _reading:
    """Turns an SQLite error while reading into a usage error that says why."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, error, trace) -> None:
        if isinstance(error, sqlite3.Error):
            raise usage_error(f"cannot read the run log: {explain(error, Path('runs.db'), TIMEOUT)}",
                              "give another folder with --log-dir", code=codes.RUN_LOG) from None


def _has_relu(text: str) -> bool:
    """Whether a stored spec has a `relu` layer (by any of its names), as `nqa run --runs` asks of the
    spec it trains; False for a spec that no longer parses."""
    from compiler.layers.activations import ReLU
    from compiler.registry import lookup
    from spec_lang import SpecError, parse

    try:
        statements = list(parse(text).statements)
    except SpecError:
        return False
    while statements:
        statement = statements.pop()
        if lookup(statement.name) is ReLU:
            return True
        statements += statement.body or ()
    return False
