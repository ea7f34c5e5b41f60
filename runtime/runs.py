"""`--runs N`: N independent trainings of one spec, seeds `seed … seed+N-1`, at once.

In: a checked program, the first seed, N, and the tolerance that counts as
"reached". Out: `RunsResult` — every run's seed, losses (each step's, and the
rows of each batch of an epoch, to weigh them by), initial and final
parameters — computed on stacked parameters: each run's weights are a row of
one `[N, P]` tensor, layers are batched matrix products over the runs, and
one optimizer step updates all runs (the optimizers are element-wise, so each
run follows its own trajectory). Initial weights are drawn directly from a
generator seeded per run, exactly as `nn.Linear` draws them after
`torch.manual_seed(seed)`, without building any module. Shuffled batches and
held-out rows follow each run's own seed, as in a single run. Specs with
`dropout` are refused: their masks cannot follow a single run's. Ctrl-C (and
SIGTERM under the command line) stops every run: the result holds the steps
that finished, with the reason in `stopped`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from compiler import CheckedSpec, Limits, Program
from compiler.activations import per_example
from compiler.data_rules import rows_per_step
from compiler.layers.activations import GELU, LeakyReLU
from compiler.layers.linear import Linear
from compiler.losses import Huber
from spec_lang import Diagnostic, SpecError, usage_error

from .data import dataset
from .epochs import batch_rows
from .lean import lean_optimizer, step_of
from .optim import build_optimizer
from .signals import exit_code, stop_word

_ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": F.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "softmax": lambda h: torch.softmax(h, -1),
}


@dataclass(frozen=True)
class Slot:
    """Where one parameter of one layer lives in a run's row."""

    name: str
    layer: int
    start: int
    shape: tuple[int, ...]
    bound: float

    @property
    def end(self) -> int:
        return self.start + math.prod(self.shape)


@dataclass
class RunsResult:
    seeds: list[int]
    slots: list[Slot]
    initial: torch.Tensor  # [N, P]
    final: torch.Tensor  # [N, P]
    losses: torch.Tensor  # [steps, N]: each step's loss, the mean over its batch
    rows: list[int]  # the rows of each batch of an epoch
    stopped: str | None = None  # why training stopped early ("interrupted after 12 steps"); None: it finished
    exit_code: int = 0  # what the command line exits with: 130 for Ctrl-C, 143 for SIGTERM


def layout(spec: CheckedSpec) -> list[Slot]:
    """Each linear layer's weight then bias, in the order `nn.Linear` draws them."""
    slots, start = [], 0
    for index, (layer, t) in enumerate(zip(spec.layers, spec.types(), strict=False)):
        width = t.last
        if isinstance(layer, Linear):
            gain = math.sqrt(2.0 / (1 + math.sqrt(5) ** 2))  # kaiming_uniform_(a=sqrt(5))
            weight_bound = math.sqrt(3.0) * (gain / math.sqrt(width))
            slots.append(Slot(f"{index}.weight", index, start, (layer.out_features, width), weight_bound))
            start = slots[-1].end
            if layer.bias:
                slots.append(Slot(f"{index}.bias", index, start, (layer.out_features,), 1 / math.sqrt(width)))
                start = slots[-1].end
    return slots


def initial_rows(slots: list[Slot], seeds: list[int]) -> torch.Tensor:
    """Every run's initial parameters, drawn from its own seeded generator."""
    rows = torch.empty(len(seeds), slots[-1].end if slots else 0)
    generator = torch.Generator()
    for row, seed in zip(rows, seeds, strict=False):
        generator.manual_seed(seed)
        for slot in slots:
            row[slot.start:slot.end].uniform_(-slot.bound, slot.bound, generator=generator)
    return rows


def forward(spec: CheckedSpec, slots: list[Slot], flat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The network on every run at once: `x` is `[B, in]` (shared) or `[N, B, in]`."""
    runs = flat.shape[0]
    by_layer: dict[int, list[Slot]] = {}
    for slot in slots:
        by_layer.setdefault(slot.layer, []).append(slot)
    h = x if x.dim() == 3 else x.expand(runs, *x.shape)
    for index, layer in enumerate(spec.layers):
        if isinstance(layer, Linear):
            weight, *bias = by_layer[index]
            w = flat[:, weight.start:weight.end].view(runs, *weight.shape).transpose(1, 2)
            if bias:
                b = flat[:, bias[0].start:bias[0].end].view(runs, 1, -1)
                h = torch.baddbmm(b, h, w)
            else:
                h = torch.bmm(h, w)
        elif isinstance(layer, LeakyReLU):
            h = F.leaky_relu(h, layer.slope)
        elif isinstance(layer, GELU):
            h = F.gelu(h, approximate=layer.approximate)
        else:
            h = _ACTIVATIONS[layer.kind](h)
    return h


def per_run_loss(spec: CheckedSpec, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The loss of each run, `[N]`, each reduced as the run's own loss module would."""
    runs = output.shape[0]
    if spec.loss.class_targets:
        classes = output.shape[-1]
        flat_target = target.expand(runs, *target.shape[-1:]) if target.dim() == 1 else target
        loss = F.cross_entropy(output.reshape(-1, classes), flat_target.reshape(-1), reduction="none")
        return loss.view(runs, -1).mean(1)
    functions: dict[str, Callable[..., torch.Tensor]] = {
        "mse": F.mse_loss, "l1": F.l1_loss, "bce": F.binary_cross_entropy,
        "bce_logits": F.binary_cross_entropy_with_logits}
    function = functions.get(spec.loss.kind)
    if function is None:
        assert isinstance(spec.loss, Huber)  # the one loss left
        loss = F.huber_loss(output, target.expand_as(output), reduction="none", delta=spec.loss.delta)
    else:
        try:
            loss = function(output, target.expand_as(output), reduction="none")
        except RuntimeError:  # `bce` refuses an output that is not finite: those runs diverged
            bad = ~torch.isfinite(output)
            if not bad.any():
                raise
            loss = function(output.masked_fill(bad, 0.5), target.expand_as(output), reduction="none")
            loss = loss.masked_fill(bad, math.nan)
    return loss.reshape(runs, -1).mean(1)


def refuse_dropout(program: Program) -> None:
    for index, layer in enumerate(program.spec.layers):
        if layer.kind == "dropout":
            span = program.layer_spans[index] if index < len(program.layer_spans) else None
            raise SpecError(Diagnostic("`--runs` cannot train a network with `dropout` at once: its masks "
                                       "would not follow each single run's", span, "dropout",
                                       hint="train the seeds one by one, or remove `dropout`"),
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


def train_runs(program: Program, first_seed: int, count: int) -> RunsResult:
    refuse_dropout(program)
    spec = program.spec
    seeds = list(range(first_seed, first_seed + count))
    slots = layout(spec)
    initial = initial_rows(slots, seeds)
    flat = initial.clone().requires_grad_(True)
    optimizer = None if lean_optimizer(spec.optimizer, [flat]) else build_optimizer(spec.optimizer, [flat])
    step = step_of(spec.optimizer, optimizer, [flat])
    feeds = _Feeds(spec, program, seeds)
    losses: list[torch.Tensor] = []
    stopped, code = None, 0
    try:
        for _ in range(spec.epochs):
            for x, target in feeds.epoch():
                flat.grad = None
                loss = per_run_loss(spec, forward(spec, slots, flat, x), target)
                loss.sum().backward()
                step()
                losses.append(loss.detach())
    except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM under the command line: the runs so far
        stopped, code = f"{stop_word(stop)} after {len(losses)} steps", exit_code(stop)
    first = feeds.data[0]
    return RunsResult(seeds, slots, initial, flat.detach(), torch.stack(losses) if losses else torch.empty(0, count),
                      batch_rows(first.size, first.batch), stopped, code)


class _Feeds:
    """The batches of each epoch for every run: shared when all runs see the same
    rows in the same order, gathered per run when shuffling or holding out."""

    def __init__(self, spec: CheckedSpec, program: Program, seeds: list[int]) -> None:
        self.data = [dataset(spec, seed, program.table) for seed in seeds] if (
            spec.shuffle or spec.held_out) else [dataset(spec, seeds[0], program.table)]
        first = self.data[0]
        self.inputs = first.inputs if first.inputs.dim() > 1 else first.inputs.unsqueeze(0)
        self.targets = first.targets if first.inputs.dim() > 1 else first.targets.unsqueeze(0)
        self.per_run = len(self.data) > 1
        if self.per_run:
            self.all_inputs = torch.stack([d.inputs for d in self.data])
            self.all_targets = torch.stack([d.targets for d in self.data])

    def epoch(self):
        if not self.per_run:
            first = self.data[0]
            if first.inputs.dim() == 1 or first.batch is None:
                yield self.inputs, self.targets
                return
            yield from first.batches()
            return
        runs = torch.arange(len(self.data)).unsqueeze(1)
        orders = torch.stack([self._order(d) for d in self.data])
        step = self.data[0].batch or orders.shape[1]
        for start in range(0, orders.shape[1], step):
            index = orders[:, start:start + step]
            yield self.all_inputs[runs, index], self.all_targets[runs, index]

    @staticmethod
    def _order(data) -> torch.Tensor:
        return torch.randperm(data.size, generator=data.generator) if data.shuffle else torch.arange(data.size)
