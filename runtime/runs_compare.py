"""`nqa runs compare ID ID`: how two logged runs differ.

In: the parsed command line (two run ids, `--plot`, `--log-dir`). Out: on
stdout, the unified diff of their specs (or a line saying the specs are the
same) and a table of their metrics side by side with the difference; with
`--plot PNG`, both loss curves in one picture (matplotlib, imported only here),
written atomically. Exit 0, or 2 for an unknown id or a missing log.
"""

from __future__ import annotations

import difflib
import importlib.util
import io
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from spec_lang import codes, usage_error, visible

from .files import check_outputs, write_atomic
from .run_log_schema import FILE, log_folder
from .runs_command import no_log, number, opened, percent, record, shown_path

_METRICS = (("final loss", "final_loss", number), ("best loss", "best_loss", number),
            ("held-out loss", "held_out_loss", number), ("held-out accuracy", "held_out_accuracy", percent))
_SAID: tuple[tuple[str, str, Callable[[Any], str]], ...] = (
    ("spec", "spec_path", shown_path), ("seed", "seed", str), ("status", "status", str),
         ("kind", "kind", str), ("started (UTC)", "started", str), ("torch", "torch_version", str),
         ("nqa", "nqa_version", str))


def compare_command(args) -> int:
    if args.plot:
        _plot_wanted(args.plot)
        folder = log_folder(args.log_dir, getattr(args, "spec", None))
        check_outputs({"--plot": args.plot}, {"the run log": folder / FILE, "the run log's journal":
                                              folder / f"{FILE}-wal", "the run log's index": folder / f"{FILE}-shm"})
    db = opened(args)
    if db is None:
        raise usage_error(f"there are no runs to compare: {no_log(args)}", "give the log's folder with --log-dir",
                          code=codes.RUN_LOG)
    first, second = (record(db, n) for n in args.ids)
    sys.stdout.write(spec_diff(first, second))
    sys.stdout.write("\n" + metric_table(first, second))
    if args.plot:
        write_atomic(args.plot, _picture(first, second, args.plot))
    return 0


def _stored(run: dict, column: str) -> dict:
    """A record's JSON column (`options`, `curve`) as an object; a damaged one is said, not a traceback."""
    try:
        value = json.loads(run[column] or "{}")
    except (ValueError, TypeError, RecursionError):
        value = None
    if not isinstance(value, dict):
        raise usage_error(f"run {run['id']}'s {column} in the run log are damaged: they are not the JSON object "
                          "nqa stored", "compare other runs, or remove the damaged one from the log",
                          code=codes.RUN_LOG)
    return value


def spec_diff(first: dict, second: dict) -> str:
    if first["fingerprint"] == second["fingerprint"]:
        return f"the specs are the same (sha256 {first['fingerprint'][:12]})\n"
    lines = difflib.unified_diff(first["spec_text"].splitlines(keepends=True),
                                 second["spec_text"].splitlines(keepends=True),
                                 f"run {first['id']}: {shown_path(first['spec_path'])}",
                                 f"run {second['id']}: {shown_path(second['spec_path'])}")
    return "".join(visible(line.rstrip("\r\n"), tab="\t") + "\n" for line in lines)


def metric_table(first: dict, second: dict) -> str:
    rows = [("", f"run {first['id']}", f"run {second['id']}", "difference")]
    for name, key, shown in _SAID:
        a, b = first.get(key), second.get(key)
        rows.append((name, visible(shown(a)) if a is not None else "-", visible(shown(b)) if b is not None else "-",
                     "" if a == b else "differs"))
    options = (_stored(first, "options"), _stored(second, "options"))
    for name in sorted(set(options[0]) | set(options[1])):
        a, b = options[0].get(name), options[1].get(name)
        rows.append((f"--{name.replace('_', '-')}", visible(str(a)) if a is not None else "-",
                     visible(str(b)) if b is not None else "-", "" if a == b else "differs"))
    for name, key, metric in _METRICS:
        x, y = first.get(key), second.get(key)
        change = "-" if x is None or y is None else (f"{y - x:+.6g}" if metric is number else f"{100 * (y - x):+.1f}%")
        rows.append((name, metric(x), metric(y), change))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() + "\n"
                   for row in rows)


def _plot_wanted(path: str) -> None:
    from .commands import PLOT_FORMATS

    suffix = Path(path).suffix.lstrip(".").lower()
    if suffix not in PLOT_FORMATS:
        raise usage_error(f"--plot cannot write a `.{suffix}` file" if suffix else
                          "--plot needs a file name ending in the picture format",
                          "end the name with " + ", ".join(f".{f}" for f in PLOT_FORMATS[:4]), code=codes.OUTPUT_NAME)
    if importlib.util.find_spec("matplotlib") is None:
        raise usage_error("--plot needs matplotlib, which is not installed",
                          "install it with `pip install 'nqa[plot]'`", code=codes.MISSING_PACKAGE)
    check_outputs({"--plot": path}, {})


def _picture(first: dict, second: dict, path: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 3.5), dpi=120)
    for run, colour in ((first, "#1f5fa8"), (second, "#c0392b")):
        curve = _stored(run, "curve")
        label = f"run {run['id']} ({shown_path(run['spec_path'])}, seed {run['seed']})"
        axes.plot(curve.get("steps", []), curve.get("losses", []), color=colour, linewidth=1.2, label=label)
        if curve.get("held_out"):
            axes.plot(curve["held_out_steps"], curve["held_out"], color=colour, linewidth=1.2, linestyle="--",
                      label=f"run {run['id']}, held out")
    values = [x for run in (first, second) for x in _stored(run, "curve").get("losses", [])
              if x is not None and x > 0]
    if values and max(values) / min(values) > 1000:
        axes.set_yscale("log")
    axes.set_xlabel("step")
    axes.set_ylabel("loss")
    axes.legend(fontsize=7)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format=Path(path).suffix.lstrip(".").lower())
    plt.close(figure)
    return buffer.getvalue()
