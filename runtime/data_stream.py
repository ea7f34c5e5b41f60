"""A streamed data file's batches, read a piece at a time, in bounded memory.

In: the checked spec, the seed, the `StreamedTable` that `check` made (its
files checked, its pieces known: those of all its files together) and the
memory budget. Out: `StreamedDataset`, with
what training uses of `data.Dataset`: `batches()` (the next epoch's global
batches, the same on every process for the same seed), `batches_per_epoch()`,
`size` (the rows trained on), `batch`, `generator`, `broadcast`, `validating`,
`held_rows`, `held_batches()`, `ordered_batches()`, `normalization` (with
`normalize`: the training rows' statistics, taken in a first pass over the
file, `streamed_statistics`), `to(device)`, and `info()` for the report.

Held out (`validate F`): row i of the file (from 0) is held out when a 32-bit
mix of i and the seed is below F x 2^32: the same rows every epoch and every
run of the seed, about F of them, known without reading the file.
Order: each epoch, the pieces in an order drawn from `generator` (seeded with
the seed; without `shuffle`, the file's order), their training rows gathered
until `buffer` rows are held, shuffled together with the same generator and
cut into batches of `batch`; the rows left over go on into the next buffer, and
the epoch's last batch holds what remains. So every training row is trained on
once an epoch, in `ceil(rows / batch)` batches, as with data read whole.
Memory: one piece's text and parsing, the buffer (plus one piece's rows) as
float32, and one batch (`compiler.stream_checks` says how the budget is split).
"""

from __future__ import annotations

from collections.abc import Generator, Iterator

import torch

from compiler import CheckedSpec
from compiler.data_stream import Piece, StreamedTable
from compiler.stream_checks import shuffle_rows

from .data import input_dtype, values
from .normalize import Normalization
from .report import StreamInfo

_MASK = 0xFFFFFFFF


def streamed_statistics(method: str, batches: Iterator[tuple[torch.Tensor, torch.Tensor]],
                        names: tuple[str, ...]) -> Normalization:
    """`normalize`'s statistics over batches of the training rows, in float64, as
    `compiler.modules.normalizing_statistics` takes them over all rows at once: the mean and the
    population standard deviation (batches merged by Chan's formula), or the minimum and max - min."""
    count, mean, squares, low, high = 0, None, None, None, None
    shape: tuple[int, ...] = ()
    for inputs, _ in batches:
        shape = tuple(inputs.shape[1:])
        rows = inputs.reshape(len(inputs), -1).to(torch.float64)
        if not len(rows):
            continue
        part_mean, part_squares = rows.mean(dim=0), ((rows - rows.mean(dim=0)) ** 2).sum(dim=0)
        part_low, part_high = rows.min(dim=0).values, rows.max(dim=0).values
        if mean is None or squares is None or low is None or high is None:
            count, mean, squares, low, high = len(rows), part_mean, part_squares, part_low, part_high
            continue
        total = count + len(rows)
        delta = part_mean - mean
        squares = squares + part_squares + delta**2 * (count * len(rows) / total)
        mean = mean + delta * (len(rows) / total)
        low, high, count = torch.minimum(low, part_low), torch.maximum(high, part_high), total
    assert mean is not None and squares is not None and low is not None and high is not None  # rows to train on
    constant = low == high
    if method == "minmax":
        shift, spread = low, high - low
    else:
        shift, spread = torch.where(constant, low, mean), (squares / count).sqrt()
    scale = torch.where(constant, torch.ones_like(spread), spread)
    flat = tuple(int(i) for i in constant.nonzero().flatten())
    return Normalization(method, shift.reshape(shape), scale.reshape(shape), count, flat,
                         names if len(names) == shift.numel() else ())


def held_mask(start: int, count: int, seed: int, fraction: float) -> torch.Tensor:
    """Which of rows `start`..`start + count - 1` of a file `validate fraction` holds out, for this seed."""
    index = torch.arange(start, start + count, dtype=torch.int64)
    mixed = ((index ^ (index >> 32)) & _MASK) ^ ((seed * 0x9E3779B1) & _MASK)
    for _ in range(2):
        mixed = (((mixed >> 16) ^ mixed) * 0x45D9F3B) & _MASK
    mixed = (mixed >> 16) ^ mixed
    return mixed < int(fraction * 2**32)


class StreamedDataset:
    def __init__(self, spec: CheckedSpec, seed: int, table: StreamedTable, budget: int) -> None:
        self.spec, self.seed, self.table = spec, seed, table
        self.batch: int | None = spec.batch
        self.shuffle = spec.shuffle
        self.buffer = shuffle_rows(spec.shuffle_buffer, table, budget)
        self.budget = budget
        self.generator = torch.Generator().manual_seed(seed)
        self.broadcast = not spec.loss.class_targets and table.target_width != spec.output_width
        self.normalization: Normalization | None = None
        self.device = torch.device("cpu")
        self.held_inputs = None  # never held whole: `held_batches` reads them
        starts, done = [], 0
        for piece in table.pieces:
            starts.append(done)
            done += piece.rows
        self._starts = starts
        fraction = spec.held_out
        self.held_rows = 0 if not fraction else sum(int(held_mask(start, piece.rows, seed, fraction).sum())
                                                     for start, piece in zip(starts, table.pieces, strict=True))
        self.size = table.rows - self.held_rows
        if spec.normalize is not None:  # a first pass over the training rows; then every piece is scaled
            self.normalization = streamed_statistics(spec.normalize, self.ordered_batches(), table.input_names)

    @property
    def validating(self) -> bool:
        return self.held_rows > 0

    def to(self, device: torch.device | str) -> StreamedDataset:
        self.device = torch.device(device)
        return self

    def batches_per_epoch(self) -> int:
        return -(-self.size // (self.batch or self.size or 1))

    def batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """The (input, target) batches of one epoch, through a shuffle buffer."""
        count = len(self.table.pieces)
        order = torch.randperm(count, generator=self.generator).tolist() if self.shuffle else range(count)
        step = self.batch or self.size
        held_x: list[torch.Tensor] = []
        held_y: list[torch.Tensor] = []
        rows = 0
        for index in order:
            inputs, targets = self._piece(index, held=False)
            held_x.append(inputs)
            held_y.append(targets)
            rows += len(inputs)
            if rows >= self.buffer:
                left_x, left_y = yield from self._emit(held_x, held_y, step, last=False)
                held_x, held_y, rows = [left_x], [left_y], len(left_x)
        yield from self._emit(held_x, held_y, step, last=True)

    def _emit(self, xs: list[torch.Tensor], ys: list[torch.Tensor], step: int,
              last: bool) -> Generator[tuple[torch.Tensor, torch.Tensor], None, tuple[torch.Tensor, torch.Tensor]]:
        """Batches of the buffer's rows, shuffled; returns the rows that do not fill a batch (unless `last`)."""
        inputs, targets = torch.cat(xs), torch.cat(ys)
        xs.clear()
        ys.clear()
        if self.shuffle:
            order = torch.randperm(len(inputs), generator=self.generator)
            inputs, targets = inputs[order], targets[order]
        full = len(inputs) if last else len(inputs) // step * step
        for start in range(0, full, step):
            yield self._on_device(inputs[start:start + step], targets[start:start + step])
        return inputs[full:].clone(), targets[full:].clone()  # not views: the buffer is let go

    def held_batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """The held-out rows, in the file's order, in batches of at most `batch`."""
        return self._in_order(held=True)

    def ordered_batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """The training rows, in the file's order, in batches of at most `batch` (to measure accuracy)."""
        return self._in_order(held=False)

    def _in_order(self, held: bool) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        step = self.batch or 1
        for index in range(len(self.table.pieces)):
            inputs, targets = self._piece(index, held)
            for start in range(0, len(inputs), step):
                yield self._on_device(inputs[start:start + step], targets[start:start + step])

    def _on_device(self, inputs: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return inputs.to(self.device), targets.to(self.device)

    def _piece(self, index: int, held: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """Piece `index`'s training rows (or its held-out ones) as tensors, as `data.dataset` makes them."""
        piece: Piece = self.table.pieces[index]
        table = self.table.read(piece)
        spec = self.spec
        inputs = values(table.inputs).reshape(-1, *spec.input_type.sizes).to(input_dtype(spec))
        flat = values(table.targets).reshape(-1, table.target_width)
        if spec.loss.class_targets:
            targets = flat[:, 0].long()
        else:
            targets = flat.to(torch.float32)
            targets = targets.expand(-1, spec.output_width) if self.broadcast else targets
            targets = targets.reshape(-1, *spec.output_type.sizes)
        if spec.held_out:
            mask = held_mask(self._starts[index], piece.rows, self.seed, spec.held_out)
            keep = mask if held else ~mask
            inputs, targets = inputs[keep], targets[keep]
        if self.normalization is not None:
            inputs = self.normalization.apply(inputs)
        return inputs, targets

    def info(self) -> StreamInfo:
        return StreamInfo(file=self.table.path, files=len(self.table.files), rows=self.table.rows, trained=self.size,
                          held_out=self.held_rows,
                          pieces=len(self.table.pieces), piece_bytes=self.table.piece_bytes, buffer=self.buffer,
                          memory_budget=self.budget)
