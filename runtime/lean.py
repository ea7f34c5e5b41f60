"""The training loop's hot path, without the per-step work a plain PyTorch loop
does but this one does not need.

In: the model, its loss module and its optimizer settings. Out: `forward(x)`
(each module's `forward` called directly: nqa registers no hooks, so the
result is the same as `model(x)`), `loss(output, target)`, `clear()` (gradients
set to None, as `zero_grad()` does), and `step()`: for SGD, the update of
`torch.optim.SGD`'s single-tensor path (the one it picks on the CPU) written
out, so that no per-step dispatch happens, with bit-identical results; for
every other optimizer, its own `step`.
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


def step_of(settings, optimizer: torch.optim.Optimizer, params: list[torch.Tensor]) -> Callable[[], None]:
    if settings.kind != "sgd" or any(p.device.type != "cpu" for p in params):
        return optimizer.step
    lr, momentum, dampening = settings.lr, settings.momentum, settings.dampening
    weight_decay, nesterov = settings.weight_decay, settings.nesterov
    buffers: list[torch.Tensor | None] = [None] * len(params)

    @torch.no_grad()
    def step() -> None:
        for i, param in enumerate(params):
            grad = param.grad
            if grad is None:
                continue
            if weight_decay != 0:
                grad = grad.add(param, alpha=weight_decay)
            if momentum != 0:
                buf = buffers[i]
                if buf is None:
                    buf = buffers[i] = grad.detach().clone()
                else:
                    buf.mul_(momentum).add_(grad, alpha=1 - dampening)
                grad = grad.add(buf, alpha=momentum) if nesterov else buf
            param.add_(grad, alpha=-lr)

    return step
