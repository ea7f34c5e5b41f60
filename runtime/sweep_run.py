"""Training a sweep: every combination of its choices, each with N seeds.

In: a checked program whose `sweep` holds the combinations, the first seed and
N. Out: `SweepResult` — for each combination, each seed's final training loss
and, with `validate`, its held-out loss and accuracy (`Outcome`), how it was
trained, and why training stopped early if it did.

Combinations that differ only in the optimizer's numbers (`lr`, `momentum`,
...; `member_optim.PER_MEMBER` says which, for which optimizers) train together
as one group, every seed of every one of them a member of one stacked run
(`runs.train_members`), each member stepping with its own numbers. Any other
difference (`batch`, `epochs`, a layer's setting, the numbers of an optimizer
not written out for members, `clip`) makes a group of its own. A network with
a random layer (`dropout`), or a spec with `schedule`, `warmup` or `stop`
(whose runs step apart), cannot be stacked: its combinations train one run
after another, as `nqa run` trains one. Groups train one after another; Ctrl-C
stops the sweep, keeping what finished.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import torch

from compiler import CheckedSpec, Limits, Program, compile_spec
from compiler.sweep import Sweep
from spec_lang import codes, usage_error

from .member_optim import PER_MEMBER
from .runs import random_layer, runs_fit, train_members
from .runs_report import final_losses
from .training import TrainingInterrupted, train


@dataclass
class Outcome:
    """One combination's runs: (seed, final loss, held-out loss, held-out accuracy) each, None where not measured
    (a loss is None for a run that diverged)."""

    runs: list[tuple[int, float | None, float | None, float | None]] = field(default_factory=list)
    steps: int = 0
    path: str = ""  # "stacked", "vmap", or "one by one"


@dataclass
class SweepResult:
    outcomes: list[Outcome]  # one per combination, in the sweep's order; empty for one not trained
    stopped: str | None = None
    exit_code: int = 0


def groups(sweep: Sweep) -> list[list[int]]:
    """The combinations (by index) that train together: those differing only in numbers the optimizer takes
    per member."""
    own = PER_MEMBER.get(sweep.combinations[0].spec.optimizer.kind, frozenset())
    apart = [not (choice.statement == "optimizer" and choice.field in own) for choice in sweep.choices]
    keyed: dict[tuple[int, ...], list[int]] = {}
    for index, combination in enumerate(sweep.combinations):
        key = tuple(pick for pick, matters in zip(combination.picks, apart, strict=True) if matters)
        keyed.setdefault(key, []).append(index)
    return list(keyed.values())


def sweep_fits(program: Program, runs: int, limits: Limits) -> None:
    """Refuse, before anything is allocated, a sweep whose runs, or any group's stacked runs, are over the limits."""
    sweep = program.sweep
    assert sweep is not None
    total = len(sweep.combinations) * runs
    if total > limits.max_runs:
        raise usage_error(f"this sweep trains {total:,} runs ({len(sweep.combinations):,} combinations x {runs:,}), "
                          f"over the limit of {limits.max_runs:,}", "train fewer seeds, or raise it with --max-runs",
                          code=codes.TOO_MANY_RUNS)
    for group in groups(sweep):
        runs_fit(replace(program, spec=sweep.combinations[group[0]].spec), len(group) * runs, limits)


def train_sweep(program: Program, first_seed: int, runs: int) -> SweepResult:
    sweep = program.sweep
    assert sweep is not None
    seeds = list(range(first_seed, first_seed + runs))
    result = SweepResult([Outcome() for _ in sweep.combinations])
    for group in groups(sweep):
        specs = [sweep.combinations[index].spec for index in group]
        with torch.device("meta"):
            random = random_layer(compile_spec(specs[0])) is not None
        stepped_alone = any(getattr(specs[0], name) is not None for name in ("schedule", "warmup", "stop"))
        trained = _one_by_one if random or stepped_alone else _together
        result.stopped, result.exit_code = trained(program, specs, seeds, [result.outcomes[i] for i in group])
        if result.stopped:
            break
    return result


def _together(program: Program, specs: list[CheckedSpec], seeds: list[int],
              outcomes: list[Outcome]) -> tuple[str | None, int]:
    """Every seed of every combination of a group as one member of one stacked run."""
    members = [(n, seed) for n in range(len(specs)) for seed in seeds]
    result = train_members(program, specs[0], [seed for _, seed in members], [specs[n].optimizer for n, _ in members])
    finals = final_losses(result)
    held = [None] * len(members) if result.held_loss is None else result.held_loss.tolist()
    right = [None] * len(members) if result.held_accuracy is None else result.held_accuracy.tolist()
    for k, (n, seed) in enumerate(members):
        finite = math.isfinite(finals[k])
        outcomes[n].runs.append((seed, finals[k] if finite else None, held[k] if finite else None,
                                 right[k] if finite else None))
        outcomes[n].steps, outcomes[n].path = len(result.losses), result.path
    return result.stopped, result.exit_code


def _one_by_one(program: Program, specs: list[CheckedSpec], seeds: list[int],
                outcomes: list[Outcome]) -> tuple[str | None, int]:
    """Each run as `nqa run` trains it: a network that draws at random cannot be stacked."""
    for spec, outcome in zip(specs, outcomes, strict=True):
        outcome.path = "one by one"
        for seed in seeds:
            try:
                report = train(replace(program, spec=spec, sweep=None), seed=seed).report
            except TrainingInterrupted as stop:
                return stop.run.report.stopped, stop.exit_code
            finished = report.stopped is None and report.final_loss is not None
            validation = report.validation
            outcome.runs.append((seed, report.final_loss if finished else None,
                                 validation.losses[-1] if finished and validation and validation.losses else None,
                                 validation.accuracy if finished and validation else None))
            outcome.steps = report.training.steps
    return None, 0
