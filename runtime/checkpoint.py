"""Saving and loading trained weights as safetensors.

In: a model, the program it was built from and the seed (to save); a file, a
freshly built model and its program (to load). Out: a `.safetensors` file
holding the `state_dict` tensors with the spec text, seed and versions as
metadata (and the network's fingerprint, its class labels and column
names: `weights_meta`), written atomically; or the weights copied into the model. Loading
reads tensors only (safetensors never unpickles objects) and refuses weights
whose names, shapes or types (float32, not integers, float16 or float64) do
not fit the spec, pointing at the layer concerned.
A weights file is read only when it is a regular file of bounded size
(4 bytes a parameter, at most --max-params of them or the spec's count, plus
a header of bounded size). The weights of a run that did not finish go to
`partial_path(path)`, never over the file at `path`.
With `normalize`, the metadata also holds the input statistics (`nqa_normalize`).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from compiler import Limits, Program
from compiler.limits import BYTES_PER_PARAMETER
from spec_lang import Diagnostic, SpecError, codes, usage_error
from spec_lang.files import MISSING, TOO_LARGE, ReadProblem, read_bounded

from .files import write_atomic_with
from .safetensors_file import save_sorted


def save_weights(path: Path, model: nn.Module, program: Program, seed: int) -> None:
    from . import version
    from .normalize import weights_metadata
    from .weights_meta import metadata_for

    tensors = {name: t.detach().cpu().contiguous() for name, t in model.state_dict().items()}
    metadata = {"nqa_spec": program.source, "nqa_spec_file": program.filename, "nqa_seed": str(seed),
                "nqa_version": version(), "torch_version": torch.__version__,
                **metadata_for(program), **weights_metadata(program, seed)}  # `normalize`'s statistics
    write_atomic_with(path, lambda temp: save_sorted(tensors, temp, metadata))  # streamed, not held whole


def partial_path(path: str | Path) -> str:
    """Where the weights of a run that did not finish go: `out.safetensors` -> `out.partial.safetensors`."""
    text = str(path)
    return text.removesuffix(".safetensors") + ".partial.safetensors"


HEADER_LIMIT = 16_000_000  # the spec (at most 1 MB, escaped in JSON), its versions and a line a tensor


def weights_limit(values: int | None = None) -> int:
    """The most bytes a weights file may hold: a network of `values` values (parameters and
    buffers) and its header; by default, the largest network the default limits allow."""
    return (Limits().max_params if values is None else values) * BYTES_PER_PARAMETER + HEADER_LIMIT


def read_metadata(path: Path) -> dict[str, str]:
    """The metadata a weights file was saved with (spec text, seed, versions)."""
    data = _bounded(path, weights_limit())
    size = int.from_bytes(data[:8], "little")
    try:
        if len(data) < 8 or size > min(HEADER_LIMIT, len(data) - 8):
            raise ValueError("no header")
        return dict(json.loads(data[8:8 + size]).get("__metadata__") or {})
    except (ValueError, AttributeError, RecursionError):
        raise usage_error(f"`{path}` is not a safetensors file", "pass a file written by `nqa run --save`",
                          code=codes.NOT_WEIGHTS) from None


def load_weights(path: Path, model: nn.Module, program: Program) -> None:
    expected = model.state_dict()
    tensors = _read(path, sum(t.numel() for t in expected.values()))
    problems = [_mismatch(path, name, tensors.get(name), tensor, program)
                for name, tensor in expected.items() if not _fits(tensors.get(name), tensor)]
    for name, saved in tensors.items():  # a diverged run's weights would be blamed on the learning rate
        if name in expected and _fits(saved, expected[name]) and saved.is_floating_point() \
                and not saved.isfinite().all():
            span = program.span_of(name)
            problems.append(Diagnostic(
                f"`{path}` holds {'NaN' if saved.isnan().any() else 'infinite'} values in `{name}`", span,
                f"`{name}` is not finite", hint="these weights are from a run whose loss stopped being finite: "
                                                 "load weights from a run that finished, or leave out --load",
                                       code=codes.WEIGHTS_NOT_FINITE))
    extra = sorted(set(tensors) - set(expected))
    if extra:
        problems.append(Diagnostic(f"`{path}` holds weights this spec has no place for: "
                                   + ", ".join(f"`{n}`" for n in extra[:5]), None,
                                   hint="load weights saved from the same network", code=codes.WEIGHTS_MISMATCH))
    if problems:
        raise SpecError(problems, program.source, program.filename)
    with torch.no_grad():
        for name, tensor in expected.items():
            tensor.copy_(tensors[name])


def load_state(path: Path, program: Program) -> dict[str, list]:
    """Saved weights as nested lists by name (for drawing), checked against the spec."""
    from compiler import compile_spec

    model = compile_spec(program)
    load_weights(path, model, program)
    return {name: t.tolist() for name, t in model.state_dict().items()}


def _read(path: Path, values: int) -> dict[str, torch.Tensor]:
    """The tensors of a weights file, read only if it is no larger than a network of
    `values` values (the one they are for) and its header can be."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    data = _bounded(path, weights_limit(values), values)
    header = int.from_bytes(data[:8], "little")
    try:
        if header > HEADER_LIMIT:  # read before safetensors parses that much JSON
            raise ValueError(f"its header would be {header:,} bytes, over the limit of {HEADER_LIMIT:,}")
        return load(data)
    except (SafetensorError, ValueError, OSError) as err:
        why = ("it looks like a PyTorch or pickle file, and nqa never unpickles"
               if data[:2] == b"PK" or data[:1] == b"\x80" else str(err))
    raise usage_error(f"`{path}` is not a safetensors file ({why})", "pass a file written by `nqa run --save`",
                      code=codes.NOT_WEIGHTS)


def _bounded(path: Path, limit: int, values: int | None = None) -> bytes:
    """The bytes of a weights file, read only if it is a regular file of at most `limit`
    bytes (for a network of `values` values, when that is known)."""
    try:
        return read_bounded(path, limit, "weights file")
    except ReadProblem as problem:
        message, code = problem.message, codes.FILE_TOO_LARGE if problem.kind == TOO_LARGE else codes.NOT_WEIGHTS
        if problem.kind == TOO_LARGE and values is not None:
            message = (f"`{path}` is larger than the weights of this spec can be: they are {values:,} values, "
                       f"at most {limit:,} bytes with their header")
            code = codes.WEIGHTS_MISMATCH
        hint = ("check the path to the weights file" if problem.kind == MISSING else
                "load weights saved from this spec with `nqa run --save`")
        raise usage_error(message, hint, code=code) from None


def _fits(saved: torch.Tensor | None, wanted: torch.Tensor) -> bool:
    """A saved tensor of the shape and the type the model's own has: integers are not weights,
    and float16 or float64 would be silently rounded."""
    return saved is not None and saved.shape == wanted.shape and saved.dtype == wanted.dtype


def _mismatch(path: Path, name: str, saved: torch.Tensor | None, wanted: torch.Tensor,
              program: Program) -> Diagnostic:
    span = program.span_of(name)
    shape = list(wanted.shape)
    if saved is None:
        return Diagnostic(f"`{path}` has no `{name}`, which this layer needs (shape {shape})", span,
                          "its weights are missing", hint="load weights saved from the same network",
                          code=codes.WEIGHTS_MISMATCH)
    if saved.shape != wanted.shape:
        return Diagnostic(f"`{path}` has `{name}` of shape {list(saved.shape)}, but this layer needs {shape}",
                          span, f"needs {name} of shape {shape}", hint="load weights saved from the same network",
                          code=codes.WEIGHTS_MISMATCH)
    have, need = _type_name(saved.dtype), _type_name(wanted.dtype)
    return Diagnostic(f"`{path}` has `{name}` of type {have}, but this layer needs {need}", span,
                      f"needs {name} of type {need}",
                      hint=f"load weights saved by `nqa run --save`, which are {need}", code=codes.WEIGHTS_MISMATCH)


def _type_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")
