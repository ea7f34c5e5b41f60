"""Building a large syntax tree creates many small objects and no reference
cycles, so the cyclic garbage collector's passes are pure cost there: it is
paused while a spec is parsed or checked, and restored after.

In: nothing. Out: `paused_gc()`, a context manager (a small class rather than a
generator: it is entered for every spec parsed or checked)."""

from __future__ import annotations

import gc


class paused_gc:  # lower case: used like a function, `with paused_gc():`
    __slots__ = ("was_enabled",)

    def __enter__(self) -> None:
        self.was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self.was_enabled:
            gc.enable()
