"""What `--runs N` reports: the distribution over runs, and every run.

In: a `RunsResult` and the tolerance. Out: `RunsReport` (pydantic; JSON with
`--json`) — final loss min / median / max, the share of runs whose parameters
never moved (for the tutorial's stage 2: the dead-ReLU rate), the share whose
final loss is below the tolerance, and each run's seed, final loss and final
parameters — and its text form. A run's final loss is its last epoch's mean,
each step weighted by its batch's rows, as in a single run's report (over the
steps of that epoch that ran, when Ctrl-C stopped the runs: `stopped` says so).
"""

from __future__ import annotations

import math
import statistics
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, Field

from compiler import Program
from compiler.messages import plural
from spec_lang import visible

from .epochs import last_epoch_means
from .report import SCHEMA_VERSION, WarningEntry
from .runs import RunsResult
from .tensors import LISTED_VALUES, TensorSummary, summary
from .text_report import num


class OneRun(BaseModel):
    model_config = ConfigDict(frozen=True)

    seed: int
    final_loss: float | None = Field(description="the mean loss of the last epoch")
    never_moved: bool = Field(description="no parameter of this run changed in training (buffers not counted)")
    parameters: dict[str, list[Any] | int | float | TensorSummary] = Field(
        description="final parameters and buffers by state_dict name: nested lists (a number for a 0-dim "
                    f"tensor, such as a step count) when all runs hold at most {LISTED_VALUES:,} values in all, "
                    "else a summary of each tensor")


class RunsReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    schema_version: int = Field(SCHEMA_VERSION, description="the version of the report formats (`nqa schema`)")
    spec: str
    torch_version: str
    runs: int
    first_seed: int
    steps: int
    tolerance: float
    final_loss_min: float
    final_loss_median: float
    final_loss_max: float
    never_moved_share: float = Field(description="share of runs whose parameters never moved (dead ReLU)")
    reached_share: float = Field(description="share of runs whose final loss (the last epoch's mean) is below "
                                             "`tolerance`")
    diverged: int = Field(description="runs whose loss stopped being finite")
    stopped: str | None = Field(None, description="why training stopped before its last step "
                                                  "(\"interrupted after 12 steps\"); null when it finished")
    timing: dict[str, float] = Field(default_factory=dict, description="seconds: init and training")
    warnings: tuple[WarningEntry, ...] = Field((), description="what checking the spec found likely wrong, "
                                                                "as in a single run's report")
    each: tuple[OneRun, ...]


def runs_report(program: Program, result: RunsResult, tolerance: float, timing: dict[str, float]) -> RunsReport:
    finals = final_losses(result)
    trained = torch.zeros(result.final.shape[1], dtype=torch.bool)  # buffers (running statistics) do not count
    for slot in result.slots:
        trained[slot.start:slot.end] = not slot.buffer
    still = (result.final[:, trained] == result.initial[:, trained]).all(dim=1).tolist()
    finite = [x for x in finals if math.isfinite(x)]
    each = tuple(OneRun(seed=seed, final_loss=loss if math.isfinite(loss) else None, never_moved=moved,
                        parameters=_named(result, n))
                 for n, (seed, loss, moved) in enumerate(zip(result.seeds, finals, still, strict=False)))
    return RunsReport(
        spec=program.filename, torch_version=torch.__version__, runs=len(result.seeds),
        first_seed=result.seeds[0], steps=len(result.losses), tolerance=tolerance,
        final_loss_min=min(finite, default=math.nan),
        final_loss_median=statistics.median(finite) if finite else math.nan,
        final_loss_max=max(finite, default=math.nan),
        never_moved_share=sum(still) / len(still),
        reached_share=sum(x < tolerance for x in finite) / len(finals),
        diverged=len(finals) - len(finite) if len(result.losses) else 0, stopped=result.stopped, timing=timing,
        warnings=tuple(WarningEntry.model_validate(w) for w in program.warnings), each=each)


def final_losses(result: RunsResult) -> list[float]:
    """Each run's final loss: its last epoch's mean, over the steps of that epoch that ran
    when training stopped within it; NaN for all when no step ran."""
    if not len(result.losses):
        return [math.nan] * len(result.seeds)
    ran = len(result.losses) % len(result.rows) or len(result.rows)
    return last_epoch_means(result.losses[-ran:], result.rows[:ran]).tolist()


def _named(result: RunsResult, n: int) -> dict[str, list[Any] | int | float | TensorSummary]:
    """Run `n`'s final parameters: listed, or summed up when all runs together hold more
    values than a report lists (as a single run's report does)."""
    row, every = result.final[n], result.final.numel() <= LISTED_VALUES
    named = {slot.name: row[slot.start:slot.end].view(slot.shape).to(getattr(torch, slot.dtype))
             for slot in result.slots}
    return {name: tensor.tolist() if every else summary(tensor) for name, tensor in named.items()}


def render_runs(report: RunsReport, relu: bool = False) -> str:
    last = report.first_seed + report.runs - 1
    dead = ": a dead ReLU" if relu else ""
    seeds = (f"seed {report.first_seed}: 1 run" if report.runs == 1
             else f"seeds {report.first_seed} to {last}: {report.runs} runs at once")
    lines = [f"nqa run {visible(report.spec)}  ({seeds})", "",
             f"steps per run     {report.steps}",
             (f"final loss        min {num(report.final_loss_min)}  median {num(report.final_loss_median)}  "
             f"max {num(report.final_loss_max)}"),
             f"never moved       {report.never_moved_share:.1%} of runs (no parameter changed{dead})",
             f"reached           {report.reached_share:.1%} of runs (final loss below {num(report.tolerance)})"]
    if report.diverged:
        lines.append(f"diverged          {plural(report.diverged, 'run')} (loss not finite)")
    if report.stopped:
        lines.append(f"stopped: {report.stopped}")
    return "\n".join(lines) + "\n"
