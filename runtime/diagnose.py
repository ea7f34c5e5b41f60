"""What the tutorial talks about, noticed in a finished run.

In: the checked spec, the parameter tensors before and after training, the
mean loss of each epoch, the steps per epoch and whether a target was
broadcast. Out: `DiagnosticEntry`s: `dead_relu` (a layer before a ReLU whose
parameters never moved: its gradient was zero at every step), `never_moved`
(any other parameter that never changed), `target_broadcast`, `plateau` (the
epoch loss stopped falling) and `loss_high` (training ended far from zero
loss). With one step per epoch, an epoch's loss is its step's, and the
messages speak of steps.
"""

from __future__ import annotations

import torch

from compiler import CheckedSpec
from compiler.layers.activations import ReLU
from compiler.layers.blocks import Container

from .report import DiagnosticEntry

PLATEAU_SHARE = 0.2  # the last fifth of the epochs
MIN_EPOCHS = 20


def diagnose(spec: CheckedSpec, initial: dict[str, torch.Tensor], final: dict[str, torch.Tensor],
             epoch_losses: list[float], per_epoch: int, broadcast: bool) -> list[DiagnosticEntry]:
    found = _frozen(spec, initial, final) if epoch_losses else []
    if broadcast:
        found.append(DiagnosticEntry(
            kind="target_broadcast",
            message=f"a target of 1 value was used for each of the {spec.output_width} outputs"))
    found += _loss_shape(epoch_losses, per_epoch)
    return found


def _frozen(spec: CheckedSpec, initial: dict[str, torch.Tensor],
            final: dict[str, torch.Tensor]) -> list[DiagnosticEntry]:
    """Parameters that ended exactly where they started."""
    still = [name for name in initial if torch.equal(initial[name], final[name])]
    leaves = [step for step in spec.steps() if not isinstance(step.layer, Container)]
    following = {step.path: (leaves[n + 1].layer if n + 1 < len(leaves) else None) for n, step in enumerate(leaves)}
    entries = []

    def layer_of(name: str) -> str:  # the layer's path: `1.0` for `1.0.weight`, `0` for `0.lstm.weight_ih_l0`
        parts = name.split(".")
        return next((".".join(parts[:end]) for end in range(len(parts) - 1, 0, -1)
                     if ".".join(parts[:end]) in following), parts[0])

    for path in dict.fromkeys(layer_of(name) for name in still):  # each layer once, in order
        names = [n for n in still if layer_of(n) == path]
        index = int(path.split(".")[0])
        after = following.get(path)
        shown = " and ".join(f"`{n}`" for n in names)
        if isinstance(after, ReLU):
            entries.append(DiagnosticEntry(
                kind="dead_relu", layer=index, parameter=names[0],
                message=(f"{shown} never changed: the ReLU after layer {path} output 0 for every example, "
                         f"so its gradient was 0 at every step (a dead ReLU); try `leaky_relu`")))
        else:
            entries.append(DiagnosticEntry(
                kind="never_moved", layer=index, parameter=names[0],
                message=f"{shown} never changed: no gradient reached {'them' if len(names) > 1 else 'it'}"))
    return entries


def _loss_shape(losses: list[float], per_epoch: int) -> list[DiagnosticEntry]:
    if len(losses) < MIN_EPOCHS:
        return []
    first, last = losses[0], losses[-1]
    tolerance = 1e-6 * max(1.0, abs(last))
    start = len(losses)
    while start > 1 and abs(losses[start - 2] - last) <= tolerance:
        start -= 1
    steps = per_epoch == 1
    entries = []
    if last > 1e-3 and len(losses) - start + 1 >= max(2, int(len(losses) * PLATEAU_SHARE)):
        since = f"step {start}" if steps else f"epoch {start}"
        entries.append(DiagnosticEntry(
            kind="plateau", step=(start - 1) * per_epoch + 1, epoch=start,
            message=f"the {'' if steps else 'mean '}loss stopped falling: it stayed at {last:.6g} from {since} on"))
    if first > 0 and last > 1e-3 and last > 0.5 * first:
        final, of = ("final loss", "first") if steps else ("last epoch's mean loss", "first epoch's")
        entries.append(DiagnosticEntry(
            kind="loss_high",
            message=f"the {final} {last:.6g} is still {last / first:.0%} of the {of} ({first:.6g})"))
    return entries
