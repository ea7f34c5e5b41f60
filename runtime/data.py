"""Training examples as tensors, and the batches of each epoch.

In: the checked spec's examples, its loss and the network's output width.
Out: `Dataset` with input and target tensors and `batches(epoch)`. A single
example is fed as a plain vector, exactly as the tutorial feeds it; several are
stacked into a matrix, one row each. A target of width 1 on a wider network is
expanded explicitly to every output (and `broadcast` says so); class targets
for `cross_entropy` become integer indices.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch

from compiler import CheckedSpec
from compiler.data_file import Table
from compiler.data_rules import held_out_rows


@dataclass
class Dataset:
    inputs: torch.Tensor
    targets: torch.Tensor
    batch: int | None
    shuffle: bool
    generator: torch.Generator
    broadcast: bool
    held_inputs: torch.Tensor | None = None  # the rows held out by `validate`
    held_targets: torch.Tensor | None = None

    def to(self, device: torch.device | str) -> Dataset:
        """The same data on `device` (the shuffling generator stays on the CPU)."""
        self.inputs, self.targets = self.inputs.to(device), self.targets.to(device)
        if self.held_inputs is not None:
            self.held_inputs, self.held_targets = (
                self.held_inputs.to(device), self.held_targets.to(device))  # type: ignore[union-attr]  # set together
        return self

    @property
    def size(self) -> int:
        return 1 if self.inputs.dim() == 1 else self.inputs.shape[0]

    def batches_per_epoch(self) -> int:
        size = self.batch or self.size
        return -(-self.size // size)

    def batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """The (input, target) pairs of one epoch, shuffled if asked, with a seeded generator."""
        if self.inputs.dim() == 1 or (self.batch is None and not self.shuffle):
            yield self.inputs, self.targets
            return
        order = (torch.randperm(self.size, generator=self.generator) if self.shuffle
                 else torch.arange(self.size)).to(self.inputs.device)
        step = self.batch or self.size
        for start in range(0, self.size, step):
            index = order[start:start + step]
            yield self.inputs[index], self.targets[index]


def dataset(spec: CheckedSpec, seed: int, table: Table | None = None) -> Dataset:
    outputs = spec.output_width
    rows = [e.target for e in spec.examples]
    if table is not None:
        w = table.target_width
        rows += [tuple(table.targets[i:i + w]) for i in range(0, len(table.targets), w)]
    inputs = torch.tensor([e.input for e in spec.examples], dtype=torch.float32).reshape(-1, spec.input_width)
    if table is not None:
        more = torch.frombuffer(table.inputs, dtype=torch.float64).reshape(-1, table.input_width)
        inputs = torch.cat([inputs, more.to(torch.float32)])
    broadcast = False
    if spec.loss.class_targets:
        targets = torch.tensor([int(r[0]) for r in rows], dtype=torch.long)
    else:
        targets = torch.tensor([r if len(r) == outputs else r * outputs for r in rows], dtype=torch.float32)
        broadcast = any(len(r) != outputs for r in rows)
    held: tuple[torch.Tensor, torch.Tensor] | tuple[None, None] = (None, None)
    if spec.held_out:
        inputs, targets, held = _hold_out(inputs, targets, spec.held_out, seed)
    if len(inputs) == 1:
        inputs, targets = inputs[0], targets[0]
    generator = torch.Generator().manual_seed(seed)
    return Dataset(inputs, targets, spec.batch, spec.shuffle, generator, broadcast, *held)


def _hold_out(inputs: torch.Tensor, targets: torch.Tensor, fraction: float,
              seed: int) -> tuple[torch.Tensor, torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """Split off round(fraction * rows) rows, chosen with a generator seeded by `seed`;
    the rest keep their order."""
    count = len(inputs)
    held = held_out_rows(fraction, count)
    order = torch.randperm(count, generator=torch.Generator().manual_seed(seed))
    keep = order[held:].sort().values
    out = order[:held].sort().values
    return inputs[keep], targets[keep], (inputs[out], targets[out])
