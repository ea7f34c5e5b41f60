"""What a checkpoint holds of a run in training, and putting it back.

In: a `Session` at an epoch boundary and the loop's `step` (the update written
out keeps its buffers in the step itself: `lean_optim`'s `step.lean_state`).
Out: `capture(...)` -> `State`: tensors by name (the weights, the starting
weights, the optimizer's state, the early-stopping copy of the best weights,
the RNG states as uint8 tensors, the losses, held-out losses and learning
rates so far as float64) and plain values for JSON (the optimizer's settings,
the schedulers' state, the stopper's counters, step counts); and
`restore(state, training, step)`, which puts every piece back, so that the loop
goes on from the next epoch exactly as it would have without stopping.
A state that does not fit the training (names, shapes, types) raises
`ValueError`, `KeyError` or `RuntimeError`: the caller treats it as damaged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from .summary import Session

_SERIES = ("losses", "validation", "lrs")  # lists that only grow: copied when written, not at each epoch


@dataclass
class State:
    epoch: int
    tensors: dict[str, torch.Tensor]
    values: dict[str, Any]
    series: dict[str, tuple[list[float], int]] = field(default_factory=dict)  # list, entries so far

    def all_tensors(self) -> dict[str, torch.Tensor]:
        grown = {f"series.{name}": torch.tensor(values[:count], dtype=torch.float64)
                 for name, (values, count) in self.series.items()}
        return {**self.tensors, **grown}


def capture(training: Session, step: Callable[[], None], epoch: int) -> State:
    """Everything the rest of the run depends on, after epoch `epoch` (copies)."""
    tensors: dict[str, torch.Tensor] = {}
    values: dict[str, Any] = {}
    for name, tensor in training.model.state_dict().items():
        tensors[f"model.{name}"] = tensor.detach().cpu().clone()
    for name, tensor in training.initial.items():  # never changed: no copy needed
        tensors[f"initial.{name}"] = tensor
    if training.optimizer is not None:
        values["optimizer"] = _optimizer(training.optimizer.state_dict(), tensors)
    lean = getattr(step, "lean_state", None)
    if lean is not None:
        values["lean"] = {name: _lean(name, entries, tensors) for name, entries in lean.items()}
    control, series = training.control, {"losses": training.losses, "validation": training.validation}
    if control is not None:
        series["lrs"] = control.lrs
        if control.schedule is not None:
            values["schedule"] = control.schedule.state_dict()
        stopper = control.stopper
        if stopper is not None:
            values["stopper"] = {key: getattr(stopper, key) for key in _STOPPER}
            values["stopper"]["kept"] = stopper.state is not None
            for name, tensor in (stopper.state or {}).items():  # replaced, never changed in place
                tensors[f"stopper.{name}"] = tensor
    tensors["rng.torch"] = torch.get_rng_state()
    tensors["rng.data"] = training.data.generator.get_state()
    if _device(training).type == "cuda":
        tensors["rng.cuda"] = torch.cuda.get_rng_state(_device(training))
    return State(epoch, tensors, values, {name: (values_, len(values_)) for name, values_ in series.items()})


def _device(training: Session) -> torch.device:
    """Where the run trains: its data is there."""
    return training.data.inputs.device


_STOPPER = ("best", "best_epoch", "waited", "stopped_epoch", "epochs")


def _optimizer(saved: dict[str, Any], tensors: dict[str, torch.Tensor]) -> dict[str, Any]:
    """A torch optimizer's `state_dict`: its tensors into `tensors`, the rest as JSON values."""
    plain: dict[str, dict[str, Any]] = {}
    for index, entries in saved["state"].items():
        plain[str(index)] = {}
        for key, value in entries.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optimizer.{index}.{key}"] = value.detach().cpu().clone()
            else:
                plain[str(index)][key] = value
    return {"state": plain, "param_groups": saved["param_groups"]}


def _lean(name: str, entries: list, tensors: dict[str, torch.Tensor]) -> list:
    """One list of the written-out update: tensors into `tensors` (None stays None), counts as they are."""
    kept: list = []
    for i, entry in enumerate(entries):
        if isinstance(entry, torch.Tensor):
            tensors[f"lean.{name}.{i}"] = entry.detach().clone()
            kept.append("tensor")
        else:
            kept.append(entry)  # a step count, or None before the first step
    return kept


def restore(state: State, training: Session, step: Callable[[], None]) -> None:
    """Put a captured (or loaded) state back into a training built afresh for the same run."""
    tensors, values = state.tensors, state.values
    device = _device(training)
    model = {name.removeprefix("model."): t for name, t in tensors.items() if name.startswith("model.")}
    training.model.load_state_dict(model, strict=True)
    initial = {name.removeprefix("initial."): t for name, t in tensors.items() if name.startswith("initial.")}
    if initial.keys() != training.initial.keys():
        raise KeyError("the starting weights do not fit the network")
    training.initial = {name: t.clone() for name, t in initial.items()}
    if (training.optimizer is None) != ("optimizer" not in values):
        raise ValueError("the optimizer's state does not fit the run")
    if training.optimizer is not None:
        training.optimizer.load_state_dict(_optimizer_back(values["optimizer"], tensors, training.optimizer))
    lean = getattr(step, "lean_state", None)
    if (lean is None) != ("lean" not in values):
        raise ValueError("the optimizer's state does not fit the run")
    if lean is not None:
        for name, entries in lean.items():
            entries[:] = _lean_back(name, values["lean"][name], entries, tensors, device)
    _control_back(training, state)
    torch.set_rng_state(tensors["rng.torch"])
    training.data.generator.set_state(tensors["rng.data"])
    if device.type == "cuda":
        torch.cuda.set_rng_state(tensors["rng.cuda"], device)
    training.losses[:] = _series(state, "losses")
    training.validation[:] = _series(state, "validation")


def _series(state: State, name: str) -> list[float]:
    if name in state.series:
        values, count = state.series[name]
        return list(values[:count])
    return state.tensors[f"series.{name}"].tolist()


def _optimizer_back(saved: dict[str, Any], tensors: dict[str, torch.Tensor],
                    optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for index, plain in saved["state"].items():
        state[int(index)] = dict(plain)
    for name, tensor in tensors.items():
        if name.startswith("optimizer."):
            _, index, key = name.split(".", 2)
            state.setdefault(int(index), {})[key] = tensor
    groups = []
    for group, fresh in zip(saved["param_groups"], optimizer.param_groups, strict=True):  # JSON made tuples lists
        groups.append({key: tuple(value) if isinstance(fresh.get(key), tuple) else value
                       for key, value in group.items()})
    return {"state": state, "param_groups": groups}


def _lean_back(name: str, kept: list, entries: list, tensors: dict[str, torch.Tensor],
               device: torch.device) -> list:
    if len(kept) != len(entries):
        raise ValueError(f"the update's `{name}` does not fit the network")
    back: list = []
    for i, (entry, live) in enumerate(zip(kept, entries, strict=True)):
        if entry == "tensor":
            tensor = tensors[f"lean.{name}.{i}"]
            if isinstance(live, torch.Tensor) and (tensor.shape != live.shape or tensor.dtype != live.dtype):
                raise ValueError(f"the update's `{name}` does not fit the network")
            back.append(tensor.clone().to(device))
        else:
            back.append(entry)
    return back


def _control_back(training: Session, state: State) -> None:
    control, values = training.control, state.values
    if control is None:
        if "schedule" in values or "stopper" in values:
            raise ValueError("the training control does not fit the run")
        return
    control.lrs[:] = _series(state, "lrs")
    if (control.schedule is None) != ("schedule" not in values):
        raise ValueError("the schedule does not fit the run")
    if control.schedule is not None:
        control.schedule.load_state_dict(values["schedule"])
    stopper = control.stopper
    if (stopper is None) != ("stopper" not in values):
        raise ValueError("the early stopping does not fit the run")
    if stopper is not None:
        saved = values["stopper"]
        for key in _STOPPER:
            setattr(stopper, key, saved[key])
        kept = {name.removeprefix("stopper."): t.to(_device(training))
                for name, t in state.tensors.items() if name.startswith("stopper.")}
        stopper.state = kept if saved["kept"] else None
