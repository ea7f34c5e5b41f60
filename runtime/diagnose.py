"""What the tutorial talks about, noticed in a finished run.

In: the checked spec, the parameters before and after training, the loss at
every step and whether a target was broadcast. Out: `DiagnosticEntry`s:
`dead_relu` (a layer before a ReLU whose parameters never moved: its gradient
was zero at every step), `never_moved` (any other parameter that never
changed), `target_broadcast`, `plateau` (the loss stopped falling) and
`loss_high` (training ended far from zero loss).
"""

from __future__ import annotations

from compiler import CheckedSpec

from .report import DiagnosticEntry

PLATEAU_SHARE = 0.2  # the last fifth of the steps
MIN_STEPS = 20


def diagnose(spec: CheckedSpec, initial: dict, final: dict, losses: list[float],
             broadcast: bool) -> list[DiagnosticEntry]:
    found = _frozen(spec, initial, final) if losses else []
    if broadcast:
        found.append(DiagnosticEntry(
            kind="target_broadcast",
            message=f"a target of 1 value was used for each of the {spec.output_width} outputs"))
    found += _loss_shape(losses)
    return found


def _frozen(spec: CheckedSpec, initial: dict, final: dict) -> list[DiagnosticEntry]:
    """Parameters that ended exactly where they started."""
    still = [name for name in initial if initial[name] == final[name]]
    entries = []
    for index in sorted({int(name.split(".")[0]) for name in still}):
        names = [n for n in still if n.split(".")[0] == str(index)]
        after = spec.layers[index + 1].kind if index + 1 < len(spec.layers) else None
        shown = " and ".join(f"`{n}`" for n in names)
        if after == "relu":
            entries.append(DiagnosticEntry(
                kind="dead_relu", layer=index, parameter=names[0],
                message=(f"{shown} never changed: the ReLU after layer {index} output 0 for every example, "
                         f"so its gradient was 0 at every step (a dead ReLU); try `leaky_relu`")))
        else:
            entries.append(DiagnosticEntry(
                kind="never_moved", layer=index, parameter=names[0],
                message=f"{shown} never changed: no gradient reached {'them' if len(names) > 1 else 'it'}"))
    return entries


def _loss_shape(losses: list[float]) -> list[DiagnosticEntry]:
    if len(losses) < MIN_STEPS:
        return []
    first, last = losses[0], losses[-1]
    tolerance = 1e-6 * max(1.0, abs(last))
    start = len(losses)
    while start > 1 and abs(losses[start - 2] - last) <= tolerance:
        start -= 1
    entries = []
    if last > 1e-3 and len(losses) - start + 1 >= max(2, int(len(losses) * PLATEAU_SHARE)):
        entries.append(DiagnosticEntry(
            kind="plateau", step=start,
            message=f"the loss stopped falling: it stayed at {last:.6g} from step {start} on"))
    if first > 0 and last > 1e-3 and last > 0.5 * first:
        entries.append(DiagnosticEntry(
            kind="loss_high",
            message=f"the final loss {last:.6g} is still {last / first:.0%} of the first ({first:.6g})"))
    return entries
