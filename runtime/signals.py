"""SIGTERM handled as Ctrl-C is: a CI time-out or `kill` stops a run cleanly,
with its report so far written, instead of killing it mid-write.

In: nothing. Out: `terminate_as_interrupt()`, a context manager under which
SIGTERM raises `Terminated` (a `KeyboardInterrupt`, so every place that
finishes cleanly on Ctrl-C does so on SIGTERM too); `stop_word(exc)` and
`exit_code(exc)` tell the two apart: `interrupted`/130 and `terminated`/143.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C raises `KeyboardInterrupt`."""


def _raise(signum, frame) -> None:
    raise Terminated()


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def stop_word(stop: BaseException) -> str:
    return "terminated" if isinstance(stop, Terminated) else "interrupted"


def exit_code(stop: BaseException) -> int:
    return 128 + signal.SIGTERM if isinstance(stop, Terminated) else 130
