""""Did you mean …" for names a user mistyped.

In: a wrong name and the names that would be right. Out: the closest one, or None.
"""

from __future__ import annotations

import difflib
from typing import Iterable


def closest(name: str, candidates: Iterable[str]) -> str | None:
    pool = list(candidates)
    squashed = {c.replace("_", ""): c for c in pool}
    if name.replace("_", "").lower() in squashed:
        return squashed[name.replace("_", "").lower()]
    found = difflib.get_close_matches(name.lower(), pool, n=1, cutoff=0.6)
    return found[0] if found else None


def did_you_mean(name: str, candidates: Iterable[str], fmt: str = "`{}`") -> str:
    """A hint sentence: 'did you mean `linear`?', or '' when nothing is close."""
    best = closest(name, candidates)
    return f"did you mean {fmt.format(best)}?" if best else ""
