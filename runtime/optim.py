"""The torch optimizer and loss a checked spec names.

In: the spec's optimizer and loss models and the network's parameters.
Out: a `torch.optim.Optimizer` and an `nn.Module` loss, built with exactly the
arguments the spec gives (so a spec's `optimizer sgd lr=0.1 momentum=0.9`
equals the tutorial's `SGD(net.parameters(), lr=0.1, momentum=0.9)`).
"""

from __future__ import annotations

import inspect
from typing import Any, Iterable

import torch
from torch import nn


def build_optimizer(settings, parameters: Iterable[torch.nn.Parameter]) -> torch.optim.Optimizer:
    return getattr(torch.optim, settings.torch_name)(parameters, **settings.torch_kwargs())


def build_loss(settings) -> nn.Module:
    return getattr(nn, settings.torch_name)(**settings.torch_kwargs())


def group_settings(optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    """The first param group, as the tutorial prints it, without the parameter tensors."""
    group = optimizer.param_groups[0]
    return {key: _plain(value) for key, value in group.items() if key != "params"}


def declared_settings(settings) -> dict[str, Any]:
    """The param group a torch optimizer would hold, read from its signature, without
    building one: the first optimizer built in a process imports `torch._dynamo`,
    which takes over a second. The keys come in the signature's order, which for
    SGD is the order of its param group."""
    cls = getattr(torch.optim, settings.torch_name)
    group = {name: p.default for name, p in inspect.signature(cls.__init__).parameters.items()
             if name not in ("self", "params") and p.default is not inspect.Parameter.empty}
    group.update(settings.torch_kwargs())
    return {key: _plain(value) for key, value in group.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, torch.Tensor):
        return value.tolist()
    return value
