"""The tutorial's eight programs, restored as plain PyTorch, for fidelity tests.

Source: /work/shared/guide/no-questions-asked-pytorch-guide.txt ("No Questions
Asked" PyTorch guide), whose code lost its indentation. Each program is kept as
the guide writes it (its `SimpleNN` class, `F.relu`/`F.leaky_relu` in
`forward`, SGD with momentum 0.9, `nn.MSELoss`, 100 steps of zero_grad /
forward / loss / backward / step, and `net.train()`/`net.eval()` only where the
guide calls them), with every `print` removed.

In: a seed; `stage_N(seed)` calls `torch.manual_seed(seed)` right before
building the net. Out: a `GuideResult` with the parameters before and after
training (in `net.parameters()` order), the loss of every step, and the output
of the final evaluation (computed under `torch.no_grad()`; the values are the
same as the guide's plain call). `STAGES` maps each spec name in specs/ to its
stage function, in stage order.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class GuideResult:
    initial: list[torch.Tensor]
    losses: list[float]
    final: list[torch.Tensor]
    eval_output: torch.Tensor


def _params(net: nn.Module) -> list[torch.Tensor]:
    """Stands in for the guide's `print(list(net.parameters()))`."""
    return [p.detach().clone() for p in net.parameters()]


def _loop(net, simple_optimiser, loss_criterion, target, example) -> list[float]:
    """The guide's training loop, with `print(f"Loss = {loss}")` recorded instead."""
    losses = []
    for i in range(100):
        simple_optimiser.zero_grad()
        output = net(example)
        loss = loss_criterion(output, target)
        losses.append(loss.item())
        loss.backward()
        simple_optimiser.step()
    return losses


def _evaluate(net, example) -> torch.Tensor:
    with torch.no_grad():
        return net(example)


def _single_neuron(seed, net_class, train_first):
    """Stages 1-4 share one script; only the class and where `net.train()` sits differ.

    Stages 2-4 of the guide evaluate torch.tensor([1., 1.]), which a one-input
    network refuses (shape error); all four evaluate torch.tensor([1.]) here,
    as the specs do.
    """
    torch.manual_seed(seed)
    net = net_class()
    initial = _params(net)
    if train_first:  # stages 3 and 4 call net.train() before building the optimiser
        net.train()
    learning_rate = 0.1
    simple_optimiser = torch.optim.SGD(net.parameters(), lr=learning_rate, momentum=0.9)
    target = torch.tensor([5.])
    loss_criterion = nn.MSELoss()
    if not train_first:  # stages 1 and 2 call it after the loss
        net.train()
    losses = _loop(net, simple_optimiser, loss_criterion, target, torch.tensor([1.]))
    final = _params(net)
    net.eval()
    return GuideResult(initial, losses, final, _evaluate(net, torch.tensor([1.])))


# Stage 1: a single neuron.
class Neuron(nn.Module):
    def __init__(self):
        super(Neuron, self).__init__()
        self.first_layer = nn.Linear(1, 1, bias=False)

    def forward(self, x):
        return self.first_layer(x)


def stage_1(seed: int) -> GuideResult:
    return _single_neuron(seed, Neuron, False)


# Stage 2: a neuron with a ReLU.
class ReluNeuron(nn.Module):
    def __init__(self):
        super(ReluNeuron, self).__init__()
        self.first_layer = nn.Linear(1, 1, bias=False)

    def forward(self, x):
        return F.relu(self.first_layer(x))


def stage_2(seed: int) -> GuideResult:
    # Evaluates [1.], not the guide's [1., 1.] (see _single_neuron).
    return _single_neuron(seed, ReluNeuron, False)


# Stage 3: a neuron with a LeakyReLU.
class LeakyNeuron(nn.Module):
    def __init__(self):
        super(LeakyNeuron, self).__init__()
        self.first_layer = nn.Linear(1, 1, bias=False)

    def forward(self, x):
        return F.leaky_relu(self.first_layer(x))


def stage_3(seed: int) -> GuideResult:
    # Evaluates [1.], not the guide's [1., 1.] (see _single_neuron).
    return _single_neuron(seed, LeakyNeuron, True)


# Stage 4: the neuron gets a bias.
class BiasedNeuron(nn.Module):
    def __init__(self):
        super(BiasedNeuron, self).__init__()
        self.first_layer = nn.Linear(1, 1, bias=True)

    def forward(self, x):
        return F.leaky_relu(self.first_layer(x))


def stage_4(seed: int) -> GuideResult:
    # Evaluates [1.], not the guide's [1., 1.] (see _single_neuron).
    return _single_neuron(seed, BiasedNeuron, True)


# Stage 5: a perceptron with two inputs (the guide calls neither train() nor eval()).
class Perceptron(nn.Module):
    def __init__(self):
        super(Perceptron, self).__init__()
        self.first_layer = nn.Linear(2, 1, bias=True)

    def forward(self, x):
        return F.leaky_relu(self.first_layer(x))


# Stage 6: a layer of three neurons.
class Layer(nn.Module):
    def __init__(self):
        super(Layer, self).__init__()
        self.first_layer = nn.Linear(2, 3, bias=True)

    def forward(self, x):
        return F.leaky_relu(self.first_layer(x))


# Stage 7: a multilayer perceptron.
class MLP(nn.Module):
    def __init__(self):
        super(MLP, self).__init__()
        self.first_layer = nn.Linear(2, 3, bias=True)
        self.second_layer = nn.Linear(3, 1, bias=True)

    def forward(self, x):
        return F.leaky_relu(self.second_layer(self.first_layer(x)))


# Stage 8: the MLP as one nn.Sequential.
class SequentialMLP(nn.Module):
    def __init__(self):
        super(SequentialMLP, self).__init__()
        self.stack = nn.Sequential(nn.Linear(2, 3, bias=True), nn.Linear(3, 1, bias=True), nn.LeakyReLU())

    def forward(self, x):
        return self.stack(x)


def _two_input(seed, net_class, learning_rate, target, call_train_eval=True):
    """Stages 5-8: input [1., 1.] for training and evaluation."""
    torch.manual_seed(seed)
    net = net_class()
    initial = _params(net)
    if call_train_eval:
        net.train()
    simple_optimiser = torch.optim.SGD(net.parameters(), lr=learning_rate, momentum=0.9)
    loss_criterion = nn.MSELoss()
    losses = _loop(net, simple_optimiser, loss_criterion, target, torch.tensor([1., 1.]))
    final = _params(net)
    if call_train_eval:
        net.eval()
    return GuideResult(initial, losses, final, _evaluate(net, torch.tensor([1., 1.])))


def stage_5(seed: int) -> GuideResult:
    return _two_input(seed, Perceptron, 0.1, torch.tensor([5.]), call_train_eval=False)


def stage_6(seed: int) -> GuideResult:
    return _two_input(seed, Layer, 0.1, torch.tensor([5., 6., 7.]))


def stage_7(seed: int) -> GuideResult:
    # The guide also prints every param.grad before and after step(); printing changes nothing.
    return _two_input(seed, MLP, 0.01, torch.tensor([10.]))


def stage_8(seed: int) -> GuideResult:
    return _two_input(seed, SequentialMLP, 0.01, torch.tensor([10.]))


STAGES = {
    "neuron": stage_1,
    "relu": stage_2,
    "leaky_relu": stage_3,
    "bias": stage_4,
    "two_inputs": stage_5,
    "layer": stage_6,
    "mlp": stage_7,
    "sequential": stage_8,
}
