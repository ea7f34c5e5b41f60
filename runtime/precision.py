"""Mixed precision and `torch.compile` for a run on a CUDA GPU: `--precision bf16|fp16` and `--compile`.

In: the run's options (`precision`, `compile`, `device`; an argparse namespace
or `TrainOptions`), the device the run trains on, and the training loop's own
`forward`, `loss`, `step` and torch optimizer. Out:
- `refuse_off_gpu(options, python)`: a `SpecError` (E0932) when either option
  is asked for on a run that trains on the CPU, named as the user wrote it;
- `mixed_of(options, device)`: a `Mixed` holding what to do, or None for fp32
  without `--compile` (the loop then runs exactly as without this module);
- `wrapped(mixed, model, forward, loss, step, optimizer)`: the loop's forward,
  loss, backward and step, changed as `Mixed` says.

bf16 and fp16 run the forward pass and the loss under `torch.autocast` (the
parameters, their gradients and the optimizer's state stay float32). fp16
adds torch's `GradScaler`: backward runs on the scaled loss, the gradients are
unscaled at once (so that `clip` and `--trace grads` see their true values),
and the step goes through the scaler, which skips the update when a gradient
is infinite or NaN and lowers the scale. The loss the loop records and checks
is the unscaled one: a skipped step is counted in `Mixed.skipped`, not taken
for a diverged run. `--compile` calls the network through `torch.compile(model)`
instead of its modules' forwards one by one. The written-out CPU update
(`lean_optim`) is never used here: it is for parameters on the CPU, and these
options apply only on a GPU, where the loop always builds torch's optimizer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from spec_lang import codes, usage_error

from .report import GpuInfo

Forward = Callable[[torch.Tensor], torch.Tensor]
Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
_TYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def on_gpu(device: str) -> bool:
    """Whether a run with this `--device` trains on a CUDA GPU (`auto` finds one when there is one)."""
    return device == "cuda" or (device == "auto" and torch.cuda.is_available())


def refuse_off_gpu(options: Any, python: bool) -> None:
    """Refuse `precision` other than fp32, or `compile`, on a run that trains on the CPU."""
    precision, compiled = options.precision or "fp32", options.compile
    if (precision == "fp32" and not compiled) or on_gpu(options.device):
        return
    named = [f"precision={precision!r}" if python else f"--precision {precision}"] if precision != "fp32" else []
    named += ["compile=True" if python else "--compile"] if compiled else []
    device = f"device={options.device!r}" if python else f"--device {options.device}"
    why = "found no CUDA device" if options.device == "auto" else "trains on the CPU"
    cuda = "device='cuda'" if python else "--device cuda"
    leave = " and ".join(word.split("=")[0].split(" ")[0] for word in named)
    verb = "apply" if len(named) > 1 else "applies"
    raise usage_error(f"{' and '.join(named)} {verb} only to a run on a CUDA GPU, and this run ({device}) {why}",
                      f"train on a GPU with {cuda}, or leave out {leave} to train on the CPU in float32",
                      code=codes.GPU_ONLY)


@dataclass
class Mixed:
    """What a GPU run does beyond fp32: its autocast type, whether it compiles the network, and for
    fp16 the steps its grad scaler skipped so far."""

    precision: str  # "fp32", "bf16" or "fp16"
    compile: bool
    device_type: str = "cuda"
    skipped: int = 0

    def info(self) -> GpuInfo:
        return GpuInfo(precision=self.precision, compiled=self.compile,  # type: ignore[arg-type]
                       skipped_steps=self.skipped)


def mixed_of(options: Any, device: torch.device) -> Mixed | None:
    precision = options.precision or "fp32"
    if precision == "fp32" and not options.compile:
        return None
    return Mixed(precision, options.compile, device.type)


def wrapped(mixed: Mixed | None, model: nn.Module, forward: Forward, loss: Loss, step: Callable[[], Any],
            optimizer: torch.optim.Optimizer | None) -> tuple[Forward, Loss, Callable[[torch.Tensor], None],
                                                              Callable[[], Any]]:
    """The loop's `forward`, `loss`, `backward(loss)` and `step()`, as `mixed` runs them (unchanged for None)."""
    if mixed is None:
        return forward, loss, torch.Tensor.backward, step
    if mixed.compile:
        forward = torch.compile(model)
    if mixed.precision == "fp32":
        return forward, loss, torch.Tensor.backward, step
    dtype = _TYPES[mixed.precision]
    forward, loss = autocast(forward, mixed.device_type, dtype), autocast(loss, mixed.device_type, dtype)
    if mixed.precision == "bf16":  # bfloat16 has float32's range: no scaling needed
        return forward, loss, torch.Tensor.backward, step
    if optimizer is None:
        raise ValueError("fp16 steps through torch's optimizer: the written-out update is for the CPU alone")
    backward, step = scaled(mixed, optimizer)
    return forward, loss, backward, step


def autocast(function: Callable[..., torch.Tensor], device_type: str,
             dtype: torch.dtype) -> Callable[..., torch.Tensor]:
    def run(*args: torch.Tensor) -> torch.Tensor:
        with torch.autocast(device_type, dtype=dtype):
            return function(*args)

    return run


def scaled(mixed: Mixed, optimizer: torch.optim.Optimizer,
           scaler: torch.amp.GradScaler | None = None) -> tuple[Callable[[torch.Tensor], None], Callable[[], None]]:
    """fp16's backward (scaled, then the gradients unscaled) and step (through the scaler, which
    skips an update whose gradients are not finite: counted in `mixed.skipped`)."""
    scaler = scaler or torch.amp.GradScaler(mixed.device_type)

    def backward(loss: torch.Tensor) -> None:
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)  # before `clip`, and before --trace reads the gradients

    def step() -> None:
        before = scaler.get_scale()
        scaler.step(optimizer)
        scaler.update()
        if scaler.get_scale() < before:  # the scaler lowers its scale exactly when it skipped the update
            mixed.skipped += 1

    step.scaler = scaler  # type: ignore[attr-defined]
    return backward, step
