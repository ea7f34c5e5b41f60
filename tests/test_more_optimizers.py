"""`optimizer adagrad|adamax|nadam`: a run equals the same training written by hand
with torch.optim's class and its arguments spelt out here, at every step."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from runtime import train

ROWS = [([0.5, -1.0, 2.0], [1.0, 0.0]), ([1.5, 0.25, -0.5], [0.0, 1.0]), ([-2.0, 1.0, 0.0], [0.5, 0.5]),
        ([0.0, 0.75, 1.25], [1.0, 1.0])]
CASES = [
    ("adagrad", torch.optim.Adagrad, {"lr": 0.01, "lr_decay": 0.0, "weight_decay": 0.0,
                                      "initial_accumulator_value": 0.0, "eps": 1e-10}),
    ("adagrad lr=0.1 lr_decay=0.01 initial_accumulator_value=0.1 weight_decay=0.01", torch.optim.Adagrad,
     {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.01, "initial_accumulator_value": 0.1}),
    ("adamax", torch.optim.Adamax, {"lr": 0.002, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0}),
    ("adamax lr=0.05 beta1=0.8 beta2=0.99 weight_decay=0.1", torch.optim.Adamax,
     {"lr": 0.05, "betas": (0.8, 0.99), "weight_decay": 0.1}),
    ("nadam", torch.optim.NAdam, {"lr": 0.002, "betas": (0.9, 0.999), "eps": 1e-8, "momentum_decay": 0.004}),
    ("nadam lr=0.05 beta1=0.5 momentum_decay=0.01 weight_decay=0.01", torch.optim.NAdam,
     {"lr": 0.05, "betas": (0.5, 0.999), "momentum_decay": 0.01, "weight_decay": 0.01}),
]


@pytest.mark.parametrize(("line", "cls", "kwargs"), CASES, ids=[case[0] for case in CASES])
def test_each_step_equals_the_same_training_by_hand(line, cls, kwargs):
    spec = "linear 3->4\ntanh\nlinear ->2\n" + f"optimizer {line}\nepochs 25\n" + "".join(
        f"example {list(x)} -> {list(y)}\n" for x, y in ROWS)
    run = train(spec, seed=3)
    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    optimizer = cls(model.parameters(), **kwargs)
    inputs = torch.tensor([x for x, _ in ROWS])
    targets = torch.tensor([y for _, y in ROWS])
    losses = []
    for _ in range(25):
        optimizer.zero_grad()
        loss = nn.MSELoss()(model(inputs), targets)
        losses.append(loss.item())
        loss.backward()
        optimizer.step()
    assert run.report.losses == tuple(losses)
    for name, tensor in model.state_dict().items():
        assert torch.equal(run.model.state_dict()[name], tensor), name
