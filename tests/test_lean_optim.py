"""The optimizer updates nqa writes out on the CPU (`runtime.lean_optim`) equal
torch.optim's, bit for bit, at every step; and a run with any of them never
builds a torch optimizer (the first one built imports torch._dynamo, over a second)."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from torch import nn

from compiler import check
from conftest import ROOT
from runtime.lean_optim import lean_step

SETTINGS = ["sgd lr=0.1", "sgd lr=0.1 momentum=0.9", "sgd nesterov lr=0.05 momentum=0.5 weight_decay=0.01",
            "sgd lr=0.1 momentum=0.9 dampening=0.3", "adam", "adam lr=0.05", "adam lr=0.02 weight_decay=0.1",
            "adam lr=0.03 amsgrad beta1=0.5 beta2=0.9 eps=1e-6", "adamw lr=0.05",
            "adamw lr=0.01 weight_decay=0.5 amsgrad",
            "rmsprop", "rmsprop lr=0.005 momentum=0.9", "rmsprop centered alpha=0.9 weight_decay=0.01",
            "rmsprop centered momentum=0.5 eps=1e-4"]


def network(seed: int) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))


@pytest.mark.parametrize("line", SETTINGS)
def test_each_step_equals_torch_optimizer(line):
    settings = check(f"linear 3->2\noptimizer {line}").spec.optimizer
    ours, theirs = network(7), network(7)
    step = lean_step(settings, list(ours.parameters()))
    assert step is not None
    optimizer = getattr(torch.optim, settings.torch_name)(theirs.parameters(), **settings.torch_kwargs())
    generator = torch.Generator().manual_seed(1)
    for n in range(60):
        inputs, targets = torch.randn(5, 3, generator=generator), torch.randn(5, 2, generator=generator)
        for net in (ours, theirs):
            for p in net.parameters():
                p.grad = None
            nn.functional.mse_loss(net(inputs), targets).backward()
        step()
        optimizer.step()
        for mine, torchs in zip(ours.parameters(), theirs.parameters(), strict=True):
            assert torch.equal(mine, torchs), f"step {n + 1} differs"


@pytest.mark.parametrize("line", ["adam lr=0.1", "sgd lr=0.1 momentum=0.9", "sgd nesterov lr=0.1 momentum=0.5",
                                  "rmsprop momentum=0.5"])
def test_a_parameter_without_a_gradient_is_skipped_as_torch_skips_it(line):
    settings = check(f"linear 3->2\noptimizer {line}").spec.optimizer
    ours, theirs = network(3), network(3)
    step = lean_step(settings, list(ours.parameters()))
    assert step is not None
    optimizer = getattr(torch.optim, settings.torch_name)(theirs.parameters(), **settings.torch_kwargs())
    for n in range(10):  # some gradients missing, then all present again
        for net in (ours, theirs):
            for p in net.parameters():
                p.grad = torch.full_like(p, 0.1 * n) if n >= 6 else None
            net[0].weight.grad = torch.full_like(net[0].weight, 0.5 + n)  # type: ignore[arg-type]  # a tensor
            if n % 2:
                net[2].bias.grad = torch.ones_like(net[2].bias)  # type: ignore[arg-type]  # a tensor
        step()
        optimizer.step()
        pairs = zip(ours.parameters(), theirs.parameters(), strict=True)
        assert all(torch.equal(a, b) for a, b in pairs), f"step {n + 1}"


def test_training_with_adam_never_imports_dynamo():
    program = ("import sys; from runtime import train; "
               "run = train('linear 2->1\\noptimizer adam lr=0.1\\nexample [1, 2] -> [3]\\nepochs 5'); "
               "print(run.report.optimizer.name, 'torch._dynamo' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["Adam", "False"]
