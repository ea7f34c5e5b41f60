"""`nqa run SPEC --nproc N`: N worker processes on this machine, started by torch.distributed.run.

In: the parsed command line (its words kept in `args.words`) and limits. Out: `launched(args,
limits)`: outside a torch.distributed world, for `--nproc N` above 1, the options checked and the
spec checked before any worker starts (the options, outputs, --load and --resume as one run
checks them, with its own functions; N from 1 to 4 x the CPUs; not with --runs or a sweep; a
`batch` that N divides; no `batch_norm`), then the same command line run as `python -m runtime`
by N workers through torch.distributed.run's own launcher (its standalone rendezvous on a free
port, or MASTER_PORT when set), and the exit code: a failed worker is named with its error
(E0928), never with a traceback, a mistake (exit 2) shown once, in its own words; None when this
process trains by itself. `as_worker(command, args)`: inside a world, rank 0 prints and writes as
a single run does (its errors too), every other rank is silent and writes nothing; each worker
that fails leaves its error for the launcher.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path

from spec_lang import codes, usage_error, visible

from .distributed import World, _number, rank, timeout_seconds, world_size
from .orphan import LAUNCHER

PER_CPU = 4  # --nproc up to this many processes per CPU of the machine


def limit() -> int:
    return PER_CPU * (os.cpu_count() or 1)


def check_nproc(args) -> None:
    """--nproc's value and the options it cannot go with, before anything is read or started."""
    n = args.nproc
    if ((n or 1) > 1 or world_size() > 1) and (getattr(args, "precision", None) not in (None, "fp32")
                                               or getattr(args, "compile", False)):
        raise usage_error("--precision and --compile cannot be used with several processes yet",
                          "train in one process with them, or on several without them", code=codes.NPROC_CONFLICT)
    if n is None:
        return
    if n < 1:
        raise usage_error(f"--nproc {n} is out of range: a run needs at least 1 process",
                          "e.g. --nproc 2, or leave it out for one process", code=codes.NPROC_OUT_OF_RANGE)
    if n > limit():
        raise usage_error(f"--nproc {n} is over the limit of {limit()} processes on this machine "
                          f"({PER_CPU} per CPU, {os.cpu_count() or 1} CPUs)",
                          "use fewer; for more processes, start them on several machines with torchrun",
                          code=codes.NPROC_OUT_OF_RANGE)
    if n > 1 and args.runs is not None:
        raise usage_error("--nproc cannot be used with --runs", "train the seeds of --runs in one process, "
                          "or one seed with --nproc", code=codes.NPROC_CONFLICT)
    inside = world_size()
    if inside > 1 and n != _number("LOCAL_WORLD_SIZE", inside):
        raise usage_error(f"--nproc {n} is given inside a torchrun world of {inside} processes",
                          "leave out --nproc when starting the workers with torchrun", code=codes.NPROC_CONFLICT)


def launched(args, limits) -> int | None:
    """The exit code of a run of `--nproc N` workers; None when this process trains by itself."""
    check_nproc(args)
    if world_size() > 1 or args.nproc is None or args.nproc == 1:
        return None
    timeout_seconds()  # refused here, once, rather than by every worker
    _check_spec(args, limits)
    port = _free_port()
    return _launch(args, port)


def _check_spec(args, limits) -> None:
    """The spec refused here, once, rather than by every worker: a sweep, a batch that N does not divide."""
    from compiler import check

    from .distributed import check_spec

    program = check(Path(args.spec), filename=args.spec, limits=limits, require_data=False,
                    allow_outside=args.allow_outside_data)  # the data is read by the workers
    _gpus_enough(args, program)
    if program.sweep is not None:
        raise usage_error("--nproc cannot be used with a sweep (a spec with `choice(...)`)",
                          "train the sweep in one process, or write the chosen values and use --nproc",
                          code=codes.NPROC_CONFLICT)
    check_spec(program.spec, World(0, args.nproc, 0), single_example=False)
    from .commands import refused_before_launch

    refused_before_launch(args, program)


def _gpus_enough(args, program) -> None:
    """nccl puts each worker on a GPU of its own: --device cuda needs as many GPUs as processes."""
    import torch

    from .training import _device

    if args.device != "cuda":
        return
    _device("cuda", program)  # refused as in one process when there is no GPU at all
    gpus = torch.cuda.device_count()
    if args.nproc > gpus:
        raise usage_error(f"--nproc {args.nproc} with --device cuda needs a GPU for each process; "
                          f"this machine has {gpus}", f"use --nproc {gpus} or fewer, or train on the CPU",
                          code=codes.NPROC_CONFLICT)


def _free_port() -> int | None:
    """MASTER_PORT when it is set (refused at once if another program holds it); else None: any free port."""
    text = os.environ.get("MASTER_PORT")
    if not text:
        return None
    port = int(text) if text.isdigit() else -1
    if not 0 < port < 65536:
        raise usage_error(f"MASTER_PORT `{visible(text)}` is not a port number", "set it from 1 to 65535, or unset it",
                          code=codes.RENDEZVOUS_FAILED)
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as err:
            raise usage_error(f"the worker processes cannot meet on port {port} (MASTER_PORT): "
                              f"{err.strerror or err}", "set MASTER_PORT to a free port, or unset it to use any "
                              "free port", code=codes.RENDEZVOUS_FAILED) from None
    return port


def _launch(args, port: int | None) -> int:
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import get_args_parser, run

    where = ["--rdzv-backend", "c10d", "--rdzv-endpoint", f"127.0.0.1:{port}"] if port else ["--standalone"]
    launcher = get_args_parser().parse_args([*where, "--nnodes", "1", "--nproc-per-node", str(args.nproc),
                                             "--max-restarts", "0", "--monitor-interval", "0.1",
                                             "-m", "runtime"])
    launcher.training_script_args = _worker_words(args)  # not parsed by torchrun's options: set as they are
    before = dict(os.environ)  # torchrun sets OMP_NUM_THREADS=1 and more here: a later run would inherit them
    _same_code_in_workers()
    os.environ[LAUNCHER] = str(os.getpid())  # each worker dies with this process (runtime/orphan.py)
    for name in list(logging.root.manager.loggerDict):  # the launcher's own log lines: its failures are told below
        if name.startswith(("torch.distributed.elastic", "torch.distributed.run", "torch.distributed.launcher")):
            logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        run(launcher)
    except ChildFailedError as failed:
        return _told(failed, args.nproc)
    except SignalException as stop:  # Ctrl-C or SIGTERM: the workers were stopped with it
        import signal

        print(f"nqa: {'terminated' if stop.sigval == signal.SIGTERM else 'interrupted'}", file=sys.stderr)
        return 128 + int(stop.sigval)
    finally:
        os.environ.clear()
        os.environ.update(before)
    return 0


def _worker_words(args) -> list[str]:
    """The command line as `python -m runtime` takes it: `nqa run`'s words after `run`."""
    words = list(args.words)
    return words[1:] if words and words[0] == "run" and getattr(args, "nqa_command", False) else words


def _same_code_in_workers() -> None:
    """The workers import this copy of nqa, wherever it was imported from."""
    here = str(Path(__file__).resolve().parent.parent)
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if here not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([here, *paths])


def _told(failed, nproc: int) -> int:
    """The failed worker that caused the others to stop, named with its error; the exit code."""
    failures = sorted(failed.failures.items(), key=lambda item: (_secondary(item[1]), item[1].timestamp))
    mistakes = [(worker, failure) for worker, failure in failures if _kind(failure) == "usage"]
    if mistakes:  # a mistake, not a failure: said once, by rank 0 itself when it got to say it
        worker, cause = min(mistakes, key=lambda item: item[0])
        if worker != 0:
            sys.stderr.write(_text(cause))
        return 2  # as a single run's mistake, even when the launcher stopped the worker after it was said
    worker, cause = failures[0]
    if cause.exitcode < 0:
        what = f"was killed by {cause.signal_name()}"
    else:
        what = f"failed (exit code {cause.exitcode})"
        text = cause.error_file_data.get("nqa", {}).get("text", "") if isinstance(cause.error_file_data, dict) else ""
        if text:
            what += f": {visible(text.strip())}"
    print(f"error[{codes.WORKER_FAILED}]: worker rank {worker} of {nproc} {what}; "
          "the run was stopped (its last checkpoint, if any, is kept)", file=sys.stderr)
    return cause.exitcode if cause.exitcode > 0 else 1


def _text(failure) -> str:
    data = failure.error_file_data
    return data.get("nqa", {}).get("said", "") if isinstance(data, dict) else ""


def _kind(failure) -> str:
    data = failure.error_file_data
    return data.get("nqa", {}).get("kind", "") if isinstance(data, dict) else ""


def _secondary(failure) -> int:
    """0 for a cause; 1 for a worker that lost its peers; 2 for one the launcher stopped (SIGTERM) after another
    failed: those failed because another did."""
    import signal

    if _kind(failure) == "stopped" or failure.exitcode == -signal.SIGTERM:
        return 2
    return 1 if _kind(failure) == "lost-peer" else 0


class _Tail(io.TextIOBase):
    """Standard error passed on (rank 0) or dropped (the others), its last lines kept for the launcher."""

    def __init__(self, through) -> None:
        super().__init__()
        self.through, self.kept = through, ""

    def write(self, text: str) -> int:
        self.kept = (self.kept + text)[-4000:]
        if self.through is not None:
            self.through.write(text)
        return len(text)

    def flush(self) -> None:
        if self.through is not None:
            self.through.flush()

    def isatty(self) -> bool:
        return self.through is not None and self.through.isatty()


def as_worker(command: Callable[[], tuple[int, str]], args) -> int:
    """Run `command` (the whole command, its errors printed included) as one worker of a world: only rank 0
    prints and writes; a failure is left for the launcher. The exit code."""
    silent = rank() != 0
    tail = _Tail(None if silent else sys.stderr)
    saved = sys.stdout, sys.stderr
    sys.stderr = tail
    if silent:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115  # closed below
        args.no_log = True
    try:
        code, kind = command()
    finally:
        if silent:
            sys.stdout.close()
        sys.stdout, sys.stderr = saved
    _leave_error(code, kind, tail.kept)
    return code


def _leave_error(code: int, kind: str, text: str) -> None:
    """The worker's error, where torch.distributed.run reads it (TORCHELASTIC_ERROR_FILE)."""
    path = os.environ.get("TORCHELASTIC_ERROR_FILE")
    if code == 0 or not path:
        return
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith(" ")]
    first = next((line for line in lines if "error" in line.lower()), lines[-1] if lines else "")
    message = first or f"exit code {code}"  # in torch's own layout: torchrun shows it as the worker's "traceback"
    record = {"message": {"message": message, "extraInfo": {"py_callstack": message,
                                                            "timestamp": str(int(time.time()))}},
              "nqa": {"kind": kind, "text": first, "said": text if kind == "usage" else ""}}
    with contextlib.suppress(OSError):
        Path(path).write_text(json.dumps(record), encoding="utf-8")
