"""`--runs N`: N independent trainings of one spec, seeds `seed … seed+N-1`, at once.

In: a checked program, the first seed and N. Out: `RunsResult` — every run's
seed, losses (each step's, and the rows of each batch of an epoch, to weigh
them by), initial and final state (parameters and buffers, a row per run).

Every run starts from exactly the weights the single run of its seed starts
from and follows its own trajectory: one optimizer step updates all runs'
stacked tensors, and the optimizers are element-wise. Two ways to run them,
chosen by `path_for`:

- "stacked" (`stacked.py`): networks of `nn.Linear` and element-wise
  activations on vector inputs, as batched matrix products over one `[N, P]`
  tensor; fast for thousands of tiny networks;
- "vmap" (`ensemble.py`): any other network, the N built networks stacked and
  run through `torch.func.functional_call` under `vmap`.

Each run's loss comes from the spec's own loss class on that run's output, on
either path (`ensemble.MemberLosses`). Shuffled batches and held-out rows follow
each run's own seed, as in a single run. Specs with a random layer (`dropout`)
are refused: their masks cannot follow a single run's; so are `schedule`,
`warmup` and `stop` (`runs_control`), while `clip` clips each run's own
gradients. Ctrl-C (and SIGTERM under the command line) stops every run: the
result holds the steps that finished, with the reason in `stopped`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from compiler import CheckedSpec, Limits, Program, compile_spec
from compiler.activations import per_example
from compiler.data_rules import rows_per_step
from spec_lang import Diagnostic, SpecError, usage_error

from .data import Dataset, dataset
from .ensemble import Ensemble, MemberLosses, Slot, seeded, slots_of
from .epochs import batch_rows
from .lean import lean_optimizer, step_of
from .optim import build_optimizer
from .runs_control import member_clip, refuse_control
from .signals import exit_code, stop_word
from .stacked import Stacked, stackable

__all__ = ["RunsResult", "Slot", "layout", "path_for", "runs_fit", "train_runs"]


@dataclass
class RunsResult:
    seeds: list[int]
    slots: list[Slot]  # where each state_dict tensor lives in a row of `initial` and `final`
    initial: torch.Tensor  # [N, P]
    final: torch.Tensor  # [N, P]
    losses: torch.Tensor  # [steps, N]: each step's loss, the mean over its batch
    rows: list[int]  # the rows of each batch of an epoch
    stopped: str | None = None  # why training stopped early ("interrupted after 12 steps"); None: it finished
    exit_code: int = 0  # what the command line exits with: 130 for Ctrl-C, 143 for SIGTERM
    path: Literal["stacked", "vmap"] = "vmap"  # which way the runs were trained


def _structure(spec: CheckedSpec) -> nn.Sequential:
    """The network's modules on the `meta` device: no values, and no draw from torch's generator."""
    with torch.device("meta"):
        return compile_spec(spec)


def layout(spec: CheckedSpec) -> list[Slot]:
    """Where each tensor of one run's `state_dict` lives in its row."""
    return slots_of(_structure(spec))


def path_for(spec: CheckedSpec, structure: nn.Sequential | None = None) -> Literal["stacked", "vmap"]:
    """"stacked" for vector inputs through `nn.Linear` and element-wise activations only, else "vmap"
    (`structure`: the spec's modules, when built already)."""
    vectors = all(t.rank == 1 and t.dtype == "float32" for t in spec.types())
    modules = _structure(spec) if structure is None else structure
    return "stacked" if vectors and all(stackable(module) for module in modules) else "vmap"


def refuse_random(program: Program, structure: nn.Sequential | None = None) -> None:
    """A layer that draws at random in training (`dropout`) cannot follow each single run's draws."""
    paths = {step.path: step.layer for step in program.spec.steps()}
    for path, module in (_structure(program.spec) if structure is None else structure).named_modules():
        if isinstance(module, nn.modules.dropout._DropoutNd):
            span = program.span_of(path)
            keyword = paths[path].keyword
            raise SpecError(Diagnostic(f"`--runs` cannot train a network with `{keyword}` at once: its masks "
                                       "would not follow each single run's", span, keyword,
                                       hint=f"train the seeds one by one, or remove `{keyword}`"),
                            program.source, program.filename)


def runs_fit(program: Program, count: int, limits: Limits) -> None:
    """Refuse, before anything is allocated, `count` runs whose stacked parameters
    or batches would be larger than one network may be: every run holds its own
    copy of the parameters (with gradients and optimizer state) and its own
    outputs for every row."""
    spec = program.spec
    params, rows = spec.parameter_count, len(spec.examples) + (program.table.rows if program.table else 0)
    step = rows_per_step(rows, spec.held_out, spec.batch) * per_example(spec)
    for total, limit, what, flag in ((count * params, limits.max_params, "parameters", "--max-params"),
                                     (count * rows, limits.max_examples, "rows", "--max-examples"),
                                     (count * step, limits.max_activations, "activations a step",
                                      "--max-activations")):
        if total > limit:
            raise usage_error(
                f"--runs {count:,} on this spec means {total:,} {what} at once ({count:,} x {total // count:,}), "
                f"over the limit of {limit:,}", f"train fewer runs at once, or raise the limit with {flag}")


def members_of(spec: CheckedSpec, seeds: list[int], path: Literal["stacked", "vmap"]) -> Stacked | Ensemble:
    """The runs, stacked when `path` says so and the first run's weights agree, else through vmap."""
    if path == "stacked":
        seeded(seeds[0])
        stacked = Stacked.of(compile_spec(spec), seeds)
        if stacked is not None:
            return stacked
    return Ensemble(spec, seeds)


def train_runs(program: Program, first_seed: int, count: int,
               path: Literal["stacked", "vmap"] | None = None) -> RunsResult:
    """Train `count` runs from `first_seed` on; `path` forces a way (None: `path_for`'s)."""
    spec = program.spec
    structure = _structure(spec)
    refuse_random(program, structure)
    refuse_control(program)
    seeds = list(range(first_seed, first_seed + count))
    fits = path_for(spec, structure)
    if path == "stacked" and fits != "stacked":
        raise ValueError("the stacked path takes vector inputs through linear layers and activations only")
    members = members_of(spec, seeds, path or fits)
    initial, leaves = members.rows(), members.leaves
    optimizer = None if lean_optimizer(spec.optimizer, leaves) else build_optimizer(spec.optimizer, leaves)
    step = step_of(spec.optimizer, optimizer, leaves)
    clip = member_clip(spec, leaves, count)
    feeds = _Feeds(spec, program, seeds)
    member_losses = MemberLosses(spec.loss, feeds.batched)
    losses: list[torch.Tensor] = []
    stopped, code = None, 0
    try:
        for _ in range(spec.epochs):
            for x, target, shared in feeds.epoch():
                for leaf in leaves:
                    leaf.grad = None
                loss = member_losses(members.forward(x, shared), target, shared)
                if loss.requires_grad:  # else every run's output stopped being finite
                    loss.sum().backward()
                if clip is not None:
                    clip()
                step()
                losses.append(loss.detach())
    except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM under the command line: the runs so far
        stopped, code = f"{stop_word(stop)} after {len(losses)} steps", exit_code(stop)
    first = feeds.data[0]
    return RunsResult(seeds, members.slots, initial, members.rows(),
                      torch.stack(losses) if losses else torch.empty(0, count),
                      batch_rows(first.size, first.batch), stopped, code,
                      "stacked" if isinstance(members, Stacked) else "vmap")


class _Feeds:
    """The batches of each epoch for every run, as `(inputs, targets, shared)`: the
    single run's own batch for all runs (`shared`) when all see the same rows in
    the same order, else one batch per run on dim 0, gathered when shuffling or
    holding out rows."""

    def __init__(self, spec: CheckedSpec, program: Program, seeds: list[int]) -> None:
        first = dataset(spec, seeds[0], program.table)
        self.batched = first.inputs.dim() > 1  # one example is fed as a plain vector, and never shuffled
        self.per_run = self.batched and bool(spec.shuffle or spec.held_out)
        self.data = [first, *(dataset(spec, seed, program.table) for seed in seeds[1:])] if self.per_run else [first]
        if self.per_run:
            self.all_inputs = torch.stack([d.inputs for d in self.data])
            self.all_targets = torch.stack([d.targets for d in self.data])

    def epoch(self) -> Iterator[tuple[torch.Tensor, torch.Tensor, bool]]:
        if not self.per_run:
            for inputs, targets in self.data[0].batches():
                yield inputs, targets, True
            return
        runs = torch.arange(len(self.data)).unsqueeze(1)
        orders = torch.stack([self._order(d) for d in self.data])
        step = self.data[0].batch or orders.shape[1]
        for start in range(0, orders.shape[1], step):
            index = orders[:, start:start + step]
            yield self.all_inputs[runs, index], self.all_targets[runs, index], False

    @staticmethod
    def _order(data: Dataset) -> torch.Tensor:
        return torch.randperm(data.size, generator=data.generator) if data.shuffle else torch.arange(data.size)
