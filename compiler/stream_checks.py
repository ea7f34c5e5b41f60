"""What a streamed data file asks of the rest of a spec, and how its memory budget is split.

In: the bound statements, the table `check` read (a `Table`, or a
`data_stream.StreamedTable`), the checked spec and the limits. Out:
diagnostics — a streamed file needs a `batch` (E0335), goes with no `example`
rows and no sweep (E0614), and the budget
must hold its buffer and a batch (E0613); `refuse_streamed` stops what cannot
read one (`--runs`, checkpoints, `--emit python`) with E0614; a
`shuffle buffer=` on data read whole is a warning (W0012): that data is
shuffled whole. And `shuffle_rows`, the rows the runtime shuffles together.

The budget's split: a quarter for the piece being read (its bytes and the
parsing, see `data_stream.piece_bytes`); a quarter for the shuffle buffer
(float32 inputs and targets), which is held up to three times while it is
gathered, joined and shuffled, so its rows take a twelfth; a quarter for the
batch being trained on and the piece being turned into tensors; a quarter left
for what the allocator keeps of memory freed (tests/test_stream_memory.py
measures it). The network, its gradients and the optimizer are
outside it (bounded by --max-params).
"""

from __future__ import annotations

from spec_lang import codes
from spec_lang.errors import Diagnostic, Label, SpecError

from .bind_all import Collected
from .limits import Limits, human_bytes
from .model import CheckedSpec, Program

DEFAULT_BUFFER = 100_000  # rows shuffled together when `shuffle` names no buffer
BUFFER_SHARE = 12  # the buffer's rows take a twelfth of the budget: held three times over, a quarter
VALUE_BYTES = 4  # float32 (or int64 ids, counted as float32 while buffered: read as float64, kept as float32)


def row_bytes(table: object) -> int:
    """The bytes one buffered row holds: its inputs and targets as float32."""
    width: int = table.input_width + table.target_width  # type: ignore[attr-defined]  # a table
    return width * VALUE_BYTES


def shuffle_rows(stated: int | None, table: object, budget: int) -> int:
    """The rows shuffled together: as stated, else 100,000 or what a twelfth of the budget holds."""
    return stated or max(1, min(DEFAULT_BUFFER, budget // BUFFER_SHARE // row_bytes(table)))


def check_stream(found: Collected, table: object | None, spec: CheckedSpec, limits: Limits,
                 sweep: bool = False) -> list[Diagnostic]:
    shuffle = found.one("shuffle")
    if table is None or not getattr(table, "streamed", False):
        if shuffle is not None and spec.shuffle_buffer is not None:
            return [Diagnostic("`shuffle buffer=` has no effect: the training rows are read whole and shuffled all "
                               "together", shuffle.span_of("buffer"), "read whole",
                               hint="leave `buffer=` out; it applies when a data file is streamed (larger than "
                                    "--memory-budget or --max-data-bytes)", severity="warning",
                               code=codes.BUFFER_UNUSED)]
        return []
    data = found.one("data")
    assert data is not None  # a streamed table is read from a `data` statement
    where = Label(data.span_of("path"), f"streamed: {table.rows:,} rows")  # type: ignore[attr-defined]
    if sweep:
        return [Diagnostic("a sweep cannot train on a streamed data file", data.span_of("path"), "streamed",
                           hint="write one spec per combination, or raise --memory-budget to read the file whole",
                           code=codes.STREAM_UNSUPPORTED)]
    examples = found.all("example")
    if examples:
        return [Diagnostic("`example` rows cannot be trained on with a streamed data file",
                           examples[0].statement.span, "an example", (where,),
                           hint="add the example rows to the data file", code=codes.STREAM_UNSUPPORTED)]
    if spec.batch is None:
        return [Diagnostic(f"`{table.path}` is streamed, so it is trained on in batches, but no `batch` size is "  # type: ignore[attr-defined]
                           "given", data.span_of("path"), "streamed",
                           hint="add a batch size, e.g. `batch 256`", code=codes.STREAM_NEEDS_BATCH)]
    each = row_bytes(table)
    batch, share = spec.batch * each, limits.memory_budget // 4
    if batch > share:
        return [Diagnostic(f"a batch of {spec.batch:,} rows holds {human_bytes(batch)}, more than the quarter of "
                           f"the memory budget ({human_bytes(limits.memory_budget)}) that a streamed batch may take",
                           found.one("batch").statement.span, "too large to stream",  # type: ignore[union-attr]
                           (where,), hint="use a smaller batch, or raise --memory-budget", code=codes.BUDGET_TOO_SMALL)]
    buffer = shuffle_rows(spec.shuffle_buffer, table, limits.memory_budget)
    most = limits.memory_budget // BUFFER_SHARE // each
    if spec.shuffle_buffer is not None and buffer > most:
        assert shuffle is not None  # it states the buffer
        return [Diagnostic(f"a shuffle buffer of {buffer:,} rows holds {human_bytes(buffer * each)}, more than "
                           f"a twelfth of the memory budget ({human_bytes(limits.memory_budget)}): while it is "
                           "shuffled, it is held three times over", shuffle.span_of("buffer"), "too large", (where,),
                           hint=f"use at most {most:,} rows, or raise --memory-budget",
                           code=codes.BUDGET_TOO_SMALL)]
    return []


def refuse_streamed(program: Program, what: str, hint: str) -> None:
    """Raise a located error when `program` trains on a streamed data file, which `what` cannot use."""
    table = program.table
    if table is None or not table.streamed:
        return
    raise SpecError(Diagnostic(f"{what} cannot use `{table.path}`, which is streamed: it is larger than "
                               "--memory-budget or --max-data-bytes", program.data_span, "streamed", hint=hint,
                               code=codes.STREAM_UNSUPPORTED), program.source, program.filename)
