"""The fast way to train N seeds at once, for the networks it names: vector inputs
through `nn.Linear` layers and element-wise activations only.

In: a checked spec, the seeds, and the network built for the first seed as its
single run builds it. Out: `Stacked` — every member's parameters as a row of
one `[N, P]` leaf tensor, and `forward(x, shared)`: each `nn.Linear` is a
batched matrix product over the members (`torch.baddbmm` with the members'
weights), each activation is the built module's own `forward` on the
`[N, B, F]` batch (they act on each value, or on the last dim, alone). Which
modules qualify is `stackable`: a named list of torch classes, not of layer
kinds; anything else goes to the generic path (`ensemble`).

Why: building a thousand modules takes longer than training a thousand of
these small networks. Initial weights are drawn directly from a generator
seeded per member, as `nn.Linear.reset_parameters` draws them after
`torch.manual_seed(seed)`; `Stacked.of` compares the first member's row with
the network built for its seed, and declines (the generic path then runs) if
they differ in any bit.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator

import torch
from torch import nn

from .ensemble import Slot, slots_of

_ELEMENT_WISE = (nn.ReLU, nn.Sigmoid, nn.Tanh, nn.GELU, nn.LeakyReLU)  # act on each value alone, any shape


def stackable(module: nn.Module) -> bool:
    """Whether the stacked path runs this module: `nn.Linear` itself, an element-wise
    activation, or a softmax over the last dim."""
    if type(module) is nn.Linear or type(module) in _ELEMENT_WISE:
        return True
    return type(module) is nn.Softmax and module.dim == -1


class Stacked:
    """N members of a network of `nn.Linear` and activations, as one `[N, P]` tensor."""

    def __init__(self, model: nn.Sequential, seeds: list[int]) -> None:
        self.count = len(seeds)
        self.slots = slots_of(model)
        self.forwards = [module.forward for module in model]  # nqa registers no hooks: `forward` is `module(x)`
        self.flat = _initial_rows(self.slots, _bounds(model), seeds).requires_grad_(True)
        self.leaves = [self.flat]
        where = {slot.name: slot for slot in self.slots}
        self._weights = [(where.get(f"{i}.weight"), where.get(f"{i}.bias")) for i in range(len(self.forwards))]

    @classmethod
    def of(cls, model: nn.Sequential, seeds: list[int]) -> Stacked | None:
        """The stacked members, or None when the first one's initial weights differ from
        `model`'s (built for `seeds[0]` as its single run builds it)."""
        stacked = cls(model, seeds)
        built = torch.cat([t.detach().flatten() for t in model.state_dict().values()])
        return stacked if torch.equal(built, stacked.flat[0].detach()) else None

    def forward(self, x: torch.Tensor, shared: bool) -> torch.Tensor:
        """Every member's output: `x` is one batch for all (`shared`), or one per member on dim 0."""
        runs, flat = self.count, self.flat
        h = x.expand(runs, *x.shape) if shared else x
        one = h.dim() == 2  # a single example, fed as a plain vector as a single run feeds it
        if one:
            h = h.unsqueeze(1)
        for forward, (weight, bias) in zip(self.forwards, self._weights, strict=True):
            if weight is None:
                h = forward(h)
                continue
            w = flat[:, weight.start:weight.end].view(runs, *weight.shape).transpose(1, 2)
            h = torch.bmm(h, w) if bias is None else torch.baddbmm(flat[:, bias.start:bias.end].view(runs, 1, -1), h, w)
        return h.squeeze(1) if one else h

    def rows(self) -> torch.Tensor:
        return self.flat.detach().clone()

    @contextlib.contextmanager
    def evaluating(self) -> Iterator[None]:
        """Eval mode: linear layers and activations act the same in both modes."""
        yield


def _bounds(model: nn.Sequential) -> dict[str, float]:
    """The bound of each `nn.Linear` tensor's uniform draw, computed as
    `reset_parameters` computes it (`kaiming_uniform_(a=sqrt(5))` for the weight)."""
    bounds = {}
    for index, module in enumerate(model):
        if isinstance(module, nn.Linear):
            fan_in = module.in_features
            gain = math.sqrt(2.0 / (1 + math.sqrt(5) ** 2))
            bounds[f"{index}.weight"] = math.sqrt(3.0) * (gain / math.sqrt(fan_in))
            bounds[f"{index}.bias"] = 1 / math.sqrt(fan_in)
    return bounds


def _initial_rows(slots: list[Slot], bounds: dict[str, float], seeds: list[int]) -> torch.Tensor:
    """Every member's initial parameters, drawn from its own seeded generator in `state_dict` order."""
    rows = torch.empty(len(seeds), slots[-1].end if slots else 0)
    draws = [(slot.start, slot.end, bounds[slot.name]) for slot in slots]
    generator = torch.Generator()
    for row, seed in zip(rows, seeds, strict=True):
        generator.manual_seed(seed)
        for start, end, bound in draws:
            row[start:end].uniform_(-bound, bound, generator=generator)
    return rows
