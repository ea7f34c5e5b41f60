"""Every `nqa run` appends one record to the run log (unless `--no-log`).

In: the parsed `nqa run` command line, the command itself, and the report it
noted (`note(args, report, kind)`). Out: the command's exit code, unchanged;
and a row in `runs.db` (see `run_log_schema.py`): the spec, its text and
sha256, the seed and options, the versions, the start and end times (UTC), the
status (finished, diverged, interrupted or failed), the final, best and
held-out metrics, where the report and weights went, the JSON report
(zlib-compressed, left out above `REPORT_CAP` bytes compressed) and the loss
curve (at most `CURVE_POINTS` points). A run that stops on a spec error, before
training, noted no report and is not logged. A log that cannot be written
costs the run nothing: one line on stderr says so and why.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
import zlib
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from spec_lang import SpecError, read_source

from .json_text import json_text
from .run_log_schema import TIMEOUT, LogError, connect, explain, log_folder, writable

REPORT_CAP = 8 * 2**20  # bytes of compressed JSON report kept; a larger one is left out (its size is kept)
CURVE_POINTS = 20_000
STATUS = {0: "finished", 3: "diverged", 130: "interrupted", 143: "interrupted"}
_OPTIONS = ("seed", "epochs", "json", "quiet", "log_every", "trace", "full_parameters", "save", "load", "plot",
            "draw", "runs", "tolerance", "best", "device", "precision", "compile", "tensorboard", "allow_outside_data",
            "nproc")


def note(args, report, kind: str = "run") -> None:
    """What `nqa run` reports (a `Report`, or the report of `--runs N` or a sweep), for the log."""
    args.run_log_noted = (kind, report)


def logged(args, command: Callable[[], int]) -> int:
    """Run `command` (`nqa run`) and log it, unless `--no-log`."""
    if getattr(args, "no_log", False):
        return command()
    started = _now()
    try:
        code = command()
    except KeyboardInterrupt:
        _log(args, started, "interrupted")
        raise
    except Exception:
        _log(args, started, "failed")
        raise
    _log(args, started, STATUS.get(code, "failed"))
    return code


def _log(args, started: str, status: str) -> None:
    noted = getattr(args, "run_log_noted", None)
    if noted is None:  # stopped before training: nothing ran, nothing to log
        return
    kind, report = noted
    folder = log_folder(getattr(args, "log_dir", None), args.spec)
    try:
        record = build_record(args, kind, report, started, status)
        number = append(folder, record)
    except LogError as err:
        print(f"nqa: the run log was not written: {err}", file=sys.stderr)
        return
    if sys.stderr.isatty() and not args.quiet and args.json != "-":
        print(f"nqa: logged as run {number}: nqa runs show {number}", file=sys.stderr)


def append(folder: Path, record: dict[str, Any], timeout: float = TIMEOUT) -> int:
    """Add `record` to the log in `folder`; its id. Raises `LogError`."""
    db = connect(folder, timeout)
    try:
        writable(db, folder)
        names = ", ".join(record)
        cursor = db.execute(f"INSERT INTO runs ({names}) VALUES ({', '.join('?' * len(record))})",
                            tuple(record.values()))
        return int(cursor.lastrowid or 0)
    except sqlite3.Error as err:
        raise LogError(explain(err, folder / "runs.db", timeout)) from None
    finally:
        db.close()


def build_record(args, kind: str, report, started: str, status: str) -> dict[str, Any]:
    """The row for one run; `report` a pydantic model (or plain data)."""
    from . import version

    if getattr(report, "trace", None):  # --trace's per-step values are the report's bulk, not the run's record
        report = report.model_copy(update={"trace": ()})
    written = json_text(report)  # the report as `--json` writes it (without a --trace)
    data = json.loads(written)
    spec = Path(args.spec)
    try:
        text = read_source(spec)  # bounded, as checking read it
    except SpecError:
        raise LogError(f"the spec `{spec}` could not be read again") from None
    stored = zlib.compress(written.encode(), 6)
    validation = data.get("validation") or {}
    held_out = validation.get("losses") or []
    torch = sys.modules.get("torch")
    torch_version = data.get("torch_version") or (torch.__version__ if torch else None)
    return {
        "kind": kind, "spec_path": str(spec.resolve()), "spec_text": text,
        "fingerprint": hashlib.sha256(text.encode()).hexdigest(),
        "seed": data.get("seed", data.get("first_seed", args.seed)), "options": json.dumps(options(args)),
        "torch_version": torch_version, "nqa_version": version(), "started": started, "ended": _now(),
        "status": status, "final_loss": _number(data.get("final_loss")), "best_loss": best_loss(data),
        "held_out_loss": _number(held_out[-1]) if held_out else None,
        "held_out_accuracy": _number(validation.get("accuracy")),
        "report_path": None if args.json in (None, "-") else str(Path(args.json).resolve()),
        "weights_path": str(Path(args.save).resolve()) if getattr(args, "save", None) else None,
        "report": stored if len(stored) <= REPORT_CAP else None, "report_bytes": len(stored),
        "curve": json.dumps(curve(data)), "test_metrics": json.dumps(data["test"]) if data.get("test") else None,
    }


def options(args) -> dict[str, Any]:
    """The options given on the command line that change or place a run (unset ones left out)."""
    return {name: getattr(args, name) for name in _OPTIONS if getattr(args, name, None) not in (None, False, 0)}


def best_loss(data: dict) -> float | None:
    finite = [x for x in data.get("epoch_losses") or () if isinstance(x, int | float) and x == x
              and abs(x) != float("inf")]
    return min(finite) if finite else None


def curve(data: dict) -> dict[str, Any]:
    """The training loss at every step (every k-th, past `CURVE_POINTS`), and the held-out loss per epoch."""
    losses = list(data.get("losses") or ())
    every = max(1, -(-len(losses) // CURVE_POINTS))
    steps = list(range(1, len(losses) + 1, every))
    per_epoch = (data.get("training") or {}).get("batches_per_epoch") or 1
    held_out = list((data.get("validation") or {}).get("losses") or ())[:CURVE_POINTS]
    return {"steps": steps, "losses": [_number(losses[s - 1]) for s in steps],
            "held_out_steps": [per_epoch * (e + 1) for e in range(len(held_out))],
            "held_out": [_number(x) for x in held_out]}


def _number(value) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
