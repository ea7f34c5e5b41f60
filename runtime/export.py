"""`nqa export FILE --onnx model.onnx`: the network in ONNX, trained or not.

In: a spec, how to get its weights (train it as `nqa run` would, or
`--untrained`: only seeded and built) and the output path. Out: an ONNX model
whose input has the spec's per-example shape and dtype (int64 for token ids)
after a dynamic batch dimension, written atomically, made by PyTorch's exporter
(the `onnx` extra: onnx and onnxscript, imported only here). With `normalize`,
the graph's first step scales the raw inputs by the training rows' statistics
(constants), as the run scaled them.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path

import torch

from compiler import Program, compile_spec
from spec_lang import codes, usage_error

from .files import write_atomic
from .normalize import Normalization


def export_onnx(model: torch.nn.Module, program: Program, path: Path,
                normalization: Normalization | None = None) -> None:
    missing = [name for name in ("onnx", "onnxscript") if importlib.util.find_spec(name) is None]
    if missing:
        raise usage_error(f"ONNX export needs {' and '.join(missing)}, which "
                          f"{'is' if len(missing) == 1 else 'are'} not installed",
                          "install them with `pip install 'nqa[onnx]'`", code=codes.MISSING_PACKAGE)
    model = model.cpu().eval()
    if normalization is not None:  # the graph takes raw inputs, as the data file holds them
        model = torch.nn.Sequential(normalization.module(), model).eval()
    example = example_input(program)
    batch = torch.export.Dim("batch", min=1)
    with _quiet():
        exported = torch.onnx.export(model, (example,), input_names=["input"], output_names=["output"],
                                     dynamic_shapes=({0: batch},), dynamo=True, verbose=False)
    write_atomic(path, exported.model_proto.SerializeToString())  # type: ignore[union-attr]  # dynamo: never None


def example_input(program: Program, batch: int = 2) -> torch.Tensor:
    """Zeros of the input type's shape and dtype (int64 for token ids; 0 is a valid id), `batch` rows."""
    t = program.spec.input_type
    return torch.zeros(batch, *t.sizes, dtype=torch.long if t.dtype == "int64" else torch.float32)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The exporter's progress lines, log messages and warnings are not the user's business."""
    exporter_log = logging.getLogger("torch.onnx")
    level = exporter_log.level
    exporter_log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        exporter_log.setLevel(level)


def untrained(program: Program, seed: int | None) -> torch.nn.Module:
    """The network as built after seeding, before any training."""
    torch.manual_seed(program.spec.seed if seed is None else seed)
    return compile_spec(program)
