"""`nqa predict SPEC --load W --data new.csv [-o out.csv]`, or `--input "[5.1, 3.5, 1.4, 0.2]"`.

In: the parsed command line. Out: for `--data`, a CSV file (standard output by
default, else written atomically) holding each row's input columns and the
network's answer: for a classifier the `predicted` label and one `p_<label>`
column per class; for `bce`/`bce_logits` each output's 0 or 1 under its target's
name and its probability as `p_<name>`; for a regression each output under its
target's name. Rows go through the network in batches and are written as they
come. For `--input`, one example's answer, printed (as JSON with `--json`).
"""

from __future__ import annotations

import csv
import sys
from typing import IO

import torch

from compiler import Limits
from compiler.csv_layout import number
from spec_lang import codes, usage_error, visible

from .answers import Prediction
from .files import check_outputs, spec_inputs, write_atomic, write_atomic_with
from .json_text import json_text
from .outputs import Task, label_text
from .trained import Loaded, batches, load_network, network_inputs, outputs_of, read_rows
from .weights_meta import column_names


def predict_command(args, limits: Limits) -> int:
    if (args.data is None) == (args.input is None):
        raise usage_error("give the rows to predict: --data FILE, or one example with --input",
                          'e.g. `--data new.csv`, or `--input "[5.1, 3.5, 1.4, 0.2]"`', code=codes.MISSING_OPTION)
    if args.json is not None and args.input is None:
        raise usage_error("--json applies to --input", "with --data the predictions are a CSV file: use -o",
                          code=codes.CONFLICTING_OPTIONS)
    output = None if args.output == "-" else args.output
    json_path = None if args.json in (None, "-") else args.json
    check_outputs({"-o": output, "--json": json_path}, _inputs(args))
    loaded = load_network(args.spec, args.load, limits, args.allow_outside_data, "nqa predict")
    check_outputs({"-o": output, "--json": json_path}, {**_inputs(args), **spec_inputs(args.spec, loaded.program)})
    if args.input is not None:
        return _one(loaded, args)
    table = read_rows(loaded, args.data, limits, need_targets=False)
    if output is None:
        _write_rows(loaded, table, sys.stdout)
    else:
        write_atomic_with(output, lambda temp: _write_file(loaded, table, temp))
        print(f"{visible(output)}: {table.rows:,} predictions written", file=sys.stderr)
    return 0


def _inputs(args) -> dict[str, str | None]:
    return {"the spec": args.spec, "the --load file": args.load, "the --data file": args.data}


def _write_file(loaded: Loaded, table, temp: str) -> None:
    with open(temp, "w", encoding="utf-8", newline="") as handle:
        _write_rows(loaded, table, handle)


def _write_rows(loaded: Loaded, table, stream: IO[str]) -> None:
    task, spec = loaded.task, loaded.program.spec
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(_input_names(table) + _output_names(task))
    for start, stop in batches(table):
        inputs = network_inputs(table, spec, start, stop, loaded.normalization)
        outputs = outputs_of(loaded.model, spec, inputs)
        rows = table.inputs[start * table.input_width:stop * table.input_width].tolist()
        width = table.input_width
        answers = _answers(task, outputs)
        for index, answer in enumerate(answers):
            writer.writerow([_number(v) for v in rows[index * width:(index + 1) * width]] + answer)


def _input_names(table) -> list[str]:
    names = column_names(table.input_names)
    if len(names) == table.input_width:
        return names
    prefix = names[0] if len(names) == 1 else "input"
    return [f"{prefix}_{i}" for i in range(table.input_width)]


def _output_names(task: Task) -> list[str]:
    if task.kind == "classes":
        return ["predicted"] + [label_text(label) for label in task.labels]
    if task.kind == "binary":
        return [name for output in task.names for name in (output, label_text(output))]
    return list(task.names)


def _answers(task: Task, outputs: torch.Tensor) -> list[list[str]]:
    """Each row's cells after its inputs: as `_output_names` names them."""
    if task.kind == "values":
        return [[_number(v) for v in row] for row in outputs.tolist()]
    chances = task.probabilities(outputs)
    chosen = task.predicted(chances).tolist()
    if task.kind == "classes":
        return [[task.labels[pick]] + [repr(p) for p in row]
                for pick, row in zip(chosen, chances.tolist(), strict=True)]
    return [[cell for pick, p in zip(picks, row, strict=True) for cell in (str(pick), repr(p))]
            for picks, row in zip(chosen, chances.tolist(), strict=True)]


def _number(value: float) -> str:
    """A value as the CSV file holds it: in full, whole numbers without `.0`."""
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(float(value))


def parse_vector(text: str, width: int) -> list[float]:
    """`--input "[5.1, 3.5, 1.4, 0.2]"` (brackets optional, but both or neither): the example's values,
    written as numbers in a spec, each fitting float32 as a data file's cells must."""
    from compiler.statement import fits_float32

    hint = 'give the example\'s values, e.g. `--input "[5.1, 3.5, 1.4, 0.2]"`'
    stripped = text.strip()
    if stripped.startswith("[") != stripped.endswith("]") or stripped == "[":
        raise usage_error("--input has a `[` without its `]`, or a `]` without its `[`", hint, code=codes.BAD_INPUT)
    inner = stripped.removeprefix("[").removesuffix("]")
    cells = inner.split(",") if inner.strip() else []
    found = [number(cell) for cell in cells]
    bad = next((cell for cell, value in zip(cells, found, strict=True) if value is None), None)
    if bad is not None:
        raise usage_error(f"--input `{visible(bad.strip()[:40])}` is not a finite number", hint, code=codes.BAD_INPUT)
    if not cells:
        raise usage_error("--input holds no values", hint, code=codes.BAD_INPUT)
    values = [v for v in found if v is not None]  # every one, as none was refused above
    large = next((cell for cell, value in zip(cells, values, strict=True) if not fits_float32(value)), None)
    if large is not None:
        raise usage_error(f"--input `{visible(large.strip()[:40])}` is too large for float32",
                          "networks compute in float32, which holds values up to about 3.4e38", code=codes.BAD_INPUT)
    if len(found) != width:
        raise usage_error(f"--input has {len(found)} value{'s' * (len(found) != 1)}, but the network takes {width}",
                          f"give {width} values, in the order of the training data's input columns",
                          code=codes.BAD_INPUT)
    return values


def _one(loaded: Loaded, args) -> int:
    from .trained import ids_taken

    spec = loaded.program.spec
    vector = parse_vector(args.input, spec.input_width)
    ids = ids_taken(spec)
    trouble = next((ids.problem(v, f"{v:g}") for v in vector if ids.problem(v, f"{v:g}")), None) if ids else None
    if trouble:
        raise usage_error(f"--input: {trouble}", ids.hint if ids else "", code=codes.BAD_INPUT)
    from array import array

    from compiler.data_table import Table

    row = Table("--input", array("d", vector), array("d"), (), (), input_shape=spec.input_type.sizes)
    inputs = network_inputs(row, spec, 0, 1, loaded.normalization)  # as a file's rows are given to the network
    prediction = predict_one(loaded.task, vector, outputs_of(loaded.model, spec, inputs)[0])
    if args.json is not None:
        if args.json == "-":
            sys.stdout.write(json_text(prediction))
            return 0
        write_atomic(args.json, json_text(prediction))
    sys.stdout.write(prediction_text(prediction))
    return 0


def predict_one(task: Task, vector: list[float], output: torch.Tensor) -> Prediction:
    chances = task.probabilities(output.unsqueeze(0))
    picks = task.predicted(chances)[0]
    raw = tuple(output.tolist())
    if task.kind == "classes":
        pick = int(picks)
        return Prediction(input=tuple(vector), output=raw, predicted=task.labels[pick],
                          probability=float(chances[0, pick]),
                          probabilities=dict(zip(task.labels, chances[0].tolist(), strict=True)))
    if task.kind == "binary":
        return Prediction(input=tuple(vector), output=raw,
                          probabilities=dict(zip(task.names, chances[0].tolist(), strict=True)),
                          values={name: float(p) for name, p in zip(task.names, picks.tolist(), strict=True)})
    return Prediction(input=tuple(vector), output=raw, values=dict(zip(task.names, raw, strict=True)))


def prediction_text(p: Prediction) -> str:
    from .text_report import nested, num

    lines = [f"input  {nested(list(p.input))}", f"output {nested(list(p.output))}"]
    if p.predicted is not None and p.probabilities is not None:
        lines.append(f"predicted {visible(p.predicted)} (p={num(p.probability or 0.0)})")
        width = max(len(visible(label)) for label in p.probabilities)
        lines += [f"  {visible(label):<{width}}  {num(chance)}" for label, chance in p.probabilities.items()]
    elif p.probabilities is not None and p.values is not None:
        lines += [f"{visible(name)} {p.values[name]:g} (p={num(chance)})" for name, chance in p.probabilities.items()]
    elif p.values is not None:
        lines += [f"{visible(name)} {num(value)}" for name, value in p.values.items()]
    return "\n".join(lines) + "\n"

