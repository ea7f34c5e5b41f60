""""Did you mean …" for names a user mistyped, or wrote as another library does.

In: a wrong name and the names that would be right (or, for `known_as`, each
right name with the other names people give it). Out: the closest one, or None.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

from spec_lang.ast import Span
from spec_lang.errors import Fix


def squashed(name: str) -> str:
    """A name without case and underscores: `BatchNorm1d`, `batch_norm1d` -> `batchnorm1d`."""
    return name.replace("_", "").lower()


def known_as(name: str, aliases: Mapping[str, Iterable[str]]) -> str | None:
    """The right name whose aliases include `name` (ignoring case and underscores), or None."""
    wanted = squashed(name)
    return next((right for right, others in aliases.items() if any(squashed(o) == wanted for o in others)), None)


def closest(name: str, candidates: Iterable[str]) -> str | None:
    pool = list(candidates)
    squashed = {c.replace("_", ""): c for c in pool}
    if name.replace("_", "").lower() in squashed:
        return squashed[name.replace("_", "").lower()]
    found = difflib.get_close_matches(name.lower(), pool, n=1, cutoff=0.6)
    return found[0] if found else None


def equally_close(name: str, candidates: Iterable[str]) -> list[str]:
    """Every name as close to `name` as the closest one (`betaa`: `beta1` and `beta2`), or []."""
    pool = list(candidates)
    best = closest(name, pool)
    if best is None or squashed(name) == squashed(best):
        return [best] if best else []
    score = difflib.SequenceMatcher(None, name.lower(), best).ratio()
    return [c for c in pool if difflib.SequenceMatcher(None, name.lower(), c).ratio() == score]


def replacement(name: str, candidates: Iterable[str], span: Span) -> Fix | None:
    """The "did you mean" as an edit: `span`'s text becomes the closest name; None when nothing is
    close, or when two names are equally close (an editor would apply one of them unasked)."""
    found = equally_close(name, candidates)
    return Fix(span, found[0], f"write `{found[0]}`") if len(found) == 1 else None


def did_you_mean(name: str, candidates: Iterable[str], fmt: str = "`{}`") -> str:
    """A hint sentence: 'did you mean `linear`?' (or each equally close name), or '' when nothing is close."""
    found = equally_close(name, candidates)
    if not found:
        return ""
    return f"did you mean {' or '.join(fmt.format(each) for each in found)}?"
