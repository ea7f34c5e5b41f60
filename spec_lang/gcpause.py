"""Building a large syntax tree creates many small objects and no reference
cycles, so the cyclic garbage collector's passes are pure cost there: it is
paused while a spec is parsed or checked, and restored after."""

from __future__ import annotations

import contextlib
import gc


@contextlib.contextmanager
def paused_gc():
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
