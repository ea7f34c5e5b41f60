"""`--runs N`: N independent trainings of one spec, seeds `seed … seed+N-1`, at once.

In: a checked program, the first seed and N (`train_runs`); or, for a sweep, a
spec, each member's seed and each member's optimizer settings (`train_members`).
Out: `RunsResult` — every run's seed, losses (each step's, and the rows of each
batch of an epoch, to weigh them by), initial and final state (parameters and
buffers, a row per run), and, with `validate`, each run's loss on its held-out
rows and its accuracy there (for a class loss), measured in eval mode after
training, as a single run measures them after its last epoch.

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
each run's own seed, as in a single run (`feeds.Feeds`). Members with optimizer
settings of their own step with `member_optim`. Specs with a random layer
(`dropout`) are refused: their masks cannot follow a single run's; so are
`schedule`, `warmup` and `stop` (`runs_control`), while `clip` clips each run's
own gradients. Ctrl-C (and SIGTERM under the command line) stops every run: the
result holds the steps that finished, with the reason in `stopped`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import torch
from torch import nn

from compiler import CheckedSpec, Limits, Program, compile_spec
from compiler.activations import per_example
from compiler.data_rules import rows_per_step
from compiler.stream_checks import refuse_streamed
from spec_lang import Diagnostic, SpecError, codes, usage_error

from .ensemble import Ensemble, MemberLosses, Slot, seeded, slots_of
from .epochs import batch_rows
from .feeds import Feeds
from .lean import lean_optimizer, step_of
from .member_optim import member_step
from .optim import build_optimizer
from .runs_control import member_clip, refuse_control
from .signals import exit_code, stop_word
from .stacked import Stacked, stackable

if TYPE_CHECKING:
    from compiler.optimizers import Optimizer

__all__ = ["RunsResult", "Slot", "layout", "path_for", "runs_fit", "train_members", "train_runs"]


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
    held_loss: torch.Tensor | None = None  # [N]: each run's loss on its held-out rows (`validate`), after training
    held_accuracy: torch.Tensor | None = None  # [N]: the share of them classified right (a class loss)


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


def random_layer(structure: nn.Sequential) -> str | None:
    """The module path (`1.0`) of the first layer that draws at random in training (`dropout`), or None."""
    return next((path for path, module in structure.named_modules()
                 if isinstance(module, nn.modules.dropout._DropoutNd)), None)


def refuse_random(program: Program, structure: nn.Sequential | None = None) -> None:
    """A layer that draws at random in training (`dropout`) cannot follow each single run's draws."""
    path = random_layer(_structure(program.spec) if structure is None else structure)
    if path is not None:
        keyword = {step.path: step.layer for step in program.spec.steps()}[path].keyword
        raise SpecError(Diagnostic(f"`--runs` cannot train a network with `{keyword}` at once: its masks "
                                   "would not follow each single run's", program.span_of(path), keyword,
                                   hint=f"train the seeds one by one, or remove `{keyword}`",
                                   code=codes.RUNS_UNSUPPORTED),
                        program.source, program.filename)


def runs_fit(program: Program, count: int, limits: Limits) -> None:
    """Refuse, before anything is allocated, `count` runs whose stacked parameters
    or batches would be larger than one network may be: every run holds its own
    copy of the parameters (with gradients and optimizer state) and its own
    outputs for every row."""
    refuse_streamed(program, "`--runs`", "train the seeds one by one, or raise --memory-budget to read the file whole")
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
                f"over the limit of {limit:,}", f"train fewer runs at once, or raise the limit with {flag}",
                              code=codes.TOO_MANY_RUNS)


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
    refuse_random(program)
    refuse_control(program)
    return train_members(program, program.spec, list(range(first_seed, first_seed + count)), path=path)


def train_members(program: Program, spec: CheckedSpec, seeds: list[int], settings: list[Optimizer] | None = None,
                  path: Literal["stacked", "vmap"] | None = None) -> RunsResult:
    """Train one member of `spec` per seed (seeds may repeat), each with its own optimizer
    settings where `settings` gives them (one per member, of `spec.optimizer`'s kind); the
    caller has refused a random layer, `schedule`, `warmup` and `stop`."""
    structure = _structure(spec)
    count = len(seeds)
    fits = path_for(spec, structure)
    if path == "stacked" and fits != "stacked":
        raise ValueError("the stacked path takes vector inputs through linear layers and activations only")
    members = members_of(spec, seeds, path or fits)
    initial, leaves = members.rows(), members.leaves
    step = None
    if settings and any(s != settings[0] for s in settings):
        step = member_step(settings, leaves)
        if step is None:
            raise ValueError(f"optimizer {spec.optimizer.kind} has no update with settings of each member's own")
    if step is None:
        optimizer = None if lean_optimizer(spec.optimizer, leaves) else build_optimizer(spec.optimizer, leaves)
        step = step_of(spec.optimizer, optimizer, leaves)
    clip = member_clip(spec, leaves, count)
    feeds = Feeds(spec, program.table, seeds)
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
    held_loss, held_accuracy = _held_out(members, feeds, member_losses, spec.loss.class_targets)
    return RunsResult(seeds, members.slots, initial, members.rows(),
                      torch.stack(losses) if losses else torch.empty(0, count),
                      batch_rows(first.size, first.batch), stopped, code,
                      "stacked" if isinstance(members, Stacked) else "vmap", held_loss, held_accuracy)


def _held_out(members: Stacked | Ensemble, feeds: Feeds, losses: MemberLosses,
              classes: bool) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """Each member's loss on its held-out rows, and the share classified right (a class loss), in eval mode."""
    held = feeds.held()
    if held is None:
        return None, None
    inputs, targets, shared = held
    with torch.no_grad(), members.evaluating():
        output = members.forward(inputs, shared)
        loss = losses(output, targets, shared)
        right = (output.argmax(dim=-1) == targets).float().mean(dim=-1) if classes else None
    return loss, right
