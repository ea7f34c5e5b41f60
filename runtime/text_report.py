"""The run report as people read it.

In: a `Report`. Out: plain text with fixed float formatting and no timings,
so that the same run always prints the same text (the golden files pin it):
the model table (the input's shape, each layer's output shape, parameters and
multiply-accumulates per example), optimizer and loss settings (and how
`normalize` scaled the inputs), the loss as training went (each step's when
an epoch is one step, else each epoch's mean), the named initial and final
parameters (every value up to 32 in a tensor, else its count, mean, min and
max), the eval outputs and any diagnostics.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import cast

from compiler import LayerInfo
from compiler.limits import BYTES_PER_PARAMETER, human_bytes
from compiler.messages import plural
from compiler.types import DType, TensorType
from spec_lang import visible

from .control_report import setting_lines, stop_lines
from .report import GpuInfo, NormalizationInfo, Report, StreamInfo
from .tensors import stats

LOSS_LINES = 10
SHOWN_VALUES = 32


def num(value: float) -> str:
    """One float, as every report prints it."""
    return f"{value:.6g}"


def nested(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(nested(v) for v in value) + "]"
    return num(value)


def render_text(report: Report) -> str:
    parts = [_header(report), _model(report), _settings(report), _losses(report),
             _parameters(report), _eval(report), _test(report), _diagnostics(report)]
    return "\n\n".join(p for p in parts if p) + "\n"


def _header(r: Report) -> str:
    on = "" if r.device == "cpu" else f", on {r.device}"  # the CPU goes unsaid, as in every earlier report
    on += gpu_text(r.gpu) if r.gpu is not None else ""
    on += f", {r.processes} processes" if r.processes is not None else ""
    return f"nqa run {visible(r.spec)}  (seed {r.seed}{on})"


def gpu_text(gpu: GpuInfo) -> str:
    """`, bf16, compiled`; with fp16, how many steps the grad scaler skipped."""
    words: list[str] = [gpu.precision] if gpu.precision != "fp32" else []
    if gpu.precision == "fp16":
        words[0] += f" ({gpu.skipped_steps} step{'' if gpu.skipped_steps == 1 else 's'} skipped by the grad scaler)"
    return "".join(f", {word}" for word in words + (["compiled"] if gpu.compiled else []))


def _model(r: Report) -> str:
    m = r.model
    return "model\n" + model_table(m.layers, m.parameters, m.input_shape, m.input_dtype)


def shape_text(shape, dtype: str = "float32") -> str:
    """A per-example shape as users read it: `[16, 8, 8]`, `[10] int64`."""
    return str(TensorType.of(*shape, dtype=cast(DType, dtype)))


def model_table(rows: Sequence[LayerInfo], total: int, input_shape: Sequence[int], input_dtype: str = "float32") -> str:
    """The input's shape, then each layer with its output shape, parameter count and
    multiply-accumulates per example (MACs), the totals and their sizes, as torchinfo prints them."""
    input_type = shape_text(input_shape, input_dtype)
    outputs = [shape_text(row.output_shape, row.output_dtype) for row in rows]
    leaves = [row for row in rows if not row.block]  # a block's row sums the rows inside it
    macs = sum(row.flops for row in leaves)
    names = [_indented(row) for row in rows]
    path_w = max(2, *(len(row.path or str(row.index)) for row in rows))
    name_w = max(len("layer"), *(len(name) for name in names))
    shape_w = max(len("output"), len(input_type), *(len(text) for text in outputs))
    params_w = max(8, len(f"{total:,}"))
    macs_w = max(8, len(f"{macs:,}"))
    header = (f"  {'#':>{path_w}}  {'layer':<{name_w}}  {'output':<{shape_w}}  {'params':>{params_w}}  "
              f"{'MACs':>{macs_w}}")
    lines = [header, f"  {'':>{path_w}}  {'input':<{name_w}}  {input_type}"]
    for row, name, output in zip(rows, names, outputs, strict=True):
        lines.append(f"  {row.path or row.index:>{path_w}}  {name:<{name_w}}  {output:<{shape_w}}  "
                     f"{row.parameters:>{params_w},}  {row.flops:>{macs_w},}")
    lines.append(f"  {'':>{path_w}}  {'total':<{name_w}}  {'':<{shape_w}}  {total:>{params_w},}  {macs:>{macs_w},}")
    values = math.prod(input_shape) + sum(row.output_width for row in leaves)
    lines.append(f"  {plural(total, 'parameter')}, {human_bytes(total * BYTES_PER_PARAMETER)} as float32")
    lines.append(f"  per example: {plural(macs, 'multiply-accumulate')} (MACs), "
                 f"{plural(values, 'activation value')} (the input and every layer's output)")
    return "\n".join(line.rstrip() for line in lines)


def _indented(row: LayerInfo) -> str:
    """A layer inside a block is indented under it, two spaces a level."""
    return "  " * (row.path or "").count(".") + row.name


def _settings(r: Report) -> str:
    opt = " ".join(f"{k}={_setting(v)}" for k, v in r.optimizer.settings.items())
    loss = " ".join(f"{k}={_setting(v)}" for k, v in r.loss.settings.items())
    t = r.training
    if t.batches_per_epoch > 1:
        batches = (f"{plural(t.batches_per_epoch, 'batch', 'batches')} of up to {plural(t.batch_size, 'example')} "
                   f"({t.examples:,} in all)")
    else:
        batches = f"1 batch of {plural(t.examples, 'example')}"
    lines = [f"optimizer  {r.optimizer.name}  {opt}",
             f"loss       {r.loss.name}" + (f"  {loss}" if loss else ""),
             f"training   {plural(t.epochs, 'epoch')} x {batches} = {plural(t.epochs * t.batches_per_epoch, 'step')}"]
    lines += setting_lines(r, _setting)
    if r.streamed is not None:
        lines.append(_streamed(r.streamed))
    if t.classes:
        lines.append("classes    " + " ".join(f"{i}={visible(name)}" for i, name in enumerate(t.classes)))
    if t.target_broadcast:
        lines.append(f"target     a 1-value target is used for each of the {r.model.output_width} outputs")
    if r.normalization is not None:
        lines.append(_normalization(r.normalization))
    return "\n".join(lines)


def _streamed(s: StreamInfo) -> str:
    """One line: the data file was read a piece at a time, and how."""
    held = f", {s.held_out:,} held out" if s.held_out else ""
    files = f" from {plural(s.files, 'file')}" if s.files > 1 else ""
    return (f"data       streamed: {plural(s.rows, 'row')}{files}{held} in {plural(s.pieces, 'piece')} of up to "
            f"{human_bytes(s.piece_bytes)}, buffer {plural(s.buffer, 'row')} (memory budget "
            f"{human_bytes(s.memory_budget)})")


def _normalization(n: NormalizationInfo) -> str:
    """One line: how the inputs were scaled, and over which rows (the statistics are in the JSON report)."""
    what = "mean and standard deviation" if n.method == "standard" else "minimum and maximum"
    return (f"normalize  {n.method}: each of the {plural(len(n.shift), 'input')} by its {what} over "
            f"the {plural(n.rows, 'training row')}")


def _setting(value) -> str:
    if isinstance(value, float):
        return num(value)
    if isinstance(value, list):
        return "(" + ", ".join(_setting(v) for v in value) + ")"
    return str(value)


def _losses(r: Report) -> str:
    steps = len(r.losses)
    if not steps:
        return "loss\n  no steps taken"
    per_epoch = r.training.batches_per_epoch
    lrs = r.learning_rates[::per_epoch]  # each epoch's first step's
    if per_epoch == 1:
        lines = _table("step", r.losses, "loss", lrs)
        lines.append(f"final loss {num(r.losses[-1])} after {plural(steps, 'step')}")
    else:
        lines = _table("epoch", r.epoch_losses, "mean loss", lrs) + [_final(r, steps, per_epoch)]
    if r.accuracy is not None:
        lines.append(f"accuracy {100 * r.accuracy:.1f}% on the training data")
    lines += _validation(r)
    lines += stop_lines(r, num)
    if r.stopped:
        lines.append(f"stopped: {r.stopped}")
    return "\n".join(lines)


def _table(unit: str, losses, heading: str, lrs=()) -> list[str]:
    """About LOSS_LINES rows: the first, every n-th and the last; with a schedule, the
    learning rate of each step (of each epoch's first step) beside its loss."""
    count = len(losses)
    every = max(1, count // LOSS_LINES)
    shown = sorted({1, count, *range(every, count + 1, every)})
    width = max(len(unit), len(str(count)))
    if not lrs:
        return ["loss", f"  {unit:>{width}}  {heading}"] + [f"  {n:>{width}}  {num(losses[n - 1])}" for n in shown]
    loss_w = max(len(heading), *(len(num(losses[n - 1])) for n in shown))
    return ["loss", f"  {unit:>{width}}  {heading:<{loss_w}}  lr"] + [
        f"  {n:>{width}}  {num(losses[n - 1]):<{loss_w}}  {num(lrs[n - 1])}" for n in shown]


def _final(r: Report, steps: int, per_epoch: int) -> str:
    epoch = len(r.epoch_losses)
    ran = steps - (epoch - 1) * per_epoch
    over = "the last epoch" if ran == per_epoch else f"the {plural(ran, 'step')} of epoch {epoch} that ran"
    return f"final loss {num(r.epoch_losses[-1])}, the mean over {over}, after {plural(steps, 'step')}"


def _validation(r: Report) -> list[str]:
    v = r.validation
    if v is None or not v.losses:
        return []
    epochs = len(v.losses)
    every = max(1, epochs // LOSS_LINES)
    shown = sorted({1, epochs, *range(every, epochs + 1, every)})
    lines = [f"validation on {plural(v.rows, 'held-out row')}", f"  {'epoch':>5}  loss"]
    lines += [f"  {e:>5}  {num(v.losses[e - 1])}" for e in shown]
    if v.accuracy is not None:
        lines.append(f"accuracy {100 * v.accuracy:.1f}% on the held-out rows")
    return lines


def _parameters(r: Report) -> str:
    width = max(len(n) for n in r.parameters.initial) if r.parameters.initial else 0
    lines = ["parameters"]
    for name, before in r.parameters.initial.items():
        after = r.parameters.final[name]
        lines.append(f"  {name:<{width}}  initial {tensor_text(before)}")
        lines.append(f"  {'':<{width}}  final   {tensor_text(after)}")
    return "\n".join(lines) if len(lines) > 1 else "parameters\n  none"


def tensor_text(tensor) -> str:
    """A tensor as reports and progress lines print it: every value up to 32, else count, mean, min, max."""
    if tensor.numel() <= SHOWN_VALUES:
        return nested(tensor.tolist())
    count, mean, low, high = stats(tensor)
    assert mean is not None and low is not None and high is not None  # the tensor has values
    return f"{count} values, mean {num(mean)}, min {num(low)}, max {num(high)}"


def _eval(r: Report) -> str:
    if not r.eval:
        return ""
    lines = ["eval"]
    for result in r.eval:
        output = result.output if isinstance(result.output, tuple) else (result.output,)
        answer = "" if result.predicted is None else (
            f"  {visible(result.predicted)} (p={num(result.probability or 0.0)})")
        lines.append(f"  {nested(list(result.input))} -> {nested(list(output))}{answer}")
    return "\n".join(lines)


def _test(r: Report) -> str:
    if r.test is None:
        return ""
    from .metrics_text import evaluation_lines

    return "\n".join(["test"] + [f"  {line}" if line else "" for line in evaluation_lines(r.test)])


def _diagnostics(r: Report) -> str:
    if not r.diagnostics:
        return ""
    return "\n".join(["diagnostics"] + [f"  {d.kind}: {d.message}" for d in r.diagnostics])
