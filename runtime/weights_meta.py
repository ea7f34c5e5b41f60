"""What a weights file says about the network it belongs to: its fingerprint, its description, its labels.

In: a checked program (to save), or a weights file's metadata and the program
it is loaded into (to compare). Out: the metadata `--save` writes beside the
tensors — `nqa_fingerprint` (sha256 of the network's description),
`nqa_network` (that description: the input type, each layer with its place,
blocks included, and the loss, as JSON lines), `nqa_classes` (the training
data's text class labels), `nqa_inputs` and `nqa_targets` (its column names) —
and `Saved`, read back from a file. `check_same_network` refuses, as a located
`SpecError`, weights of another network, saying what differs. Epochs, the
learning rate, the seed and the data are not part of the network: weights
trained with other settings still fit. Weights saved before fingerprints
existed carry none; they are checked by their tensors' names and shapes alone.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from compiler import CheckedSpec, Program
from spec_lang import Diagnostic, SpecError, codes, parse, usage_error

FINGERPRINT, NETWORK, CLASSES, INPUTS, TARGETS = ("nqa_fingerprint", "nqa_network", "nqa_classes", "nqa_inputs",
                                                  "nqa_targets")
_GENERATED = re.compile(r"column [0-9]+")  # the name a column of a file without a header is given


def network_lines(spec: CheckedSpec) -> list[str]:
    """The network as text: `input [4] float32`, then `0 linear in_features=4 out_features=16 bias=True`
    (a block's layers by their path, `2.0 ...`), then `loss cross_entropy`."""
    lines = [f"input {list(spec.input_type.sizes)} {spec.input_type.dtype}"]
    for step in spec.steps():
        lines.append(f"{step.path} {layer_text(step.layer)}")
    lines.append(f"loss {spec.loss.keyword}")
    return lines


def layer_text(layer: Any) -> str:
    """A layer as its keyword and settings (a block's own: its layers come on their own lines)."""
    fields = layer.model_dump(exclude={"kind", "init", "layers"})
    settings = " ".join(f"{name}={_value(value)}" for name, value in fields.items() if not isinstance(value, tuple)
                        or not value or not isinstance(value[0], dict))
    return f"{layer.keyword} {settings}".strip()


def _value(value: Any) -> str:
    return "x".join(map(str, value)) if isinstance(value, tuple) else str(value)


def fingerprint(lines: list[str]) -> str:
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def column_names(names: tuple[str, ...]) -> list[str]:
    """A file's column names, or none when it had no header (its columns were only numbered)."""
    return [] if all(_GENERATED.fullmatch(name) for name in names) else list(names)


def metadata_for(program: Program) -> dict[str, str]:
    lines = network_lines(program.spec)
    table = program.table
    return {FINGERPRINT: fingerprint(lines), NETWORK: json.dumps(lines),
            CLASSES: json.dumps(list(table.classes) if table else []),
            INPUTS: json.dumps(column_names(table.input_names) if table else []),
            TARGETS: json.dumps(column_names(table.target_names) if table else [])}


@dataclass(frozen=True)
class Saved:
    """What a weights file's metadata says of its network; `fingerprint` None: saved before nqa wrote one."""

    fingerprint: str | None
    network: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()


def saved(metadata: dict[str, str]) -> Saved:
    def listed(key: str) -> tuple[str, ...]:
        try:
            value = json.loads(metadata.get(key) or "[]")
        except ValueError:
            return ()
        return tuple(str(v) for v in value) if isinstance(value, list) else ()

    return Saved(metadata.get(FINGERPRINT), listed(NETWORK), listed(CLASSES), listed(INPUTS), listed(TARGETS))


def check_same_network(path: str, program: Program, found: Saved) -> None:
    """Refuse weights trained for another network than `program`'s, saying the first thing that differs."""
    lines = network_lines(program.spec)
    if found.fingerprint is not None and found.fingerprint != fingerprint(lines):
        raise SpecError(_difference(path, program, lines, list(found.network)), program.source, program.filename)
    spec, was = program.spec, _WAS.format(path=path)
    if found.classes and spec.loss.class_targets and (
            len(found.classes) > spec.output_width or len(set(found.classes)) != len(found.classes)):
        raise usage_error(f"`{path}` holds {len(found.classes)} class labels ({len(set(found.classes))} different), "
                          f"which do not fit a network of {spec.output_width} outputs", _HINT,
                          code=codes.WEIGHTS_MISMATCH)
    ours = column_names(program.table.input_names) if program.table is not None else []
    if found.inputs and ours and list(found.inputs) != ours:
        raise SpecError(Diagnostic(f"the input columns are {_listed(ours)} in this spec, but "
                                   f"{_listed(found.inputs)} {was}", program.data_span,
                                   "other input columns", hint="name the input columns in the order the network "
                                   "was trained on, or train this spec again with `nqa run --save`",
                                   code=codes.WEIGHTS_MISMATCH),
                        program.source, program.filename)


def _listed(names) -> str:
    shown = ", ".join(f"`{name}`" for name in list(names)[:8])
    return shown + (f" and {len(names) - 8} more" if len(names) > 8 else "")


_WAS = "in the spec the weights in `{path}` were trained with"
_HINT = "load weights saved from this network, or train this spec again with `nqa run --save`"


def _difference(path: str, program: Program, ours: list[str], theirs: list[str]) -> Diagnostic:
    was = _WAS.format(path=path)
    if not theirs:
        return Diagnostic(f"`{path}` was saved from another network", None, hint=_HINT, code=codes.WEIGHTS_MISMATCH)
    if ours[0] != theirs[0]:
        return Diagnostic(f"the network takes `{ours[0].removeprefix('input ')}` in this spec, but "
                          f"`{theirs[0].removeprefix('input ')}` {was}", program.data_span or _layer_span(program, "0"),
                          "a different input", hint=_HINT, code=codes.WEIGHTS_MISMATCH)
    if ours[-1] != theirs[-1]:
        return Diagnostic(f"the loss is `{ours[-1].removeprefix('loss ')}` in this spec, but "
                          f"`{theirs[-1].removeprefix('loss ')}` {was}",
                          _statement_span(program, "loss"), "a different loss", hint=_HINT, code=codes.WEIGHTS_MISMATCH)
    mine, other = dict(_layers(ours[1:-1])), dict(_layers(theirs[1:-1]))
    for place, text in _layers(ours[1:-1]):
        if other.get(place) != text:
            number = _number(place)
            label = "not in the other network" if place not in other else f"was `{other[place]}`"
            said = (f"{number} is `{text}` in this spec, but `{other[place]}` {was}" if place in other else
                    f"{number} (`{text}`) is in this spec, but not {was}")
            return Diagnostic(said, _layer_span(program, place), label, hint=_HINT, code=codes.WEIGHTS_MISMATCH)
    extra = next(place for place, _ in _layers(theirs[1:-1]) if place not in mine)
    return Diagnostic(f"{_number(extra)} (`{other[extra]}`) is {was}, but not in this spec", None, hint=_HINT,
                      code=codes.WEIGHTS_MISMATCH)


def _layers(lines: list[str]) -> list[tuple[str, str]]:
    return [(line.split(" ", 1)[0], line.split(" ", 1)[1] if " " in line else "") for line in lines]


def _number(place: str) -> str:
    """`2` -> `layer 3`; `2.0` -> `layer 1 of the block at layer 3` (counted from 1, as people count)."""
    parts = [int(p) + 1 for p in place.split(".")]
    if len(parts) == 1:
        return f"layer {parts[0]}"
    return f"layer {parts[-1]} of the block at layer " + ".".join(map(str, parts[:-1]))


def _layer_span(program: Program, place: str):
    return program.span_of(place)


def _statement_span(program: Program, name: str):
    """Where the statement `name` is in the spec (parsed again: the checked spec keeps no place for it)."""
    try:
        tree = parse(program.source, program.filename)
    except SpecError:
        return None
    return next((stmt.span for stmt in tree.statements if stmt.name == name), None)

