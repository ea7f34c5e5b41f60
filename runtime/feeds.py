"""The batches many members trained at once see, each member as the single run of its seed.

In: a checked spec, its data table and each member's seed (seeds may repeat: a
sweep trains every combination with the same seeds). Out: `Feeds`, whose
`epoch()` gives each step's `(inputs, targets, shared)`: the single run's own
batch for all members (`shared`) when all see the same rows in the same order
(one seed, or neither shuffling nor held-out rows), else one batch per member on
dim 0, gathered from the rows and order of the member's seed; and `held()`, the
rows `validate` holds out, the same way. Each seed's shuffling generator draws
once per epoch, however many members share the seed, as its single run's does.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from compiler import CheckedSpec
from compiler.data_file import Table

from .data import Dataset, dataset

Batch = tuple[torch.Tensor, torch.Tensor, bool]


class Feeds:
    def __init__(self, spec: CheckedSpec, table: Table | None, seeds: list[int]) -> None:
        distinct = list(dict.fromkeys(seeds))
        first = dataset(spec, distinct[0], table)
        self.batched = first.inputs.dim() > 1  # one example is fed as a plain vector, and never shuffled
        self.per_run = self.batched and bool(spec.shuffle or spec.held_out) and len(distinct) > 1
        self.data = [first, *(dataset(spec, seed, table) for seed in distinct[1:])] if self.per_run else [first]
        self.member_of = torch.tensor([distinct.index(seed) for seed in seeds]) if self.per_run else None
        if self.per_run:
            self.all_inputs = torch.stack([d.inputs for d in self.data])
            self.all_targets = torch.stack([d.targets for d in self.data])

    def epoch(self) -> Iterator[Batch]:
        if self.member_of is None:
            for inputs, targets in self.data[0].batches():
                yield inputs, targets, True
            return
        runs = self.member_of.unsqueeze(1)
        orders = torch.stack([self._order(d) for d in self.data])[self.member_of]
        step = self.data[0].batch or orders.shape[1]
        for start in range(0, orders.shape[1], step):
            index = orders[:, start:start + step]
            yield self.all_inputs[runs, index], self.all_targets[runs, index], False

    def held(self) -> Batch | None:
        """The held-out rows and their targets (each member's seed's), or None without `validate`."""
        if self.data[0].held_inputs is None:
            return None
        if self.member_of is None:
            return self.data[0].held_inputs, self.data[0].held_targets, True  # type: ignore[return-value]
        inputs = torch.stack([d.held_inputs for d in self.data])  # type: ignore[misc]  # all hold out rows
        targets = torch.stack([d.held_targets for d in self.data])  # type: ignore[misc]
        return inputs[self.member_of], targets[self.member_of], False

    @staticmethod
    def _order(data: Dataset) -> torch.Tensor:
        return torch.randperm(data.size, generator=data.generator) if data.shuffle else torch.arange(data.size)
