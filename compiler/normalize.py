"""Normalised inputs: the `normalize` statement, and what checking says about it.

In: `normalize`, `normalize standard` or `normalize minmax` (a statement), or
`normalize=standard|minmax` on `data`; the bound statements. Out: the `Normalize`
statement model, `method_of(found)` (the method the spec asks for, or None), and
`check_normalize(...)`: an error, placed at the statement or the option, when
both ask for it, when there are no training rows to take statistics from (no
`data`, no `example`), or when the first layer takes token ids. The statistics
themselves are taken when the run holds its rows (`runtime.normalize`), with the
arithmetic of `compiler.modules`. Never imports torch.
"""

from __future__ import annotations

from pydantic import Field

from spec_lang import codes
from spec_lang.errors import Diagnostic, Label

from .bind_all import Collected
from .data_ids import ids_of
from .registry import register
from .settings import Data, Method
from .shapes import leaf_bounds
from .statement import Bound, StatementModel


@register
class Normalize(StatementModel):
    """`normalize` (standard: mean 0, standard deviation 1), or `normalize minmax` (each input to [0, 1])."""

    method: Method = Field("standard", title="normalisation",
                           description="`standard` (mean 0, standard deviation 1) or `minmax` (each input to 0..1)")
    keyword = "normalize"
    flags = {"standard": ("method", "standard"), "minmax": ("method", "minmax")}
    aliases = ("normalise", "standardize", "standardise", "standard_scaler", "min_max_scaler", "scale_inputs")
    example = "normalize minmax"
    hints = {"method": "`normalize` (mean 0, standard deviation 1) or `normalize minmax` (each input to 0..1)"}


def method_of(found: Collected) -> Method | None:
    """The method the spec asks for: the statement's, else `data`'s `normalize=`, else None."""
    stated, data = found.one("normalize"), found.one("data")
    if stated is not None:
        assert isinstance(stated.model, Normalize)
        return stated.model.method
    if data is not None:
        assert isinstance(data.model, Data)
        return data.model.normalize
    return None


def _asking(found: Collected) -> tuple[Bound, str] | None:
    """Where normalising is asked for: the statement (its whole), or `data`'s option; None when it is not."""
    stated, data = found.one("normalize"), found.one("data")
    if stated is not None:
        return stated, "statement"
    if data is not None and isinstance(data.model, Data) and data.model.normalize is not None:
        return data, "normalize"
    return None


def check_normalize(found: Collected) -> list[Diagnostic]:
    """Asked for twice, with nothing to take statistics from, or on token ids: each an error at its place."""
    asked = _asking(found)
    if asked is None:
        return []
    bound, field = asked
    span = bound.statement.span if field == "statement" else bound.span_of(field)
    data = found.one("data")
    problems = []
    if field == "statement" and data is not None and isinstance(data.model, Data) and data.model.normalize:
        problems.append(Diagnostic(
            "inputs are normalised twice: by `normalize` and by `data`'s `normalize=`", span, "asked here",
            (Label(data.span_of("normalize"), "and here"),),
            hint="keep one of them: the statement, or the option on `data`", code=codes.NORMALIZE_TWICE))
    failed = found.failed & {"data", "example"}  # a statement written wrong may be the rows: it says so itself
    if data is None and not found.all("example") and not failed:
        problems.append(Diagnostic(
            "`normalize` has no training rows to take its statistics from", span, "nothing to normalise by",
            hint="add a `data` file or `example` rows: each input's statistics come from the training rows",
            code=codes.NORMALIZE_NO_ROWS))
    ids = ids_of(found.layers)
    if ids is not None:
        first = next(leaf_bounds(found.layers))
        problems.append(Diagnostic(
            f"`normalize` cannot scale token ids: the first layer, `{ids.statement}`, takes whole-number ids",
            span, "scales the inputs", (Label(first.statement.span, ids.span_label),),
            hint="leave out `normalize`: an `embedding` learns the scale of each id itself", code=codes.NORMALIZE_IDS))
    return problems
