"""Optimizer updates with numbers of their own for each member trained at once.

In: each member's optimizer settings (all of one kind, with the same words, such
as `nesterov`; their numbers may differ: `lr`, `momentum`, ...) and the stacked
parameters, members on dim 0. Out: `member_step(settings, params)`, a `step()`
updating every member with its own numbers, or None for a kind not written out
here (`PER_MEMBER` says which, and which of their settings may differ): a sweep
then trains members with the same settings together, apart from the others.

Each update is the single-tensor path of torch's optimizer, as `lean_optim`
writes it, with every scalar replaced by a column of the members' values that
broadcasts over their rows. A member's row follows its single run to float
rounding, not bit for bit: torch applies a scalar inside one fused kernel
(`add_(grad, alpha=-lr)`), where a column is multiplied first. A member whose
momentum is 0 keeps a buffer equal to its gradient, which changes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import torch

from .lean_optim import Step, _counted, _zeros

if TYPE_CHECKING:
    from compiler.optimizers import Optimizer

_ADAM = frozenset({"lr", "beta1", "beta2", "eps", "weight_decay"})
PER_MEMBER: dict[str, frozenset[str]] = {"sgd": frozenset({"lr", "momentum", "dampening", "weight_decay"}),
                                         "adam": _ADAM, "adamw": _ADAM}


def member_step(settings: Sequence[Optimizer], params: list[torch.Tensor]) -> Step | None:
    """The update with each member's own numbers; None where this kind has none written out here."""
    kind = settings[0].kind
    if kind not in PER_MEMBER or any(p.device.type != "cpu" for p in params):
        return None
    fixed = {key: value for key, value in settings[0].model_dump().items() if key not in PER_MEMBER[kind]}
    if any({key: value for key, value in s.model_dump().items() if key in fixed} != fixed for s in settings):
        raise ValueError("members trained at once must share the optimizer's kind and words")
    return _BUILDERS[kind](settings, params)


def _columns(values: Sequence[float], params: list[torch.Tensor]) -> list[torch.Tensor]:
    """The members' values as float32 (as torch takes a scalar), shaped to broadcast over each parameter."""
    column = torch.tensor(values, dtype=torch.float64).to(torch.float32)
    return [column.view(-1, *([1] * (p.dim() - 1))) for p in params]


def _sgd(settings: Sequence[Any], params: list[torch.Tensor]) -> Step:
    lrs = _columns([-s.lr for s in settings], params)
    momenta = _columns([s.momentum for s in settings], params)
    kept = _columns([1 - s.dampening for s in settings], params)
    decays = _columns([s.weight_decay for s in settings], params)
    momentum = any(s.momentum != 0 for s in settings)
    damped = any(s.dampening != 0 for s in settings)
    decayed = any(s.weight_decay != 0 for s in settings)
    nesterov = settings[0].nesterov
    buffers: list[torch.Tensor | None] = [None] * len(params)

    @torch.no_grad()
    def step() -> None:
        for i, param in enumerate(params):
            grad = param.grad
            if grad is None:
                continue
            if decayed:
                grad = grad.addcmul(param, decays[i])
            if momentum:
                buf = buffers[i]
                if buf is None:
                    buf = buffers[i] = grad.detach().clone()
                else:
                    buf.mul_(momenta[i])
                    if damped:
                        buf.addcmul_(grad, kept[i])
                    else:
                        buf.add_(grad)
                grad = grad.addcmul(buf, momenta[i]) if nesterov else buf
            param.addcmul_(grad, lrs[i])

    return step


def _adam(settings: Sequence[Any], params: list[torch.Tensor]) -> Step:
    """Adam's single-tensor path (`lean_optim._adam`); AdamW's with the weight decay decoupled."""
    lr = [s.lr for s in settings]
    beta1, beta2 = [s.beta1 for s in settings], [s.beta2 for s in settings]
    eps = _columns([s.eps for s in settings], params)
    decoupled, amsgrad = settings[0].kind == "adamw", settings[0].amsgrad
    decayed = any(s.weight_decay != 0 for s in settings)
    shrink = _columns([1 - s.lr * s.weight_decay for s in settings], params)
    decays = _columns([s.weight_decay for s in settings], params)
    keep1 = _columns([1 - b for b in beta1], params)
    keep2, betas2 = _columns([1 - b for b in beta2], params), _columns(beta2, params)
    counts = [0] * len(params)
    exp_avgs, exp_avg_sqs = _zeros(params), _zeros(params)
    max_sqs = _zeros(params) if amsgrad else []

    @torch.no_grad()
    def step() -> None:
        for i, param in enumerate(params):
            grad = param.grad
            if grad is None:
                continue
            counts[i] = _counted(counts[i])
            n = float(counts[i])
            if decayed:
                if decoupled:
                    param.mul_(shrink[i])
                else:
                    grad = grad.addcmul(param, decays[i])
            exp_avg, exp_avg_sq = exp_avgs[i], exp_avg_sqs[i]
            exp_avg.lerp_(grad, keep1[i])
            exp_avg_sq.mul_(betas2[i]).addcmul_(grad, grad * keep2[i])
            step_size = _columns([-rate / (1 - b ** n) for rate, b in zip(lr, beta1, strict=True)], [param])[0]
            root = _columns([math.sqrt(1 - b ** n) for b in beta2], [param])[0]
            if amsgrad:
                torch.maximum(max_sqs[i], exp_avg_sq, out=max_sqs[i])
                denom = (max_sqs[i].sqrt() / root).add_(eps[i])
            else:
                denom = (exp_avg_sq.sqrt() / root).add_(eps[i])
            param.addcdiv_(exp_avg * step_size, denom)

    return step


_BUILDERS: dict[str, Callable[[Sequence[Any], list[torch.Tensor]], Step]] = {"sgd": _sgd, "adam": _adam,
                                                                             "adamw": _adam}
