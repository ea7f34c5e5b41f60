"""What `nqa run` reports for a sweep: every combination, ranked by what it is measured by.

In: the checked program and what training each combination gave
(`sweep_run.SweepResult`). Out: `SweepReport` (pydantic; JSON with `--json`,
its JSON Schema with `nqa schema sweep`) and its text form, a table with one
row per combination, best first. Combinations are measured by the held-out
accuracy with `validate` and a class loss (highest first), by the held-out loss
with `validate` otherwise, and by the final training loss (the last epoch's
mean) without it (lowest first): the mean over the seeds whose run finished,
with the standard deviation over them. A combination with runs whose loss
stopped being finite ranks after those without, fewer such runs first; one not
trained (the sweep was stopped) ranks last. No torch here.
"""

from __future__ import annotations

import math
import statistics
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from compiler import Program
from compiler.messages import plural
from spec_lang import visible

from .report import SCHEMA_VERSION, WarningEntry
from .text_report import num

if TYPE_CHECKING:
    from .sweep_run import Outcome, SweepResult

Metric = Literal["held_out_accuracy", "held_out_loss", "final_loss"]
WORDS = {"held_out_accuracy": "held-out accuracy", "held_out_loss": "held-out loss", "final_loss": "final loss"}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Spread(_Frozen):
    mean: float | None = Field(description="over the runs that finished; null when none did")
    sd: float | None = Field(description="their sample standard deviation; null with fewer than two")


class SweepRun(_Frozen):
    seed: int
    final_loss: float | None = Field(description="the mean training loss of the last epoch; null: it diverged")
    held_out_loss: float | None = Field(None, description="the loss on the rows `validate` holds out, after training")
    held_out_accuracy: float | None = Field(None, description="the share of them classified right (class loss)")


class SweepEntry(_Frozen):
    rank: int = Field(description="1 for the best combination")
    combination: int = Field(description="its place among the combinations in the order the choices make them, "
                                         "from 0, the last choice's value changing fastest")
    values: dict[str, Any] = Field(description="each choice's value in this combination, by the choice's label")
    written: dict[str, str] = Field(description="the same values as the spec writes them")
    metric: Spread = Field(description="what the combinations are ranked by (`metric`), over the seeds")
    final_loss: Spread
    held_out_loss: Spread | None = Field(None, description="with `validate`")
    held_out_accuracy: Spread | None = Field(None, description="with `validate` and a class loss")
    diverged: int = Field(description="runs whose loss stopped being finite")
    steps: int = Field(description="optimizer steps of each run")
    trained: str = Field(description="how its runs were trained: `stacked` or `vmap` (with the other combinations "
                                     "of its group, at once), or `one by one`; empty if not trained")
    runs: tuple[SweepRun, ...]


class ChoiceInfo(_Frozen):
    label: str = Field(description="what `values` calls it: the option (`lr`), or the statement (`batch`)")
    statement: str
    field: str = Field(description="the field of the statement it sets, as `nqa schema spec` names it")
    line: int
    column: int
    end_line: int
    end_column: int = Field(description="exclusive")
    values: tuple[Any, ...]
    written: tuple[str, ...]


class SweepReport(_Frozen):
    schema_version: int = Field(SCHEMA_VERSION, description="the version of the report formats (`nqa schema`)")
    spec: str
    torch_version: str
    combinations: int
    runs: int = Field(description="runs of each combination, seeds `first_seed` on")
    first_seed: int
    metric: Metric = Field(description="what ranks the combinations")
    higher_is_better: bool
    choices: tuple[ChoiceInfo, ...]
    best: str | None = Field(None, description="the file `--best` wrote the best combination to")
    stopped: str | None = Field(None, description="why training stopped before the end; null when it finished")
    timing: dict[str, float] = Field(default_factory=dict, description="seconds: training")
    warnings: tuple[WarningEntry, ...] = ()
    each: tuple[SweepEntry, ...] = Field(description="one entry per combination, best first")


def metric_of(program: Program) -> Metric:
    spec = program.spec
    if spec.held_out is None:
        return "final_loss"
    return "held_out_accuracy" if spec.loss.class_targets else "held_out_loss"


def _spread(values: list[float | None]) -> Spread:
    kept = [v for v in values if v is not None and math.isfinite(v)]
    return Spread(mean=statistics.fmean(kept) if kept else None, sd=statistics.stdev(kept) if len(kept) > 1 else None)


def sweep_report(program: Program, result: SweepResult, first_seed: int, runs: int, torch_version: str,
                 timing: dict[str, float], best: str | None = None) -> SweepReport:
    sweep = program.sweep
    assert sweep is not None
    metric = metric_of(program)
    entries = [_entry(program, n, outcome, metric) for n, outcome in enumerate(result.outcomes)]
    higher = metric == "held_out_accuracy"
    ranked = sorted(entries, key=lambda e: (not e.runs, e.metric.mean is None, e.diverged,
                                            -(e.metric.mean or 0) if higher else (e.metric.mean or 0)))
    choices = tuple(ChoiceInfo(label=c.label, statement=c.statement, field=c.field, line=c.span.line,
                               column=c.span.column, end_line=c.span.end_line, end_column=c.span.end_column,
                               values=c.values(), written=tuple(c.text(k, program.source)
                                                                                for k in range(len(c.items))))
                    for c in sweep.choices)
    return SweepReport(
        spec=program.filename, torch_version=torch_version, combinations=len(sweep.combinations), runs=runs,
        first_seed=first_seed, metric=metric, higher_is_better=higher, choices=choices, best=best,
        stopped=result.stopped, timing=timing,
        warnings=tuple(WarningEntry.model_validate(w) for w in program.warnings),
        each=tuple(e.model_copy(update={"rank": rank}) for rank, e in enumerate(ranked, start=1)))


def _entry(program: Program, index: int, outcome: Outcome, metric: Metric) -> SweepEntry:
    sweep = program.sweep
    assert sweep is not None
    combination = sweep.combinations[index]
    runs = tuple(SweepRun(seed=seed, final_loss=final, held_out_loss=held, held_out_accuracy=right)
                 for seed, final, held, right in outcome.runs)
    held = program.spec.held_out is not None
    classes = held and program.spec.loss.class_targets
    final = _spread([r.final_loss for r in runs])
    held_loss = _spread([r.held_out_loss for r in runs]) if held else None
    accuracy = _spread([r.held_out_accuracy for r in runs]) if classes else None
    measured = {"final_loss": final, "held_out_loss": held_loss, "held_out_accuracy": accuracy}[metric] or final
    written = {c.label: c.text(pick, program.source) for c, pick in zip(sweep.choices, combination.picks,
                                                                       strict=True)}
    return SweepEntry(rank=0, combination=index, values=sweep.values(combination), written=written, metric=measured,
                      final_loss=final, held_out_loss=held_loss, held_out_accuracy=accuracy,
                      diverged=sum(r.final_loss is None for r in runs), steps=outcome.steps, trained=outcome.path,
                      runs=runs)


def _shown(spread: Spread | None, runs: int) -> str:
    if spread is None or spread.mean is None:
        return "-"
    return num(spread.mean) if runs == 1 or spread.sd is None else f"{num(spread.mean)} ± {num(spread.sd)}"


def render_sweep(report: SweepReport) -> str:
    last = report.first_seed + report.runs - 1
    seeds = (f"seed {report.first_seed}" if report.runs == 1 else
             f"seeds {report.first_seed} to {last}: {report.runs} runs each, {report.runs * report.combinations:,} "
             f"in all")
    size = plural(report.combinations, "combination")
    size = " x ".join(str(len(c.values)) for c in report.choices) + f" = {size}" if len(report.choices) > 1 else size
    over = "" if report.runs == 1 else f": the mean over {report.runs} seeds ± their standard deviation"
    order = "highest" if report.higher_is_better else "lowest"
    columns = ["#", *(c.label for c in report.choices), WORDS[report.metric]]
    columns += ["final loss"] if report.metric != "final_loss" else []
    diverged = any(e.diverged for e in report.each)
    columns += ["diverged"] if diverged else []
    rows = []
    for e in report.each:
        row = [str(e.rank), *(visible(e.written[c.label]) for c in report.choices), _shown(e.metric, report.runs)]
        row += [_shown(e.final_loss, report.runs)] if report.metric != "final_loss" else []
        row += [f"{e.diverged} of {len(e.runs)}" if e.runs else "not trained"] if diverged else []
        rows.append(row)
    widths = [max(len(text) for text in column) for column in zip(columns, *rows, strict=True)]
    lines = [f"nqa run {visible(report.spec)}  (a sweep of {size}, {seeds})", "",
             f"ranked by {WORDS[report.metric]}, {order} first{over}", ""]
    lines += ["  " + "  ".join(text.rjust(w) if n == 0 else text.ljust(w) for n, (text, w) in
                                enumerate(zip(row, widths, strict=True))).rstrip() for row in [columns, *rows]]
    best = report.each[0]
    if best.metric.mean is not None:
        written = " ".join(f"{visible(label)}={visible(text)}" for label, text in best.written.items())
        where = f" (written to {visible(report.best)})" if report.best else ""
        lines += ["", f"best: {written}{where}"]
    if report.stopped:
        lines.append(f"stopped: {report.stopped}")
    return "\n".join(lines) + "\n"
