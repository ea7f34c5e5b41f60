"""`schedule step|cosine|onecycle ...` and `warmup N`: how the learning rate moves in a run.

In: the options after `schedule`'s name, and `warmup`'s epochs. Out: frozen models
that name their `torch.optim.lr_scheduler` class and its arguments for a run of a
given length, and `lr_plan(spec, batches)`, which puts a schedule and a warm-up
together exactly as the runtime builds them and `--emit python` writes them:
the schedule first, then `LinearLR` for the warm-up, joined by `SequentialLR`.

`step` and `cosine` are stepped after each epoch, as torch's documentation
steps `StepLR` and `CosineAnnealingLR`; `onecycle` after each batch, as
`OneCycleLR` must be. A warm-up counts in the unit of its schedule (epochs, or
with `onecycle` the batches of that many epochs), ramps linearly up to the
schedule's first learning rate, and the schedule then runs over what is left
of the run. `lr_problems` says what cannot work for a run of that length. No torch here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator

from spec_lang import codes

from .registry import member, register
from .statement import StatementModel

if TYPE_CHECKING:
    from .model import CheckedSpec
    from .optimizers import Optimizer


class Schedule(StatementModel):
    kind: str
    torch_name: ClassVar[str] = ""
    sweepable = None  # every setting may vary in a sweep (the schedule itself may not)
    per_batch: ClassVar[bool] = False  # stepped after every batch, not after every epoch

    def torch_kwargs(self, steps: int, optimizer: Optimizer) -> dict[str, Any]:
        """The scheduler's arguments for `steps` steps (epochs, or batches when `per_batch`)."""
        raise NotImplementedError

    def first_lr(self, optimizer: Optimizer) -> float:
        """The learning rate of the schedule's first step (a warm-up ramps up to it)."""
        return float(optimizer.lr)  # type: ignore[attr-defined]  # every optimizer has one


@member("schedule")
class StepDecay(Schedule):
    """`schedule step every=30`: the learning rate times `gamma` every `every` epochs (torch's StepLR)."""

    kind: Literal["step"] = "step"
    every: int = Field(ge=1, title="`every`",
                       description="epochs between two drops of the learning rate")
    gamma: float = Field(0.1, gt=0, title="`gamma`",
                         description="the factor the learning rate is multiplied by at each drop")

    keyword = "step"
    torch_name = "StepLR"
    example = "schedule step every=30 gamma=0.1"
    hints = {"every": "the epochs between two drops of the learning rate, e.g. `every=30`",
             "gamma": "the factor the learning rate is multiplied by at each drop, e.g. `gamma=0.1`"}
    missing = {"every": ("`schedule step` needs `every=`: the epochs between two drops",
                         "e.g. `schedule step every=30 gamma=0.1`")}

    def torch_kwargs(self, steps: int, optimizer: Optimizer) -> dict[str, Any]:
        return {"step_size": self.every, "gamma": self.gamma}


@member("schedule")
class Cosine(Schedule):
    """`schedule cosine`: the learning rate falls from `lr` to `min_lr` along a cosine over the run."""

    kind: Literal["cosine"] = "cosine"
    min_lr: float = Field(0.0, ge=0, title="`min_lr`",
                          description="the learning rate at the end of the run (at least 0, below `lr`)")

    keyword = "cosine"
    torch_name = "CosineAnnealingLR"
    example = "schedule cosine min_lr=0.0001"
    aliases = ("cosine_annealing", "cosineannealinglr", "cos")
    hints = {"min_lr": "the learning rate at the end of the run, at least 0 and below `lr`, e.g. `min_lr=0.0001`"}

    def torch_kwargs(self, steps: int, optimizer: Optimizer) -> dict[str, Any]:
        return {"T_max": steps, "eta_min": self.min_lr}


@member("schedule")
class OneCycle(Schedule):
    """torch's `OneCycleLR` with its defaults; `cycle_momentum` left out cycles the momentum
    (or Adam's beta1) where the optimizer has one, as torch does, and not for `adagrad`."""

    kind: Literal["onecycle"] = "onecycle"
    max_lr: float = Field(gt=0, title="`max_lr`",
                          description="the highest learning rate of the cycle")
    pct_start: float = Field(0.3, gt=0, lt=1, title="`pct_start`",
                             description="the share of the steps spent rising")
    anneal: Literal["cos", "linear"] = Field("cos", title="`anneal`",
                                             description="how the rate moves: `cos` or `linear`")
    div_factor: float = Field(25.0, gt=0, title="`div_factor`",
                              description="the starting rate is max_lr / div_factor")
    final_div_factor: float = Field(1e4, gt=0, title="`final_div_factor`",
                                    description="the final rate is the starting rate / final_div_factor")
    three_phase: bool = Field(False, title="`three_phase`",
                              description="a third phase that falls to the final rate (a word)")
    cycle_momentum: bool | None = Field(None, title="`cycle_momentum`",
                                        description="cycle the optimizer's momentum inversely to the rate; left "
                                                    "out, on where the optimizer has momentum")
    base_momentum: float = Field(0.85, ge=0, lt=1, title="`base_momentum`",
                                 description="the lowest momentum of the cycle")
    max_momentum: float = Field(0.95, ge=0, lt=1, title="`max_momentum`", validate_default=True,
                                description="the highest momentum of the cycle")

    keyword = "onecycle"
    torch_name = "OneCycleLR"
    per_batch = True
    flags = {"three_phase": ("three_phase", True)}
    example = "schedule onecycle max_lr=0.1"
    aliases = ("one_cycle", "onecyclelr", "1cycle")
    hints = {"max_lr": "the highest learning rate of the cycle, e.g. `max_lr=0.1`",
             "pct_start": "the share of the steps spent rising, between 0 and 1, e.g. `pct_start=0.3`",
             "max_momentum": "momentum cycles from `max_momentum` down to `base_momentum` and back: "
                             "keep base_momentum <= max_momentum, both below 1"}
    missing = {"max_lr": ("`schedule onecycle` needs `max_lr=`: the highest learning rate of the cycle",
                          "e.g. `schedule onecycle max_lr=0.1`")}

    @field_validator("max_momentum")
    @classmethod
    def _momenta_ordered(cls, value: float, info: ValidationInfo) -> float:
        base = info.data.get("base_momentum")
        if base is not None and base > value:
            raise ValueError(f"`base_momentum={base:g}` is above `max_momentum={value:g}`")
        return value

    def cycles_momentum(self, optimizer: Optimizer) -> bool:
        return self.cycle_momentum if self.cycle_momentum is not None else has_momentum(optimizer)

    def torch_kwargs(self, steps: int, optimizer: Optimizer) -> dict[str, Any]:
        return {"max_lr": self.max_lr, "total_steps": steps, "pct_start": self.pct_start,
                "anneal_strategy": self.anneal, "div_factor": self.div_factor,
                "final_div_factor": self.final_div_factor, "three_phase": self.three_phase,
                "cycle_momentum": self.cycles_momentum(optimizer), "base_momentum": self.base_momentum,
                "max_momentum": self.max_momentum}

    def first_lr(self, optimizer: Optimizer) -> float:
        return self.max_lr / self.div_factor


def has_momentum(optimizer: Optimizer) -> bool:
    """Whether torch's `OneCycleLR` can cycle this optimizer's momentum: it has `momentum` or `betas`."""
    return "momentum" in type(optimizer).model_fields or "beta1" in type(optimizer).model_fields


@register
class Warmup(StatementModel):
    """`warmup 5`: epochs of linear warm-up of the learning rate."""

    epochs: int = Field(ge=1, title="warm-up epochs",
                        description="epochs of linear warm-up")
    start: float | None = Field(None, gt=0, le=1, title="`start`",
                                description="the share of the learning rate the first epoch uses; left out, "
                                            "1/(epochs+1)")

    keyword = "warmup"
    sweepable = None  # a sweep may vary both
    positional = ("epochs",)
    example = "warmup 5"
    hints = {"epochs": "the epochs of linear warm-up, at least 1, e.g. `warmup 5`",
             "start": "the share of the learning rate the first step uses, above 0 and at most 1, e.g. `start=0.1`"}


@dataclass(frozen=True)
class Scheduler:
    """One `torch.optim.lr_scheduler` class and its arguments (after the optimizer)."""

    name: str
    kwargs: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class LrPlan:
    """The schedulers to build, in order, on the optimizer; with two, a `SequentialLR` runs
    the warm-up (the second) for `milestone` steps, then the schedule (the first)."""

    schedulers: tuple[Scheduler, ...]
    milestone: int | None
    per_batch: bool
    warmup_steps: int = 0

    def describe(self) -> str:
        parts = [f"{s.name}({', '.join(f'{k}={v!r}' for k, v in s.kwargs)})" for s in self.schedulers]
        if self.milestone is not None:
            return f"SequentialLR([{parts[1]}, {parts[0]}], milestones=[{self.milestone}])"
        return parts[0]


def steps_in(spec: CheckedSpec, batches: int) -> tuple[int, int, bool]:
    """(the run's scheduler steps, of which warm-up, whether stepped per batch)."""
    per_batch = spec.schedule is not None and spec.schedule.per_batch
    unit = batches if per_batch else 1
    warm = spec.warmup.epochs * unit if spec.warmup is not None else 0
    return spec.epochs * unit, warm, per_batch


def lr_plan(spec: CheckedSpec, batches: int) -> LrPlan | None:
    """How the learning rate moves in a run of `spec.epochs` epochs of `batches` batches (None: it does not)."""
    if spec.schedule is None and spec.warmup is None:
        return None
    total, warm, per_batch = steps_in(spec, batches)
    schedulers = []
    if spec.schedule is not None:
        kwargs = spec.schedule.torch_kwargs(total - warm, spec.optimizer)
        schedulers.append(Scheduler(spec.schedule.torch_name, tuple(kwargs.items())))
    if spec.warmup is not None:
        start = spec.warmup.start if spec.warmup.start is not None else 1 / (warm + 1)
        schedulers.append(Scheduler("LinearLR", (("start_factor", start), ("end_factor", 1.0),
                                                 ("total_iters", warm))))
    return LrPlan(tuple(schedulers), warm if len(schedulers) == 2 else None, per_batch, warm)


@dataclass(frozen=True)
class LrProblem:
    """Why a schedule cannot run as written: the statement (and option) at fault, message, hint."""

    statement: str
    field: str
    message: str
    hint: str
    label: str
    code: str = dataclasses.field(kw_only=True)


def lr_problems(spec: CheckedSpec, batches: int | None) -> list[LrProblem]:
    """What cannot work in a run of `spec.epochs` epochs of `batches` batches (None: not known yet)."""
    found = []
    warmup, schedule = spec.warmup, spec.schedule
    if warmup is not None and warmup.epochs >= spec.epochs:
        found.append(LrProblem("warmup", "epochs", f"`warmup {warmup.epochs}` is as long as the run or longer: "
                               f"it has {spec.epochs:,} epochs",
                               f"warm up for fewer epochs than the run has, e.g. `warmup {max(1, spec.epochs // 10)}`, "
                               "or train longer", "longer than the run" if warmup.epochs > spec.epochs
                               else "as long as the run", code=codes.WARMUP_TOO_LONG))
        return found
    total, warm, _ = steps_in(spec, batches or 1)
    if isinstance(schedule, Cosine) and schedule.min_lr >= schedule.first_lr(spec.optimizer):
        found.append(LrProblem("schedule", "min_lr", f"`min_lr={schedule.min_lr:g}` is not below the learning rate "
                               f"`lr={schedule.first_lr(spec.optimizer):g}` the cosine falls from",
                               "use a `min_lr` below the optimizer's `lr`, e.g. `min_lr=0` (the default)",
                               "not below `lr`", code=codes.SCHEDULE_CONFLICT))
    if isinstance(schedule, OneCycle):
        rise = schedule.pct_start * (total - warm)
        if rise <= 1 and batches is not None:
            found.append(LrProblem("schedule", "pct_start", f"onecycle rises over pct_start x steps = "
                                   f"{schedule.pct_start:g} x {total - warm:,} = {rise:g} steps: it needs more than 1",
                                   "train for more steps (epochs or smaller batches), or raise `pct_start`",
                                   "too short to rise", code=codes.SCHEDULE_CONFLICT))
        if schedule.three_phase and schedule.pct_start >= 0.5:
            found.append(LrProblem("schedule", "pct_start", "with `three_phase`, onecycle rises and falls over "
                                   f"2 x pct_start of the steps: `pct_start={schedule.pct_start:g}` leaves none",
                                   "use a `pct_start` below 0.5, e.g. `pct_start=0.3`", "0.5 or more",
                                   code=codes.SCHEDULE_CONFLICT))
        if schedule.cycle_momentum and not has_momentum(spec.optimizer):
            found.append(LrProblem("schedule", "cycle_momentum", f"`optimizer {spec.optimizer.kind}` has no momentum "
                                   "for onecycle to cycle", "leave out `cycle_momentum`, or write `cycle_momentum=no`",
                                   "no momentum", code=codes.NO_MOMENTUM))
    return found
