"""`stop patience=10` and `clip 1.0` / `clip value=0.5`: when training ends, and how large a step may be.

In: the statements' arguments. Out: frozen models. `Stop` says what it watches
(`watched(held_out)`: the held-out loss with `validate`, else the training
loss) and when an epoch's loss counts as better (`improves`); `Clip` names the
torch function that clips the gradients between `backward` and `step`
(`torch.nn.utils.clip_grad_norm_` or `clip_grad_value_`) and its argument;
that it has exactly one of them is checked with the rest of the spec
(`control_checks`), where both places can be shown. No torch here.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field

from .registry import register
from .statement import StatementModel

Watched = Literal["held_out", "training"]


@register
class Stop(StatementModel):
    """`stop patience=10`: early stopping: end the run when the loss stops improving."""

    patience: int = Field(ge=1, title="`patience`",
                          description="epochs without improvement before stopping")
    min_delta: float = Field(0.0, ge=0, title="`min_delta`",
                             description="how much lower than the best a loss must be to count as better")
    restore: bool = Field(True, title="`restore`",
                          description="end with the best epoch's weights (`no`: the last epoch's)")
    watch: Watched | None = Field(None, title="`watch`",
                                  description="the loss watched: `held_out` (with `validate`) or `training`")

    keyword = "stop"
    sweepable = frozenset({"patience", "min_delta"})
    positional = ("patience",)
    example = "stop patience=10"
    aliases = ("early_stopping", "earlystopping", "early_stop")
    hints = {"patience": "the epochs to wait for the loss to improve before stopping, at least 1, e.g. `patience=10`",
             "min_delta": "how much lower than the best so far a loss must be to count as better, at least 0, "
                          "e.g. `min_delta=0.001`",
             "restore": "write `restore=yes` (the default: end with the best epoch's weights) or `restore=no`"}
    missing = {"patience": ("`stop` needs to know how long to wait: `patience=`, the epochs without improvement",
                            "e.g. `stop patience=10`")}

    def watched(self, held_out: bool) -> Watched:
        """What this stop watches: its `watch=`, else the held-out loss when rows are held out."""
        return self.watch or ("held_out" if held_out else "training")

    def improves(self, loss: float, best: float) -> bool:
        """Whether an epoch's loss is better than the best so far: lower by more than `min_delta`."""
        return math.isfinite(loss) and loss < best - self.min_delta


@register
class Clip(StatementModel):
    """`clip 1.0` (the gradients' norm) or `clip value=0.5`: clip the gradients between backward and each step."""

    norm: float | None = Field(None, gt=0, title="gradient norm",
                               description="the largest L2 norm of all the gradients together")
    value: float | None = Field(None, gt=0, title="`value`",
                                description="the largest absolute value of each gradient")

    keyword = "clip"
    sweepable = None  # a sweep may vary the norm or the value
    positional = ("norm",)
    example = "clip 1.0"
    aliases = ("clipnorm", "clip_grad_norm", "clipvalue", "clip_grad_value", "gradient_clipping")
    hints = {"norm": "the largest norm the gradients may have together, above 0, e.g. `clip 1.0`",
             "value": "the largest size any one gradient value may have, above 0, e.g. `clip value=0.5`"}

    @property
    def torch_function(self) -> str:
        """The function of `torch.nn.utils` that clips, and its argument as torch names it."""
        return "clip_grad_norm_" if self.norm is not None else "clip_grad_value_"

    @property
    def torch_kwargs(self) -> dict[str, float]:
        return {"max_norm": self.norm} if self.norm is not None else {"clip_value": self.value or 0.0}
