"""The tutorial's own training programs, as written (its prints go to a sink),
for benchmarks to measure nqa against in the same process.

In: a seed and a step count. Out: the seconds the training loop took (from
`net.train()` to the last `step()`), and the network, to compare results.
"""

from __future__ import annotations

import io
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Stage1(nn.Module):
    def __init__(self):
        super().__init__()
        self.first_layer = nn.Linear(1, 1, bias=False)

    def forward(self, x):
        return self.first_layer(x)


class Stage7(nn.Module):
    def __init__(self):
        super().__init__()
        self.first_layer = nn.Linear(2, 3, bias=True)
        self.second_layer = nn.Linear(3, 1, bias=True)

    def forward(self, x):
        return F.leaky_relu(self.second_layer(self.first_layer(x)))


STAGES = {1: (Stage1, 0.1, [1.0], [5.0]), 7: (Stage7, 0.01, [1.0, 1.0], [10.0])}


def guide_run(stage: int, seed: int, steps: int = 100, printing: bool = True):
    """One run of the tutorial's program; returns (loop seconds, total seconds, net)."""
    sink = io.StringIO()
    started = time.perf_counter()
    model, learning_rate, inputs, goal = STAGES[stage]
    torch.manual_seed(seed)
    net = model()
    simple_optimiser = torch.optim.SGD(net.parameters(), lr=learning_rate, momentum=0.9)
    target = torch.tensor(goal)
    loss_criterion = nn.MSELoss()
    loop_start = time.perf_counter()
    net.train()
    for i in range(steps):
        simple_optimiser.zero_grad()
        output = net(torch.tensor(inputs))
        loss = loss_criterion(output, target)
        if printing:
            print(f"Loss = {loss}", file=sink)
        loss.backward()
        simple_optimiser.step()
    done = time.perf_counter()
    return done - loop_start, done - started, net
