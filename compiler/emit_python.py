"""`nqa compile FILE --emit python`: the plain PyTorch program a spec stands for.

In: a checked `Program`. Out: the text of a standalone script in the
tutorial's style — the source of any module nqa adds to torch's (so the
script never imports nqa), a module class wrapping the `nn.Sequential`, the optimizer,
the loss, the training loop (with the spec's schedule, clipping and early
stopping: `emit_control`), the prints — that, run with the same seed,
prints the same loss at every step and the same final weights as `nqa run`
(as `repr` of Python floats, so they can be compared exactly). The training
rows, from `example` statements and any data file, are written into the script.
User text reaches the script only as the spec's file name in a comment (with
control characters spelt out, below its first two lines, where Python reads an
encoding declaration) and class labels through `repr`; numbers through `repr`.
"""

from __future__ import annotations

import textwrap

from spec_lang import visible

from .data_rules import batch_rows, held_out_rows, plain_vector
from .emit_control import loop_parts
from .inits import FUNCTION, HOME
from .layers.base import source_of
from .model import Program
from .stream_checks import refuse_streamed

MODULES = "compiler.modules"  # where nqa's own modules and `normalize`'s arithmetic live

HEADER = '''\
# The plain PyTorch program a spec stands for, written by `nqa compile --emit python`.
# Run with the same seed, it prints the same losses and final weights as `nqa run` of the spec.
# spec: {name}
import torch
import torch.nn as nn

SEED = {seed}
'''

MODEL = '''
{definitions}
class SimpleNN(nn.Module):
    def __init__(self{statistics}):
        super().__init__()
{normalize}        self.stack = nn.Sequential(
{modules}
        )

    def forward(self, x):
        return self.stack({x})

{fit}
torch.manual_seed(SEED)
net = SimpleNN({statistics_args})
print(net)
optimiser = torch.optim.{optimizer}(net.parameters(){optimizer_args})
loss_criterion = nn.{loss}({loss_args})
'''

LOOP = '''
net.train()
step = 0
{stop_setup}for epoch in range({epochs}):
{epoch_start}    for x, target in batches():
        optimiser.zero_grad()
        output = net(x)
        loss = loss_criterion(output, target)
        step += 1
        print(f"step {{step}}: loss = {{loss.item()!r}}")
        loss.backward()
{before_step}        optimiser.step()
{after_step}{validation}{after_epoch}
{restore}net.eval()
for name, tensor in net.stack.state_dict().items():
    print(f"final {{name}} = {{tensor.tolist()!r}}")
with torch.no_grad():
{evals}'''


def emit_python(program: Program, seed: int | None = None) -> str:
    spec = program.spec
    parts = [HEADER.format(name=_comment_text(program.filename), seed=spec.seed if seed is None else seed),
             _data(program)]
    modules = "\n".join(textwrap.indent(f"{layer.source(t)},", " " * 12)
                         for layer, t in zip(spec.layers, spec.types(), strict=False))
    parts.append(MODEL.format(definitions=_definitions(program), modules=modules, **_normalizing(program),
                              optimizer=spec.optimizer.torch_name,
                              optimizer_args="".join(f", {k}={v!r}" for k, v in spec.optimizer.torch_kwargs().items()),
                              loss=spec.loss.torch_name,
                              loss_args=", ".join(f"{k}={v!r}" for k, v in spec.loss.torch_kwargs().items())))
    control = loop_parts(program, _batch_rows(program))
    parts.append(control.pop("setup"))
    parts.append(_batches(program))
    ids = ", dtype=torch.long" if spec.input_type.dtype == "int64" else ""
    batched = "" if plain_vector(spec) else ".unsqueeze(0))[0].flatten("  # one example as a batch of one row
    evals = "".join(f"    print(f\"eval {list(v)!r} -> {{net(torch.tensor({list(v)!r}{ids}){batched}).tolist()!r}}\")\n"
                    for v in spec.evals) or "    pass\n"
    parts.append(LOOP.format(epochs=spec.epochs, evals=evals, validation=_validation(program), **control))
    return "".join(parts)


def _definitions(program: Program) -> str:
    """The class of each module nqa adds to torch's (`GlobalAvgPool`, its `LSTM`), and the function
    that draws weights as `init` says, once, in order: the script builds them as nqa does without importing nqa."""
    spec = program.spec
    calls = [call for layer, t in zip(spec.layers, spec.types(), strict=False) for call in layer.calls(t)]
    own = {call.name: call.definition() for call in calls if call.home != "torch.nn"}
    if any(getattr(layer, "init", None) is not None for layer in spec.flat()[0]):  # layers with weights have one
        own[FUNCTION] = source_of(HOME, FUNCTION)
    if spec.normalize is not None:
        own.update({name: source_of(MODULES, name) for name in ("normalizing_statistics", "Normalize")})
    if not own:
        return ""
    return ("\n# nqa's own modules and weight drawing, as compiler/modules.py and compiler/initialise.py define them\n"
            + "\n\n\n".join(own.values()) + "\n\n")


def _normalizing(program: Program) -> dict[str, str]:
    """With `normalize`: the statistics taken from the training rows (after `validate` holds its rows
    out), as the run takes them, and a `Normalize` module ahead of the layers; else the plain network."""
    method = program.spec.normalize
    if method is None:
        return {"statistics": "", "normalize": "", "x": "x", "fit": "", "statistics_args": ""}
    return {"statistics": ", shift, scale", "normalize": "        self.normalize = Normalize(shift, scale)\n",
            "x": "self.normalize(x)", "statistics_args": "shift, scale",
            "fit": (f"\n# `normalize {method}`: each input value's statistics over the training rows, in float64\n"
                    f"shift, scale = normalizing_statistics(inputs, {method!r})\n")}


def _comment_text(text: str) -> str:
    """User text made safe in a comment: every character that could end the line spelt out.
    (It is never on the first two lines, where Python would read `coding: utf-7` as the file's encoding.)"""
    return visible(text)


def _rows(program: Program) -> tuple[list[list[float]], list[list[float]]]:
    """Every training row's inputs and targets as Python numbers (ints for ids), examples first."""
    refuse_streamed(program, "`--emit python`", "raise --memory-budget to read the file whole")
    spec, table = program.spec, program.table
    inputs = [list(e.input) for e in spec.examples]
    targets = [list(e.target) for e in spec.examples]
    if table is not None:
        w, t = table.input_width, table.target_width
        inputs += [table.row(table.inputs, i, w) for i in range(table.rows)]
        targets += [table.row(table.targets, i, t) for i in range(table.rows)]
    number = int if spec.input_type.dtype == "int64" else float
    inputs = [[number(v) for v in row] for row in inputs]
    outputs = spec.output_width
    targets = [[float(v) for v in row] for row in targets]
    if not spec.loss.class_targets:
        targets = [row if len(row) == outputs else row * outputs for row in targets]
    return inputs, targets


def _data(program: Program) -> str:
    spec = program.spec
    inputs, targets = _rows(program)
    if spec.loss.class_targets:
        target_text = "torch.tensor(" + repr([int(r[0]) for r in targets]) + ", dtype=torch.long)"
    else:
        target_text = "torch.tensor([\n" + "".join(f"    {r!r},\n" for r in targets) + "])"
        target_text += _reshape(spec.output_type.sizes)
    ids = ", dtype=torch.long" if spec.input_type.dtype == "int64" else ""
    lines = ["\n# the training rows: inputs, and the target of each",
             "inputs = torch.tensor([\n" + "".join(f"    {r!r},\n" for r in inputs) + f"]{ids})"
             + _reshape(spec.input_type.sizes),
             f"targets = {target_text}"]
    if program.table is not None and program.table.classes:
        lines.append(f"# classes: {dict(enumerate(program.table.classes))}")
    if spec.held_out:
        count = len(inputs)
        held = _held(program)
        lines += ["# `validate`: rows held out, chosen with a generator seeded like the run",
                  f"order = torch.randperm({count}, generator=torch.Generator().manual_seed(SEED))",
                  f"keep, out = order[{held}:].sort().values, order[:{held}].sort().values",
                  "held_inputs, held_targets = inputs[out], targets[out]",
                  "inputs, targets = inputs[keep], targets[keep]"]
    return "\n".join(lines) + "\n"


def _reshape(sizes: tuple[int, ...]) -> str:
    """Rows written flat, reshaped to one example's shape: nothing to add for a vector."""
    return "" if len(sizes) == 1 else f".reshape(-1, {', '.join(map(str, sizes))})"


def _held(program: Program) -> int:
    """How many rows `validate` holds out (as the runtime computes it)."""
    count = len(_rows(program)[0])
    return held_out_rows(program.spec.held_out, count) if program.spec.held_out else 0


def _batch_rows(program: Program) -> list[int]:
    """The rows of each batch of an epoch, as training splits them."""
    return batch_rows(len(_rows(program)[0]) - _held(program), program.spec.batch)


def _batches(program: Program) -> str:
    spec = program.spec
    rows = len(_rows(program)[0]) - _held(program)
    if rows == 1 and plain_vector(spec):
        return ("\n\n# one example: fed as a plain vector, as in the tutorial\n"
                "def batches():\n    yield inputs[0], targets[0]\n\n")
    if spec.batch is None and not spec.shuffle:
        return "\n\n# the whole set in one batch\ndef batches():\n    yield inputs, targets\n\n"
    order = "torch.randperm(len(inputs), generator=shuffler)" if spec.shuffle else "torch.arange(len(inputs))"
    return (f"\nshuffler = torch.Generator().manual_seed(SEED)\n\n\ndef batches():\n"
            f"    order = {order}\n"
            f"    for start in range(0, len(inputs), {spec.batch or rows}):\n"
            f"        index = order[start:start + {spec.batch or rows}]\n"
            f"        yield inputs[index], targets[index]\n\n")


def _validation(program: Program) -> str:
    if not program.spec.held_out:
        return ""
    return ("    net.eval()\n    with torch.no_grad():\n"
            "        held_loss = loss_criterion(net(held_inputs), held_targets).item()\n"
            "        print(f\"epoch {epoch + 1}: validation loss = {held_loss!r}\")\n    net.train()\n")
