"""Training control against the rest of the spec: what `schedule`, `warmup`, `clip` and `stop` need.

In: the bound statements, the checked spec and the training rows (0 when the
spec has no data yet). Out: located diagnostics: a warm-up as long as the run,
a cosine whose `min_lr` is not below `lr`, a onecycle too short to rise or
with no momentum to cycle (`schedules.lr_problems`, which the runtime asks
again for `--epochs`), a `clip` with no norm and no value or with both, a
`stop` told to watch a held-out loss with nothing held out; and warnings: a
`stop` whose patience outlasts the run, a step schedule that never drops, an
`lr=` that onecycle does not use.
"""

from __future__ import annotations

from spec_lang import codes
from spec_lang.errors import Diagnostic, Label

from .bind_all import Collected
from .control import Clip, Stop
from .data_rules import batch_rows, trained_rows
from .model import CheckedSpec
from .schedules import OneCycle, StepDecay, lr_problems


def batches_per_epoch(rows: int, held_out: float | None, batch: int | None) -> int | None:
    """The optimizer steps of one epoch over `rows` rows (None: no rows known)."""
    return len(batch_rows(trained_rows(rows, held_out), batch)) if rows else None


def check_control(found: Collected, spec: CheckedSpec, rows: int) -> list[Diagnostic]:
    problems = []
    epochs = found.one("epochs")
    for problem in lr_problems(spec, batches_per_epoch(rows, spec.held_out, spec.batch)):
        bound = found.one(problem.statement)
        assert bound is not None  # a problem comes from a statement given
        notes = (Label(epochs.statement.span, "the run's length"),) if epochs and problem.statement == "warmup" else ()
        problems.append(Diagnostic(problem.message, bound.span_of(problem.field), problem.label, notes,
                                   hint=problem.hint, code=problem.code))
    problems += _clip_problems(found)
    problems += _stop_problems(found, spec)
    problems += _warnings(found, spec)
    return problems


def _clip_problems(found: Collected) -> list[Diagnostic]:
    """`clip` clips by a norm or by a value: one of them."""
    bound = found.one("clip")
    if bound is None:
        return []
    assert isinstance(bound.model, Clip)
    clip = bound.model
    if clip.norm is None and clip.value is None:
        return [Diagnostic("`clip` needs a gradient norm or a value to clip to", bound.statement.span,
                           "nothing to clip to", hint="e.g. `clip 1.0` (the norm) or `clip value=0.5`",
                           code=codes.CLIP_NOTHING)]
    if clip.norm is not None and clip.value is not None:
        return [Diagnostic("`clip` clips by a gradient norm or by a value, not both", bound.span_of("value"),
                           "a value too", (Label(bound.span_of("norm"), "a norm"),),
                           hint=f"keep one: `clip {clip.norm!r}` or "
                                f"`clip value={clip.value!r}`", code=codes.CLIP_BOTH)]
    return []


def _stop_problems(found: Collected, spec: CheckedSpec) -> list[Diagnostic]:
    bound = found.one("stop")
    if bound is None:
        return []
    assert isinstance(bound.model, Stop)
    stop = bound.model
    if stop.watch == "held_out" and not spec.held_out:
        return [Diagnostic("`stop` watches the held-out loss, but no rows are held out", bound.span_of("watch"),
                           "nothing to watch", hint="hold rows out with `validate 0.2`, or leave out `watch=` "
                                                    "to watch the training loss", code=codes.STOP_UNWATCHED)]
    if stop.patience >= spec.epochs:
        return [Diagnostic(f"`stop` waits {stop.patience:,} epochs for the loss to improve, but the run has only "
                           f"{spec.epochs:,}: it can never stop early", bound.span_of("patience"), "too patient",
                           hint=f"use a patience below {spec.epochs:,}, or train longer", severity="warning",
                           code=codes.NEVER_STOPS)]
    return []


def _warnings(found: Collected, spec: CheckedSpec) -> list[Diagnostic]:
    bound = found.one("schedule")
    if bound is None:
        return []
    schedule = bound.model
    left = spec.epochs - (spec.warmup.epochs if spec.warmup else 0)
    if isinstance(schedule, StepDecay) and schedule.every >= left > 0:
        return [Diagnostic(f"`every={schedule.every}` never drops the learning rate in a schedule of "
                           f"{left:,} epochs", bound.span_of("every"), "longer than the schedule",
                           hint=f"drop it more often, e.g. `every={max(1, left // 3)}`", severity="warning",
                           code=codes.SCHEDULE_NEVER_STEPS)]
    optimizer = found.one("optimizer")
    if isinstance(schedule, OneCycle) and optimizer is not None and "lr" in optimizer.spans:
        return [Diagnostic(f"onecycle sets the learning rate from `max_lr`: it starts at max_lr / div_factor = "
                           f"{schedule.first_lr(spec.optimizer):g}, and this `lr` is not used",
                           optimizer.span_of("lr"), "not used", (Label(bound.span_of("max_lr"), "sets it"),),
                           hint="leave out `lr=`", severity="warning", code=codes.UNUSED_LR)]
    return []
