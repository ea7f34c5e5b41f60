"""Checked spec to torch module.

In: spec text, a `pathlib.Path`, a parsed `Spec`, a `Program` or a `CheckedSpec`.
Out: an `nn.Sequential` whose modules are built in spec order, with nothing else
drawing from torch's random generator in between — so after the same
`torch.manual_seed` its initial weights equal a hand-written model's.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from spec_lang import ast
from spec_lang.gcpause import paused_gc

from .check import check
from .limits import Limits
from .model import CheckedSpec, Program

if TYPE_CHECKING:
    from torch import nn


def as_program(spec: str | os.PathLike[str] | ast.Spec | Program | CheckedSpec, *,
               filename: str | None = None, limits: Limits | None = None,
               require_data: bool = False, allow_outside: bool = False) -> Program:
    """Any accepted spec form, checked."""
    if isinstance(spec, Program):
        if require_data and not spec.spec.examples and spec.table is None:
            return check(spec.source, filename=spec.filename, limits=limits, require_data=True)
        return spec
    if isinstance(spec, CheckedSpec):
        return Program(spec, "", filename or "<spec>", ())
    return check(spec, filename=filename, limits=limits, require_data=require_data,
                 allow_outside=allow_outside)


def compile_spec(spec: str | os.PathLike[str] | ast.Spec | Program | CheckedSpec, *,
                 filename: str | None = None, limits: Limits | None = None) -> nn.Sequential:
    """Build the network a spec describes (untrained; seed torch first for fixed weights)."""
    from torch import nn

    checked = as_program(spec, filename=filename, limits=limits).spec
    with paused_gc():  # torch modules make no reference cycles; see spec_lang.gcpause
        types = checked.types()
        return nn.Sequential(*[layer.build(t) for layer, t in zip(checked.layers, types, strict=False)])
