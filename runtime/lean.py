"""The training loop's hot path, without the per-step work a plain PyTorch loop
does but this one does not need.

In: the model, its loss module and its optimizer settings. Out: `forward(x)`
(each module's `forward` called directly: nqa registers no hooks, so the
result is the same as `model(x)`), `loss(output, target)` (for MSE, the kernel
`F.mse_loss` ends in), `clear()` (gradients set to None, as `zero_grad()`
does), and `step()`: on the CPU, the optimizer's update written out
(`lean_optim`, bit-identical to torch's); elsewhere, the torch optimizer's own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import torch
from torch import nn

from .lean_optim import lean_step, written_out

if TYPE_CHECKING:
    from compiler.optimizers import Optimizer


def forward_of(model: nn.Sequential) -> Callable[[torch.Tensor], torch.Tensor]:
    forwards = [module.forward for module in model]

    def forward(x: torch.Tensor) -> torch.Tensor:
        for f in forwards:
            x = f(x)
        return x

    return forward


def clear_of(params: list[torch.Tensor]) -> Callable[[], None]:
    def clear() -> None:
        for p in params:
            p.grad = None

    return clear


def lean_optimizer(settings: Optimizer, params: list[torch.Tensor]) -> bool:
    """Whether `step_of` writes the update out (and no torch optimizer needs building)."""
    return written_out(settings, params)


def step_of(settings: Optimizer, optimizer: torch.optim.Optimizer | None,
            params: list[torch.Tensor]) -> Callable[[], None]:
    """The optimizer's own `step`, or the update written out (`lean_optim`) when there is no optimizer."""
    if optimizer is not None:
        return optimizer.step
    return lean_step(settings, params)  # type: ignore[return-value]  # None only where an optimizer is built


def loss_of(criterion: nn.Module) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """`MSELoss` called as `F.mse_loss` calls it once shapes agree (the runtime makes
    them agree); any other loss through its own `forward`."""
    if isinstance(criterion, nn.MSELoss) and criterion.reduction == "mean":
        mse = torch._C._nn.mse_loss

        def loss(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
            if output.shape != target.shape:
                return criterion.forward(output, target)
            return mse(output, target, 1)  # type: ignore[arg-type]  # 1: the "mean" reduction

        return loss
    return criterion.forward
