"""The training control of `--emit python`'s program: schedule, warm-up, clipping, early stopping.

In: a checked `Program` and the rows of each batch of an epoch. Out: the pieces
of source that `emit_python` puts into its loop, each empty when the spec does
not ask for it (so a spec without them gives the program it always gave): the
torch schedulers `schedules.lr_plan` names, built in its order; the clipping
call between `backward` and `step`; the line printing each step's learning
rate; the scheduler's step, after each batch or after each epoch; the `stop`
rule after each epoch, on the held-out loss or on the epoch's mean training
loss (each step's weighted by its batch's rows, as the runtime weighs them);
and the best epoch's weights put back at the end.
"""

from __future__ import annotations

from collections.abc import Sequence

from .model import Program
from .schedules import LrPlan, Scheduler, lr_plan


def _call(scheduler: Scheduler) -> str:
    args = "".join(f", {k}={v!r}" for k, v in scheduler.kwargs)
    return f"lr_scheduler.{scheduler.name}(optimiser{args})"


def schedule_setup(plan: LrPlan | None) -> str:
    """After the optimizer: the schedulers, the schedule first (a warm-up ramps up to its first rate)."""
    if plan is None:
        return ""
    unit = "batch" if plan.per_batch else "epoch"
    lines = [f"\n# `schedule` / `warmup`: torch's schedulers, stepped after each {unit}",
             "from torch.optim import lr_scheduler"]
    if plan.milestone is None:
        lines.append(f"scheduler = {_call(plan.schedulers[0])}")
    else:
        lines += [f"schedule = {_call(plan.schedulers[0])}",
                  f"warmup = {_call(plan.schedulers[1])}",
                  ("scheduler = lr_scheduler.SequentialLR(optimiser, [warmup, schedule], "
                  f"milestones=[{plan.milestone}])")]
    return "\n".join(lines) + "\n"


def loop_parts(program: Program, rows: Sequence[int]) -> dict[str, str]:
    """The pieces of the loop, by the name of their place in `emit_python.LOOP`."""
    spec = program.spec
    plan = lr_plan(spec, len(rows))
    parts = {"setup": schedule_setup(plan), "stop_setup": "", "epoch_start": "", "before_step": "",
             "after_step": "", "after_epoch": "", "restore": ""}
    if spec.clip is not None:
        args = ", ".join(f"{k}={v!r}" for k, v in spec.clip.torch_kwargs.items())
        parts["before_step"] += f"        nn.utils.{spec.clip.torch_function}(net.parameters(), {args})\n"
    if plan is not None:
        parts["before_step"] += "        print(f\"lr at step {step} = {optimiser.param_groups[0]['lr']!r}\")\n"
        parts["after_step" if plan.per_batch else "after_epoch"] += (
            "        scheduler.step()\n" if plan.per_batch else "    scheduler.step()\n")
    if spec.stop is not None:
        _stop(program, rows, parts)
    return parts


def _stop(program: Program, rows: Sequence[int], parts: dict[str, str]) -> None:
    stop = program.spec.stop
    assert stop is not None
    parts["stop_setup"] = ("import math\n\n"
                           f"# `stop`: after each epoch, the {_watched(program)} must improve by more than "
                           f"{stop.min_delta!r} within {stop.patience} epochs\n"
                           f"best, best_epoch, waited, best_state = math.inf, None, 0, None\nROWS = {list(rows)!r}\n")
    if stop.watched(bool(program.spec.held_out)) == "held_out":
        watched = "held_loss"
    else:
        parts["epoch_start"] = "    epoch_losses = []\n"
        parts["after_step"] += "        epoch_losses.append(loss.item())\n"
        watched = "math.fsum(l * (n / sum(ROWS)) for l, n in zip(epoch_losses, ROWS))"
    keep = "\n        best_state = {k: v.clone() for k, v in net.stack.state_dict().items()}" if stop.restore else ""
    parts["after_epoch"] += (f"    watched = {watched}\n"
                             f"    if math.isfinite(watched) and watched < best - {stop.min_delta!r}:\n"
                             f"        best, best_epoch, waited = watched, epoch + 1, 0{keep}\n"
                             "    else:\n"
                             "        waited += 1\n"
                             f"        if waited >= {stop.patience}:\n"
                             "            print(f\"stopped after epoch {epoch + 1}: \"\n"
                             "                  f\"best {best!r} at epoch {best_epoch}\")\n"
                             "            break\n")
    if stop.restore:
        parts["restore"] = ("if best_state is not None:  # the best epoch's weights\n"
                            "    net.stack.load_state_dict(best_state)\n")


def _watched(program: Program) -> str:
    stop = program.spec.stop
    assert stop is not None
    return "held-out loss" if stop.watched(bool(program.spec.held_out)) == "held_out" else "mean training loss"
