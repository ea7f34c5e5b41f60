"""What a run's training control did, for the JSON report and the text report.

In: the `Control` of a run (its schedule, clipping and early stopping) and the
checked spec; or, for the text, a `Report`. Out: the report's fields
(`learning_rates`, `schedule`, `clip`, `early_stop`), and the lines the text
report prints: one per setting under the optimizer (`schedule`, `warm-up`,
`clip`, `init`) and, under the losses, when and why `stop` ended training
and whose weights are reported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from compiler import CheckedSpec
from compiler.messages import plural

from .report import EarlyStop, Report, ScheduleInfo, TorchCall

if TYPE_CHECKING:  # the text report is drawn without torch (`nqa compile` prints the model table)
    from .control import Control


def control_fields(control: Control | None, spec: CheckedSpec) -> dict[str, Any]:
    if control is None:
        return {}
    fields: dict[str, Any] = {}
    plan = control.plan
    if plan is not None:
        calls = [TorchCall(name=s.name, settings=dict(s.kwargs)) for s in plan.schedulers]
        schedule = calls[0] if spec.schedule is not None else None
        warmup = calls[-1] if spec.warmup is not None else None
        fields["schedule"] = ScheduleInfo(schedule=schedule, warmup=warmup, warmup_steps=plan.warmup_steps,
                                          stepped="batch" if plan.per_batch else "epoch")
        fields["learning_rates"] = tuple(control.lrs)
    if spec.clip is not None:
        fields["clip"] = TorchCall(name=spec.clip.torch_function, settings=spec.clip.torch_kwargs)
    stopper = control.stopper
    if stopper is not None:
        rule = stopper.rule
        found = stopper.best_epoch is not None
        fields["early_stop"] = EarlyStop(watched=stopper.watched, patience=rule.patience, min_delta=rule.min_delta,
                                         best_epoch=stopper.best_epoch, best_loss=stopper.best if found else None,
                                         stopped_epoch=stopper.stopped_epoch, restored=stopper.state is not None)
    return fields


def setting_lines(r: Report, setting) -> list[str]:
    """The lines under `optimizer` and `loss`: `setting(value)` prints each argument."""
    def call(c: TorchCall) -> str:
        return f"{c.name}  " + " ".join(f"{k}={setting(v)}" for k, v in c.settings.items())

    lines = []
    s = r.schedule
    if s is not None and s.schedule is not None:
        lines.append(f"schedule   {call(s.schedule)}, stepped per {s.stepped}")
    if s is not None and s.warmup is not None:
        unit = "epoch" if s.stepped == "epoch" else "step"
        then = ", then the schedule" if s.schedule is not None else ""
        lines.append(f"warm-up    {call(s.warmup)}, for the first {plural(s.warmup_steps, unit)}{then}")
    if r.clip is not None:
        lines.append(f"clip       {call(r.clip)}, between backward and each step")
    inits: dict[str, list[int]] = {}
    for layer in r.model.layers:
        if layer.init is not None:
            inits.setdefault(layer.init, []).append(layer.index)
    for init, layers in inits.items():
        lines.append(f"init       {init}, on {'layer' if len(layers) == 1 else 'layers'} "
                     f"{', '.join(map(str, layers))} (biases 0)")
    return lines


def stop_lines(r: Report, num) -> list[str]:
    """When and why `stop` ended training, and which epoch's weights the report holds."""
    e = r.early_stop
    if e is None:
        return []
    watched = "held-out loss" if e.watched == "held_out" else "mean training loss"
    better = f"by more than {num(e.min_delta)} " if e.min_delta else ""
    if e.best_epoch is None:
        return [f"stop: the {watched} was never finite; the last weights are reported"]
    best = f"best {num(e.best_loss)} at epoch {e.best_epoch}" if e.best_loss is not None else ""
    if e.stopped_epoch is not None:
        lines = [(f"stopped early after epoch {e.stopped_epoch}: the {watched} did not improve {better}for "
                  f"{plural(e.patience, 'epoch')} ({best})")]
    else:
        lines = [(f"stop: every epoch ran, the {watched} improving {better}within "
                  f"{plural(e.patience, 'epoch')} ({best})")]
    last = e.stopped_epoch or len(r.epoch_losses)
    if e.restored and e.best_epoch != last:
        lines.append(f"weights reported: epoch {e.best_epoch}'s, the best (`restore=no` keeps the last)")
    elif not e.restored:
        lines.append(f"weights reported: the last epoch's ({last}), as `restore=no` asks")
    return lines
