"""The training loop's hot path, without the per-step work a plain PyTorch loop
does but this one does not need.

In: the model, its loss module and its optimizer settings. Out: `forward(x)`
(each module's `forward` called directly: nqa registers no hooks, so the
result is the same as `model(x)`), `loss(output, target)` (for MSE, the kernel
`F.mse_loss` ends in), `clear()` (gradients set to None, as `zero_grad()`
does), and `step()`: for SGD, the update of `torch.optim.SGD` written out with
`_foreach` ops, which on the CPU run the same per-tensor kernels as its
single-tensor path (so results are bit-identical) in one call per operation;
for every other optimizer, its own `step`.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn


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


def lean_sgd(settings, params: list[torch.Tensor]) -> bool:
    """Whether `step_of` writes the update out (and no torch optimizer needs building)."""
    return settings.kind == "sgd" and all(p.device.type == "cpu" for p in params)


def step_of(settings, optimizer: torch.optim.Optimizer | None, params: list[torch.Tensor]) -> Callable[[], None]:
    if not lean_sgd(settings, params):
        return optimizer.step
    lr, momentum, dampening = settings.lr, settings.momentum, settings.dampening
    weight_decay, nesterov = settings.weight_decay, settings.nesterov
    buffers: list[torch.Tensor] = []

    @torch.no_grad()
    def step() -> None:
        # the `_foreach` ops run the same per-tensor kernels on the CPU, in one call each
        grads = [p.grad for p in params]
        if weight_decay != 0:
            grads = torch._foreach_add(grads, params, alpha=weight_decay)
        if momentum != 0:
            if not buffers:
                buffers.extend(g.detach().clone() for g in grads)
            else:
                torch._foreach_mul_(buffers, momentum)
                torch._foreach_add_(buffers, grads, alpha=1 - dampening)
            grads = torch._foreach_add(grads, buffers, alpha=momentum) if nesterov else buffers
        torch._foreach_add_(params, grads, alpha=-lr)

    return step


def loss_of(criterion: nn.Module) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """`MSELoss` called as `F.mse_loss` calls it once shapes agree (the runtime makes
    them agree); any other loss through its own `forward`."""
    if isinstance(criterion, nn.MSELoss) and criterion.reduction == "mean":
        mse = torch._C._nn.mse_loss

        def loss(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
            if output.shape != target.shape:
                return criterion.forward(output, target)
            return mse(output, target, 1)  # 1: the "mean" reduction

        return loss
    return criterion.forward
