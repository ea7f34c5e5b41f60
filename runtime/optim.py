"""The torch optimizer and loss a checked spec names.

In: the spec's optimizer and loss models and the network's parameters.
Out: a `torch.optim.Optimizer` and an `nn.Module` loss, built with exactly the
arguments the spec gives (so a spec's `optimizer sgd lr=0.1 momentum=0.9`
equals the tutorial's `SGD(net.parameters(), lr=0.1, momentum=0.9)`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

if TYPE_CHECKING:
    from compiler.losses import Loss
    from compiler.optimizers import Optimizer


def build_optimizer(settings: Optimizer, parameters: Iterable[torch.Tensor]) -> torch.optim.Optimizer:
    optimizer: torch.optim.Optimizer = getattr(torch.optim, settings.torch_name)(parameters, **settings.torch_kwargs())
    return optimizer


def build_loss(settings: Loss) -> nn.Module:
    loss: nn.Module = getattr(nn, settings.torch_name)(**settings.torch_kwargs())
    return loss


def group_settings(optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    """The first param group, as the tutorial prints it, without the parameter tensors."""
    group = optimizer.param_groups[0]
    return {key: _plain(value) for key, value in group.items() if key != "params"}


def declared_settings(settings: Optimizer) -> dict[str, Any]:
    """The param group torch's optimizer would hold, without the parameters, read
    without building a working optimizer: the first one built in a process
    imports `torch._dynamo` (over a second), through `add_param_group`. A
    subclass that keeps `add_param_group` from running is built instead, on a
    stand-in parameter; its `defaults` are the group's settings, in the group's
    order, as the installed torch makes them."""
    probe = _probe(settings.torch_name)([torch.zeros(1)], **settings.torch_kwargs())
    return {key: _plain(value) for key, value in probe.defaults.items()}


@functools.cache
def _probe(name: str) -> type:
    return type(f"_{name}Settings", (getattr(torch.optim, name),), {"add_param_group": lambda self, group: None})


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, torch.Tensor):
        return value.tolist()
    return value
