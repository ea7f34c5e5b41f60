"""Optimizer updates written out for the CPU, bit-identical to `torch.optim`'s.

In: a spec's optimizer settings (`optimizer sgd|adam|adamw|rmsprop ...`) and
the network's parameters. Out: `lean_step(settings, params)`, a `step()` that
updates the parameters from their gradients, or None where there is none
written out (parameters off the CPU): the caller then builds torch's optimizer.

Why: the first torch optimizer built in a process imports `torch._dynamo`,
which takes over a second, longer than most runs here. On the CPU torch runs
SGD, Adam, AdamW and RMSprop through their single-tensor paths; each update
below repeats that path's operations in the same order with the same scalars
(SGD's through `_foreach` ops, which run the same per-tensor kernels on the
CPU). tests/test_lean_optim.py compares every step with torch's, bit for bit.
A parameter without a gradient is skipped and its step count kept, as torch does.
Each `step` carries its state as `step.lean_state`: lists by name (one entry a
parameter: a buffer tensor, None before the first step, or a step count), which
the step changes in place, so that a checkpoint (`resume_state`) can copy and
put them back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from compiler.optimizers import SGD, Adam, AdamW, Optimizer, RMSprop

Step = Callable[[], None]
_FLOAT32_EXACT = 2 ** 24  # torch counts steps in a float32 tensor: past this, +1 changes nothing


def written_out(settings: Optimizer, params: list[torch.Tensor]) -> bool:
    """Whether `lean_step` has an update for these settings and parameters."""
    return settings.kind in _BUILDERS and all(p.device.type == "cpu" for p in params)


def lean_step(settings: Optimizer, params: list[torch.Tensor]) -> Step | None:
    return _BUILDERS[settings.kind](settings, params) if written_out(settings, params) else None


def _keeping(update: Step, /, **state: list) -> Step:
    """`update` with the lists it changes in place as `update.lean_state`."""
    update.lean_state = state  # type: ignore[attr-defined]
    return update


def _sgd(settings: SGD, params: list[torch.Tensor]) -> Step:
    lr, momentum, dampening = settings.lr, settings.momentum, settings.dampening
    weight_decay, nesterov = settings.weight_decay, settings.nesterov
    buffers: list[torch.Tensor | None] = [None] * len(params)

    # past its first test, `step` finds no gradient None, and the buffers all None (before the
    # first step) or none: mypy cannot see it, hence the ignores
    @torch.no_grad()
    def step() -> None:
        grads: list[torch.Tensor] | tuple[torch.Tensor, ...] = [p.grad for p in params]  # type: ignore[misc]
        if any(g is None for g in grads) or (momentum != 0 and len({b is None for b in buffers}) > 1):
            one_by_one()
            return
        if weight_decay != 0:
            grads = torch._foreach_add(grads, params, alpha=weight_decay)
        if momentum != 0:
            if buffers and buffers[0] is None:
                buffers[:] = [g.detach().clone() for g in grads]
            else:
                torch._foreach_mul_(buffers, momentum)  # type: ignore[arg-type]
                torch._foreach_add_(buffers, grads, alpha=1 - dampening)  # type: ignore[arg-type]
            grads = torch._foreach_add(grads, buffers, alpha=momentum) if nesterov else buffers  # type: ignore[arg-type, assignment]
        torch._foreach_add_(params, grads, alpha=-lr)

    def one_by_one() -> None:
        """torch's `_single_tensor_sgd`, for steps where some parameter has no gradient."""
        for i, param, grad in _with_gradients(params):
            if weight_decay != 0:
                grad = grad.add(param, alpha=weight_decay)
            if momentum != 0:
                buf = buffers[i]
                if buf is None:
                    buf = buffers[i] = torch.clone(grad).detach()
                else:
                    buf.mul_(momentum).add_(grad, alpha=1 - dampening)
                grad = grad.add(buf, alpha=momentum) if nesterov else buf
            param.add_(grad, alpha=-lr)

    return _keeping(step, momentum_buffer=buffers)


def _adam(settings: Adam | AdamW, params: list[torch.Tensor]) -> Step:
    """torch.optim.Adam's `_single_tensor_adam`; AdamW is the same with the weight decay decoupled."""
    lr, beta1, beta2, eps = settings.lr, settings.beta1, settings.beta2, settings.eps
    weight_decay, amsgrad, decoupled = settings.weight_decay, settings.amsgrad, settings.kind == "adamw"
    counts = [0] * len(params)
    exp_avgs = _zeros(params)
    exp_avg_sqs = _zeros(params)
    max_sqs = _zeros(params) if amsgrad else []

    @torch.no_grad()
    def step() -> None:
        for i, param, grad in _with_gradients(params):
            counts[i] = _counted(counts[i])
            if weight_decay != 0:
                if decoupled:
                    param.mul_(1 - lr * weight_decay)
                else:
                    grad = grad.add(param, alpha=weight_decay)
            exp_avg, exp_avg_sq = exp_avgs[i], exp_avg_sqs[i]
            exp_avg.lerp_(grad, 1 - beta1)
            exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            n = float(counts[i])
            step_size = lr / (1 - beta1 ** n)
            bias_correction2_sqrt = (1 - beta2 ** n) ** 0.5
            if amsgrad:
                torch.maximum(max_sqs[i], exp_avg_sq, out=max_sqs[i])
                denom = (max_sqs[i].sqrt() / bias_correction2_sqrt).add_(eps)
            else:
                denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
            param.addcdiv_(exp_avg, denom, value=-step_size)

    return _keeping(step, step=counts, exp_avg=exp_avgs, exp_avg_sq=exp_avg_sqs, max_exp_avg_sq=max_sqs)


def _rmsprop(settings: RMSprop, params: list[torch.Tensor]) -> Step:
    """torch.optim.RMSprop's `_single_tensor_rmsprop`."""
    lr, alpha, eps = settings.lr, settings.alpha, settings.eps
    weight_decay, momentum, centered = settings.weight_decay, settings.momentum, settings.centered
    square_avgs = _zeros(params)
    buffers = _zeros(params) if momentum > 0 else []
    grad_avgs = _zeros(params) if centered else []

    @torch.no_grad()
    def step() -> None:
        for i, param, grad in _with_gradients(params):
            if weight_decay != 0:
                grad = grad.add(param, alpha=weight_decay)
            square_avg = square_avgs[i]
            square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
            if centered:
                grad_avg = grad_avgs[i]
                grad_avg.lerp_(grad, 1 - alpha)
                avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
            else:
                avg = square_avg.sqrt()
            avg = avg.add_(eps)
            if momentum > 0:
                buf = buffers[i]
                buf.mul_(momentum).addcdiv_(grad, avg)
                param.add_(buf, alpha=-lr)
            else:
                param.addcdiv_(grad, avg, value=-lr)

    return _keeping(step, square_avg=square_avgs, momentum_buffer=buffers, grad_avg=grad_avgs)


# by the settings' `kind`, which picks the settings' class
_BUILDERS: dict[str, Callable[[Any, list[torch.Tensor]], Step]] = {
    "sgd": _sgd, "adam": _adam, "adamw": _adam, "rmsprop": _rmsprop}


def _with_gradients(params: list[torch.Tensor]) -> Iterator[tuple[int, torch.Tensor, torch.Tensor]]:
    """(position, parameter, gradient) for each parameter that has a gradient: torch skips the others."""
    return ((i, p, p.grad) for i, p in enumerate(params) if p.grad is not None)


def _zeros(params: list[torch.Tensor]) -> list[torch.Tensor]:
    """A state buffer per parameter, as torch's optimizers make them."""
    return [torch.zeros_like(p, memory_format=torch.preserve_format) for p in params]


def _counted(count: int) -> int:
    return count + 1 if count < _FLOAT32_EXACT else count
