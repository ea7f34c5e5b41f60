"""The few torch modules nqa adds to torch.nn, built by `Call(home="compiler.modules")`.

In: their constructor arguments. Out: modules that nn.Sequential chains (one
tensor in, one tensor out) and that print as the summary names them; and
`normalize`'s statistics (`normalizing_statistics`) with the module that
applies them (`Normalize`), used by the run, its export and the emitted program. This is
the one file of `compiler` that imports torch at its top: it is imported only
when a network is built. `--emit python` copies these classes into the program
it writes (`Call.definition()`), so each stands alone on `torch` and `nn`.
"""

from __future__ import annotations

import torch
from torch import nn


class GlobalAvgPool(nn.Module):
    """The mean of each channel over all its positions: [N, C, ...] -> [N, C]."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(2).mean(dim=2)


class LSTM(nn.Module):
    """nn.LSTM over [N, T, F] (batch first), giving the last step [N, H], or every step [N, T, H] with `sequence`."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, sequence: bool = False) -> None:
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers=num_layers, batch_first=True)
        self.sequence = sequence

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        steps: torch.Tensor = self.lstm(x)[0]  # the top layer's output at every step; not the final states
        return steps if self.sequence else steps[:, -1]

    def __repr__(self) -> str:
        layers = f", num_layers={self.lstm.num_layers}" if self.lstm.num_layers != 1 else ""
        sequence = ", sequence=True" if self.sequence else ""
        return f"LSTM({self.lstm.input_size}, {self.lstm.hidden_size}{layers}{sequence})"


class GRU(nn.Module):
    """nn.GRU over [N, T, F] (batch first), giving the last step [N, H], or every step [N, T, H] with `sequence`."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, sequence: bool = False) -> None:
        super().__init__()
        self.gru = nn.GRU(input_size, hidden_size, num_layers=num_layers, batch_first=True)
        self.sequence = sequence

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        steps: torch.Tensor = self.gru(x)[0]  # the top layer's output at every step; not the final state
        return steps if self.sequence else steps[:, -1]

    def __repr__(self) -> str:
        layers = f", num_layers={self.gru.num_layers}" if self.gru.num_layers != 1 else ""
        sequence = ", sequence=True" if self.sequence else ""
        return f"GRU({self.gru.input_size}, {self.gru.hidden_size}{layers}{sequence})"


class Residual(nn.Sequential):
    """`x + body(x)`: its layers in order, as an nn.Sequential, with the input added back to what they give."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        given: torch.Tensor = super().forward(x)  # type: ignore[no-untyped-call]  # torch leaves it untyped
        return x + given


def normalizing_statistics(inputs: torch.Tensor, method: str) -> tuple[torch.Tensor, torch.Tensor]:
    """`normalize`'s statistics of the training rows `inputs` [N, *shape], for each input value, in float64:
    the shift and the scale that `Normalize` applies. `standard`: the mean and the population standard
    deviation (divided by N, as scikit-learn's StandardScaler); `minmax`: the minimum and max - min. A value
    that is the same in every row has the scale 1 (and its own value as the shift): it becomes 0."""
    rows = inputs.reshape(len(inputs), -1).to(torch.float64)
    low, high = rows.min(dim=0).values, rows.max(dim=0).values
    constant = low == high
    if method == "minmax":
        shift, spread = low, high - low
    else:
        shift, spread = torch.where(constant, low, rows.mean(dim=0)), rows.std(dim=0, correction=0)
    scale = torch.where(constant, torch.ones_like(spread), spread)
    return shift.reshape(inputs.shape[1:]), scale.reshape(inputs.shape[1:])


class Normalize(nn.Module):
    """`(x - shift) / scale` for each input value, in float32: `normalize`'s statistics as constant buffers,
    the first step of the network as predicted, emitted and exported (the run scales its rows with it once)."""

    shift: torch.Tensor
    scale: torch.Tensor

    def __init__(self, shift: torch.Tensor, scale: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("shift", shift.to(torch.float32))
        self.register_buffer("scale", scale.to(torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.shift) / self.scale

    def __repr__(self) -> str:
        return f"Normalize({list(self.shift.shape)})"
