"""The generic way to train N seeds of one network at once: `torch.func`.

In: a checked spec and the seeds. Out: `Ensemble` — the N networks built
exactly as single runs build them (torch's CPU generator seeded as
`torch.manual_seed(seed)` seeds it, then `compile_spec`), their parameters
and buffers stacked member by member (`stack_module_state`), and `forward(x, shared)`, which runs the network's own
modules on every member at once (`functional_call` under `vmap`). Buffers are
stacked too and passed to `vmap` batched, so a module that updates its buffers
in training (`BatchNorm`'s running statistics) updates each member's own row in
place, as the single run of its seed updates its own. No layer is named here:
whatever `compile_spec` builds is what runs. A network with a module that
`vmap` cannot batch (torch has no batching rule for the LSTM and GRU kernels)
runs its members one after another instead, on views of the same stacked
tensors: the same results, without the speed.

Also: `MemberLosses`, each member's loss from the spec's own loss class
(the module `build_loss` builds, or the same class with `reduction="none"`,
checked against it), so no loss can stand in for another; and `Slot` / `slots_of`, where each tensor of one member
lives in that member's row of the `[N, P]` snapshots that the report reads.

Random layers (`dropout`) run under `randomness="error"`: `vmap` could draw a
mask per member, but not the mask each single run draws, so `--runs` refuses
them before building anything (`runs.refuse_random`).
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from compiler import CheckedSpec, compile_spec

from .optim import build_loss

if TYPE_CHECKING:
    from compiler.losses import Loss


@dataclass(frozen=True)
class Slot:
    """Where one tensor of a member's `state_dict` lives in the member's row."""

    name: str
    start: int
    shape: tuple[int, ...]
    buffer: bool = False  # a buffer (running statistics), not a trained parameter
    dtype: str = "float32"  # the tensor's own dtype; rows hold it as float32

    @property
    def end(self) -> int:
        return self.start + math.prod(self.shape)


def slots_of(model: nn.Module) -> list[Slot]:
    """Each tensor of `model.state_dict()`, in its order, one after another."""
    buffers = {name for name, _ in model.named_buffers()}
    slots: list[Slot] = []
    for name, tensor in model.state_dict().items():
        start = slots[-1].end if slots else 0
        slots.append(Slot(name, start, tuple(tensor.shape), name in buffers, str(tensor.dtype).removeprefix("torch.")))
    return slots


def seeded(seed: int) -> None:
    """`torch.manual_seed(seed)` for what is built here, on the CPU: its CPU generator,
    left in the same state. `torch.manual_seed` also queues the seed for devices not
    started yet, recording a traceback each time (over a millisecond a seed)."""
    torch.random.default_generator.manual_seed(seed)


class Ensemble:
    """N members of one network, stacked, trained as one."""

    def __init__(self, spec: CheckedSpec, seeds: list[int]) -> None:
        models = []
        for seed in seeds:
            seeded(seed)
            models.append(compile_spec(spec))
        self.count = len(seeds)
        self.slots = slots_of(models[0])
        self.params, self.buffers = stack_module_state(models)
        self.leaves: list[torch.Tensor] = list(self.params.values())
        base = copy.deepcopy(models[0]).to("meta")  # the structure alone: the tensors come from the stacks
        base.train()

        def one(params: dict[str, torch.Tensor], buffers: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
            return functional_call(base, (params, buffers), (x,))

        self._one, self._base = one, base
        self._shared = vmap(one, in_dims=(0, 0, None), randomness="error")
        self._each = vmap(one, in_dims=(0, 0, 0), randomness="error")
        self.vectorised: bool | None = None  # whether vmap batches every module; told at the first call

    def forward(self, x: torch.Tensor, shared: bool) -> torch.Tensor:
        """Every member's output: `x` is one batch for all (`shared`), or one per member on dim 0."""
        if self.vectorised is None:
            self.vectorised = self._batches(x, shared)
        if not self.vectorised:
            return torch.stack([self._one({k: v[n] for k, v in self.params.items()},
                                          {k: v[n] for k, v in self.buffers.items()}, x if shared else x[n])
                                for n in range(self.count)])
        result: torch.Tensor = (self._shared if shared else self._each)(self.params, self.buffers, x)
        return result

    def _batches(self, x: torch.Tensor, shared: bool) -> bool:
        """Whether `vmap` can batch every module (torch has no batching rule for `nn.LSTM`'s
        kernel, for one), tried on `meta` copies: nothing is computed, no buffer changes.
        Where it cannot, the members run one by one on views of the same stacked tensors."""
        def meta(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
            return {name: torch.empty_like(t, device="meta") for name, t in tensors.items()}

        try:
            (self._shared if shared else self._each)(meta(self.params), meta(self.buffers), x.to("meta"))
        except RuntimeError:
            return False
        return True

    @contextlib.contextmanager
    def evaluating(self) -> Iterator[None]:
        """The modules in eval mode (`batch_norm` reads its running statistics, and updates none) while held."""
        self._base.eval()
        try:
            yield
        finally:
            self._base.train()

    def rows(self) -> torch.Tensor:
        """Every member's state, `[N, P]` float32 (a copy), laid out as `slots` say."""
        state = {**self.params, **self.buffers}
        return torch.cat([state[slot.name].detach().reshape(self.count, -1).to(torch.float32)
                          for slot in self.slots], 1) if self.slots else torch.empty(self.count, 0)


class MemberLosses:
    """Each member's loss, `[N]`, from the spec's own loss class.

    The loss module `build_loss` builds (`mean` reduction) is the reference. Where
    it reduces by a plain mean, the same class is built again with
    `reduction="none"` and all members are passed as one batch (members times
    rows on dim 0, where torch's losses take the batch), then each member's
    values are averaged (one example each, as a single run feeds it unbatched:
    the members are the batch); the first call checks member 0 against the module
    itself and, should they differ, every later call runs the module itself on
    each member under `vmap`. Either way no loss can stand in for another."""

    def __init__(self, settings: Loss, batched: bool) -> None:
        self.batched = batched  # whether each member's output holds a batch of rows, or one example
        self.criterion = build_loss(settings)
        plain = getattr(self.criterion, "reduction", None) == "mean" and getattr(self.criterion, "weight", None) is None
        self.elements: nn.Module | None = (getattr(nn, settings.torch_name)(**settings.torch_kwargs(), reduction="none")
                                           if plain else None)
        self.checked = False

    def __call__(self, output: torch.Tensor, target: torch.Tensor, shared: bool) -> torch.Tensor:
        """`output` holds each member's on dim 0; `target` is the batch's (`shared`), or each member's on dim 0.
        A loss that refuses outputs that are not finite (`bce`) gets the members whose outputs
        are finite; the others, which diverged, have NaN."""
        try:
            return self._losses(output, target, shared)
        except RuntimeError:
            good = torch.isfinite(output.reshape(len(output), -1)).all(1)
            if bool(good.all()):
                raise
        if not bool(good.any()):
            return output.new_full((len(output),), math.nan)
        part = self._losses(output[good], target if shared else target[good], shared)
        return output.new_full((len(output),), math.nan).index_put((good,), part)

    def _losses(self, output: torch.Tensor, target: torch.Tensor, shared: bool) -> torch.Tensor:
        if self.elements is None:
            return self._each(output, target, shared)
        runs = len(output)
        targets = target.expand(runs, *target.shape) if shared else target
        if self.batched:  # members times rows, one batch
            values = self.elements.forward(output.flatten(0, 1), targets.flatten(0, 1))
        else:  # one example each, which a single run feeds unbatched: the members are the batch
            values = self.elements.forward(output, targets)
        losses = values.reshape(runs, -1).mean(1)
        if not self.checked and not self._agrees(losses[0], output[0], targets[0]):
            self.elements = None
            return self._each(output, target, shared)
        return losses

    def _agrees(self, loss: torch.Tensor, output: torch.Tensor, target: torch.Tensor) -> bool:
        """Whether member 0's loss is the loss module's own (`checked` once it could be told)."""
        with torch.no_grad():
            try:
                reference = self.criterion(output, target)
            except RuntimeError:  # its output is not finite, and the loss refuses it: tell on a later call
                return True
        self.checked = True
        return torch.allclose(loss.detach(), reference, rtol=1e-5, atol=1e-7, equal_nan=True)

    def _each(self, output: torch.Tensor, target: torch.Tensor, shared: bool) -> torch.Tensor:
        losses: torch.Tensor = vmap(self.criterion, in_dims=(0, None if shared else 0))(output, target)
        return losses
