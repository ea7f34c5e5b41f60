"""Training examples as tensors, and the batches of each epoch.

In: the checked spec's examples and data table, its loss and the network's
input and output types. Out: `Dataset` with input and target tensors and
`batches(epoch)`. Inputs are `[N, *input sizes]`, float32, or int64 ids when
the first layer takes ids. A single example of a vector input is fed as a
plain vector, exactly as the tutorial feeds it. Targets are `[N, *output
sizes]`: a target of one value on a wider network is expanded explicitly to
every output (and `broadcast` says so); class targets for `cross_entropy`
become int64 indices `[N]`. With `normalize`, every input (trained on or held
out) is scaled by the statistics of the rows left to train on, and the
`Dataset` keeps them (`normalization`). A streamed data file
(`compiler.data_stream`) becomes a `data_stream.StreamedDataset` instead,
read a piece at a time with the same interface.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch

from compiler import CheckedSpec
from compiler.data_file import Table
from compiler.data_rules import held_out_rows, plain_vector

from .normalize import Normalization
from .report import StreamInfo


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
    normalization: Normalization | None = None  # `normalize`: the training rows' statistics, applied to all inputs

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

    @property
    def validating(self) -> bool:
        """Whether `validate` holds rows out."""
        return self.held_inputs is not None

    @property
    def held_rows(self) -> int:
        return 0 if self.held_inputs is None else len(self.held_inputs)

    def held_batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """The held-out rows, all at once (a streamed data set gives them in batches)."""
        if self.held_inputs is not None:
            yield self.held_inputs, self.held_targets  # type: ignore[misc]  # set together

    def ordered_batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """The training rows in their order, all at once."""
        yield self.inputs, self.targets

    def info(self) -> StreamInfo | None:
        """What the report says of streamed data: nothing, for data read whole."""
        return None  # the streamed data set's answer is a `StreamInfo`

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


def input_dtype(spec: CheckedSpec) -> torch.dtype:
    """int64 ids for a network whose first layer takes ids, else float32."""
    return torch.int64 if spec.input_type.dtype == "int64" else torch.float32


def dataset(spec: CheckedSpec, seed: int, table: Table | None = None, budget: int = 0) -> Dataset:
    """The training rows as tensors; a streamed data file (`budget`: the memory budget) as a `StreamedDataset`."""
    if table is not None and table.streamed:
        from .data_stream import StreamedDataset

        return StreamedDataset(spec, seed, table, budget)  # type: ignore[arg-type, return-value]  # the same interface
    in_type, dtype = spec.input_type, input_dtype(spec)
    inputs = torch.tensor([e.input for e in spec.examples], dtype=torch.float32 if dtype == torch.float32 else
                          torch.float64).reshape(-1, in_type.values)
    if table is not None:
        rows = values(table.inputs).reshape(-1, in_type.values).to(dtype)
        inputs = torch.cat([inputs.to(dtype), rows]) if len(inputs) else rows  # no copy of a large file's rows
    inputs = inputs.to(dtype).reshape(-1, *in_type.sizes)
    targets, broadcast = _targets(spec, table)
    held: tuple[torch.Tensor, torch.Tensor] | tuple[None, None] = (None, None)
    if spec.held_out:
        inputs, targets, held = _hold_out(inputs, targets, spec.held_out, seed)
    normalization = None
    if spec.normalize is not None:  # from the rows left to train on, never the held-out ones
        names = table.input_names if table is not None else ()
        normalization = Normalization.fit(spec.normalize, inputs, names)
        inputs = normalization.apply(inputs)
        held = (normalization.apply(held[0]), held[1]) if held[0] is not None else held
    if len(inputs) == 1 and plain_vector(spec):
        inputs, targets = inputs[0], targets[0]
    generator = torch.Generator().manual_seed(seed)
    return Dataset(inputs, targets, spec.batch, spec.shuffle, generator, broadcast, held[0], held[1], normalization)


def values(flat: Any) -> torch.Tensor:
    """A table's flat values as a tensor: an `array('d')` from a CSV file, or an .npz file's NumPy array."""
    if isinstance(flat, array):
        return torch.frombuffer(flat, dtype=torch.float64) if len(flat) else torch.zeros(0, dtype=torch.float64)
    if flat.dtype.kind == "u" and flat.dtype.itemsize > 1:  # torch reads unsigned bytes only
        flat = flat.astype("float64" if flat.dtype.itemsize == 8 else "int64")
    return torch.from_numpy(flat)


def _targets(spec: CheckedSpec, table: Table | None) -> tuple[torch.Tensor, bool]:
    """Class indices `[N]`, or targets `[N, *output sizes]` with one-value targets expanded to every output."""
    outputs, sizes = spec.output_width, spec.output_type.sizes
    rows = [e.target for e in spec.examples]
    width = table.target_width if table is not None else 1
    more = values(table.targets).reshape(-1, width) if table is not None else torch.zeros(0, 1)
    if spec.loss.class_targets:
        return torch.cat([torch.tensor([int(r[0]) for r in rows], dtype=torch.long), more[:, 0].long()]), False
    targets = torch.tensor([r if len(r) == outputs else r * outputs for r in rows], dtype=torch.float32)
    broadcast = any(len(r) != outputs for r in rows)
    if table is not None:
        broadcast = broadcast or width != outputs
        more = more.to(torch.float32).expand(-1, outputs) if width != outputs else more.to(torch.float32)
        targets = torch.cat([targets.reshape(-1, outputs), more])
    return targets.reshape(-1, *sizes), broadcast


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
