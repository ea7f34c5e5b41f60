"""Training inside a torch.distributed world: one process of several, each on a share of every batch.

In: the environment `torchrun` (or `nqa run --nproc N`) gives each worker (WORLD_SIZE > 1, RANK,
LOCAL_RANK, MASTER_ADDR/MASTER_PORT), the device, the checked spec and the training run's state.
Out: `join(device)`, the `World` this process belongs to (the process group started: gloo on the
CPU, nccl on CUDA, with a timeout on every collective), or None outside one; `check_spec`, which
refuses what cannot be shared (a `batch` that does not divide, `batch_norm`, a single example);
`Shares`, the loop's parts for this rank: rank r's contiguous share of each global batch (every
rank draws the same global order from the same seed), the network wrapped in
DistributedDataParallel, the loss weighted by the share's rows so that DDP's average of the
gradients is exactly the gradient of the global batch's mean loss (a rank with no rows adds a zero
loss, still joining the all-reduce), and the global batch's loss (an all-reduce) for the report;
`rank()`, this process's rank from the environment (0 outside a world): rank 0 alone writes.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

import torch

from spec_lang import codes, usage_error

TIMEOUT_SECONDS = 300  # a collective waiting longer than this for a peer ends the run (NQA_COLLECTIVE_TIMEOUT)
MAX_TIMEOUT_SECONDS = 86400  # a day: NQA_COLLECTIVE_TIMEOUT above it is refused


@dataclass(frozen=True)
class World:
    rank: int
    size: int
    local_rank: int


def _number(name: str, default: int) -> int:
    text = os.environ.get(name, "")
    return int(text) if text.strip().isdigit() else default


def world_size() -> int:
    return _number("WORLD_SIZE", 1)


def rank() -> int:
    """This process's rank in a torch.distributed world, 0 outside one."""
    return _number("RANK", 0) if world_size() > 1 else 0


def timeout_seconds() -> int:
    """NQA_COLLECTIVE_TIMEOUT, whole seconds from 1 to a day; 300 when it is unset or empty. Any other value is
    refused: a user who set it believes the timeout changed."""
    text = os.environ.get("NQA_COLLECTIVE_TIMEOUT", "").strip()
    if not text:
        return TIMEOUT_SECONDS
    seconds = int(text) if text.isascii() and text.isdigit() else 0
    if not 1 <= seconds <= MAX_TIMEOUT_SECONDS:
        from spec_lang import visible

        raise usage_error(f"NQA_COLLECTIVE_TIMEOUT `{visible(text)}` is not a number of seconds from 1 to "
                          f"{MAX_TIMEOUT_SECONDS}", f"set it to whole seconds (e.g. NQA_COLLECTIVE_TIMEOUT=600), "
                          f"or unset it for {TIMEOUT_SECONDS}", code=codes.BAD_OPTION_VALUE)
    return seconds


def join(device: str) -> World | None:
    """The world of the environment, its process group started (None when WORLD_SIZE is not above 1)."""
    size = world_size()
    if size <= 1:
        return None
    import torch.distributed as dist

    local = _number("LOCAL_RANK", 0)
    if not dist.is_initialized():
        cuda = device == "cuda" or (device == "auto" and torch.cuda.is_available())
        if cuda and torch.cuda.is_available():
            torch.cuda.set_device(local)
        try:
            dist.init_process_group("nccl" if cuda else "gloo", timeout=timedelta(seconds=timeout_seconds()))
            atexit.register(_leave)  # once per process: a group started again after its end can meet stale peers
        except (RuntimeError, ValueError) as err:  # DistNetworkError (a port in use) is a RuntimeError
            where = f"{os.environ.get('MASTER_ADDR', '?')}:{os.environ.get('MASTER_PORT', '?')}"
            raise usage_error(f"the {size} worker processes could not meet at {where}: {_first_line(err)}",
                              "free the port (or set MASTER_PORT to a free one), and start every process",
                              code=codes.RENDEZVOUS_FAILED) from None
    return World(dist.get_rank(), dist.get_world_size(), local)


def worker_failure(err: BaseException) -> str | None:
    """Inside a world, an unexpected exception said in one line on standard error (never a traceback, which
    every rank would print), and its kind for the launcher: `lost-peer` for a collective's failure (a peer that
    died, or did not answer within the timeout: torch raises RuntimeError), `error` for anything else.
    None outside a world."""
    import sys

    if world_size() <= 1:
        return None
    kind = "lost-peer" if isinstance(err, RuntimeError) else "error"
    what = "lost contact with the others" if kind == "lost-peer" else "failed"
    print(f"nqa: worker rank {rank()} {what}: {type(err).__name__}: {_first_line(err)}", file=sys.stderr)
    return kind


def _leave() -> None:
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()


def device_of(world: World, device: torch.device) -> torch.device:
    """Each worker's own GPU (its LOCAL_RANK) on CUDA; the CPU is shared."""
    return torch.device("cuda", world.local_rank) if device.type == "cuda" else device


def check_spec(checked, world: World, single_example: bool) -> None:
    """Refuse what cannot be split among the world's processes, in the same words on every rank."""
    if checked.batch is not None and checked.batch % world.size:
        raise usage_error(f"`batch {checked.batch}` cannot be shared by {world.size} processes: "
                          f"{checked.batch} does not divide by {world.size}",
                          f"make the batch a multiple of {world.size} (e.g. "
                          f"`batch {_multiple(checked.batch, world.size)}`), or use a number of processes that "
                          "divides it", code=codes.BATCH_NOT_SHARED)
    from compiler.layers.norm import BatchNorm

    if any(isinstance(layer, BatchNorm) for layer in checked.flat()[0]):
        raise usage_error("`batch_norm` cannot be trained across several processes: each would normalise by the "
                          "statistics of its own share of the batch, not the whole batch's",
                          "train this spec in one process (leave out --nproc)", code=codes.NOT_DISTRIBUTABLE)
    if single_example:
        raise usage_error("a spec of a single example cannot be shared by several processes",
                          "train it in one process (leave out --nproc), or give more examples",
                          code=codes.NOT_DISTRIBUTABLE)


def _multiple(batch: int, size: int) -> int:
    return max(size, round(batch / size) * size)


def _first_line(err: BaseException) -> str:
    lines = [line for line in str(err).splitlines() if line.strip()]
    return lines[0].strip() if lines else type(err).__name__


def share(rows: int, world: World) -> tuple[int, int]:
    """The rows [start, stop) of a global batch of `rows` that `world.rank` takes: contiguous,
    equal when `rows` divides, else the first `rows % size` ranks take one more."""
    base, extra = divmod(rows, world.size)
    start = world.rank * base + min(world.rank, extra)
    return start, start + base + (1 if world.rank < extra else 0)


class Shares:
    """The training loop's batches, forward, loss and reported loss value for one rank of `world`."""

    def __init__(self, world: World, model: torch.nn.Module, device: torch.device) -> None:
        from torch.nn.parallel import DistributedDataParallel

        self.world = world
        ids = [device.index] if device.type == "cuda" else None
        self.forward: Callable[[torch.Tensor], torch.Tensor] = DistributedDataParallel(
            model, device_ids=ids)
        self.rows, self.total = 0, 0

    def reseed(self, seed: int, first_epoch: int) -> None:
        """Randomness that differs by rank (dropout): rank 0 keeps the seeded stream a single
        process would have; every other rank draws its own, derived from the spec's seed."""
        if self.world.rank:
            torch.manual_seed((seed * 1_000_003 + self.world.rank * 7_919 + first_epoch) % (2**63))

    def batches(self, batches: Iterator[tuple[torch.Tensor, torch.Tensor]]):
        for inputs, targets in batches:
            self.total = len(targets)
            start, stop = share(self.total, self.world)
            self.rows = stop - start
            yield inputs[start:stop], targets[start:stop]

    def loss(self, criterion: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]):
        def weighted(output: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
            if self.rows == 0:  # no rows here: a zero that still reaches every parameter, for the all-reduce
                return output.sum() * 0.0
            loss = criterion(output, targets)
            if self.rows * self.world.size == self.total:
                return loss
            return loss * (self.rows * self.world.size / self.total)

        return weighted

    def value(self, loss: torch.Tensor) -> float:
        """The global batch's mean loss: the weighted losses of every rank, summed, over the world's size."""
        import torch.distributed as dist

        total = loss.detach().to(torch.float64).reshape(1)
        dist.all_reduce(total)
        return total.item() / self.world.size
