"""Training control inside the loop: the learning rate schedule, gradient clipping, early stopping.

In: the checked spec, the torch optimizer (None when the loop writes the update
out), the parameters and the rows of each batch of an epoch. Out: `Control`,
or None when the spec has none of `schedule`, `warmup`, `clip` and `stop` (the
loop then runs as before, untouched). The loop calls `before_step()` between
`backward` and `step` (clipping, then noting the learning rate the step
uses), `after_step()` after it (a schedule stepped per batch) and, after each
epoch, `after_epoch(...)`, which steps a per-epoch schedule and says whether
to stop. The schedulers are torch's own, built from `lr_plan`, so each step's
learning rate is the one torch's would give; `restore(model)` puts back the
best epoch's weights when the run ends.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.optim import lr_scheduler

from compiler import CheckedSpec
from compiler.control import Stop, Watched
from compiler.schedules import LrPlan, lr_plan
from spec_lang import usage_error

from .epochs import epoch_means


def needs_optimizer(spec: CheckedSpec) -> bool:
    """A schedule changes the learning rate of torch's optimizer: the update written out keeps a fixed one."""
    return spec.schedule is not None or spec.warmup is not None


def build_schedule(plan: LrPlan, optimizer: torch.optim.Optimizer) -> lr_scheduler.LRScheduler:
    """The torch schedulers `plan` names, built in its order on `optimizer`."""
    built = [getattr(lr_scheduler, s.name)(optimizer, **dict(s.kwargs)) for s in plan.schedulers]
    if plan.milestone is None:
        return built[0]
    return lr_scheduler.SequentialLR(optimizer, [built[1], built[0]], milestones=[plan.milestone])


def clipper(spec: CheckedSpec, params: list[torch.Tensor]) -> Callable[[], object] | None:
    """`clip`: torch's own clipping of the gradients, as a hand-written loop calls it."""
    if spec.clip is None:
        return None
    clip = getattr(nn.utils, spec.clip.torch_function)
    kwargs = spec.clip.torch_kwargs
    return lambda: clip(params, **kwargs)


@dataclass
class Stopper:
    """`stop`: the best epoch so far, its loss and (with `restore`) a copy of its weights."""

    rule: Stop
    watched: Watched
    best: float = float("inf")
    best_epoch: int | None = None
    waited: int = 0
    stopped_epoch: int | None = None
    state: dict[str, torch.Tensor] | None = None
    epochs: int = 0

    def update(self, epoch: int, loss: float, model: nn.Module) -> bool:
        """After epoch `epoch` (from 1) with this loss: whether to stop."""
        self.epochs = epoch
        if self.rule.improves(loss, self.best):
            self.best, self.best_epoch, self.waited = loss, epoch, 0
            if self.rule.restore:
                self.state = {name: t.detach().clone() for name, t in model.state_dict().items()}
            return False
        self.waited += 1
        if self.waited >= self.rule.patience:
            self.stopped_epoch = epoch
            return True
        return False

    def restore(self, model: nn.Module) -> bool:
        """Put back the best epoch's weights (with `restore`); whether the model now holds them."""
        if self.state is None:
            return False
        if self.best_epoch != self.epochs:
            model.load_state_dict(self.state)
        return True


@dataclass
class Control:
    optimizer: torch.optim.Optimizer | None
    rows: Sequence[int]  # the rows of each batch of an epoch
    plan: LrPlan | None = None
    schedule: lr_scheduler.LRScheduler | None = None
    clip: Callable[[], object] | None = None
    stopper: Stopper | None = None
    lrs: list[float] = field(default_factory=list)  # the learning rate each step used

    def before_step(self) -> None:
        if self.clip is not None:
            self.clip()
        lr = self.current_lr
        if lr is not None:
            self.lrs.append(lr)

    def after_step(self) -> None:
        if self.schedule is not None and self.plan is not None and self.plan.per_batch:
            self.schedule.step()

    def after_epoch(self, epoch: int, losses: Sequence[float], held_out: Sequence[float], model: nn.Module) -> bool:
        """Step a per-epoch schedule; whether `stop` ends training after epoch `epoch` (from 1)."""
        if self.schedule is not None and self.plan is not None and not self.plan.per_batch:
            self.schedule.step()
        if self.stopper is None:
            return False
        if self.stopper.watched == "held_out":
            loss = held_out[-1]
        else:
            loss = epoch_means(losses[-len(self.rows):], self.rows)[0]
        return self.stopper.update(epoch, loss, model)

    @property
    def current_lr(self) -> float | None:
        """The learning rate the coming step uses, with a schedule (None without one)."""
        if self.schedule is None or self.optimizer is None:
            return None
        return float(self.optimizer.param_groups[0]["lr"])


def control_of(spec: CheckedSpec, optimizer: torch.optim.Optimizer | None, params: list[torch.Tensor],
               rows: Sequence[int], held_out: bool) -> Control | None:
    if spec.schedule is None and spec.warmup is None and spec.clip is None and spec.stop is None:
        return None
    control = Control(optimizer, rows, clip=clipper(spec, params))
    plan = lr_plan(spec, len(rows))
    if plan is not None:
        if optimizer is None:
            raise ValueError("a schedule needs torch's optimizer: build it where `needs_optimizer` says so")
        control.plan, control.schedule = plan, build_schedule(plan, optimizer)
    if spec.stop is not None:
        control.stopper = Stopper(spec.stop, spec.stop.watched(held_out))
    return control


def check_run_length(spec: CheckedSpec, batches: int, epochs_flag: bool) -> None:
    """What `check` refuses for the spec's own epochs, refused again for `--epochs` (`epochs_flag`),
    and for a `CheckedSpec` given to `train` as it is."""
    from compiler.schedules import lr_problems

    problems = lr_problems(spec, batches)
    if problems:
        first = problems[0]
        where = f" with --epochs {spec.epochs}" if epochs_flag else ""
        raise usage_error(f"{first.message}{where}", first.hint if not epochs_flag else
                          "use more --epochs, or change the spec", code=first.code)
