"""Weights drawn as an `init` scheme says, right after a layer's module is built.

In: a built module, the `torch.nn.init` function for its weights and that
function's arguments. Out: the same module, its weights (every parameter of two
or more dimensions) drawn in place, in the order of `module.parameters()`,
from torch's generator, and every bias (one dimension) set to 0. Like
`compiler.modules`, this file imports torch at its top and is imported only
when a network is built; `--emit python` copies `initialised` into the
program it writes, which therefore draws the same weights.
"""

from __future__ import annotations

import torch
from torch import nn


def initialised(module: nn.Module, weights: str, **options: object) -> nn.Module:
    """`module` with each weight drawn by `nn.init.<weights>(weight, **options)` and each bias 0."""
    with torch.no_grad():
        for parameter in module.parameters():
            if parameter.dim() > 1:
                getattr(nn.init, weights)(parameter, **options)
            else:
                nn.init.zeros_(parameter)
    return module
