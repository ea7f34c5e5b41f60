"""Normalised inputs at run time: the training rows' statistics, kept with the run and applied.

In: the method a spec asks for (`normalize`, or `data`'s `normalize=`) and the
run's training inputs `[N, *shape]`, after `validate` has held its rows out
(`data.dataset` calls `Normalization.fit` there); or the metadata of a weights
file written by `nqa run --save`. Out: `Normalization` — the shift and scale of
each input value, taken in float64 by `compiler.modules.normalizing_statistics`
and applied in float32 by `compiler.modules.Normalize` (the one place of that
arithmetic, which `--emit python` copies) — with:

- `apply(inputs)`: raw inputs (a batch `[N, *shape]`, or one example) scaled,
  on their own device, without gradients;
- `module()`: an `nn.Module` doing the same, to put in front of the trained
  network (ONNX export, predicting);
- `metadata()` / `Normalization.from_metadata(metadata)`: the weights file's
  `nqa_normalize` entry (JSON text) and back (None when the file has none);
  `weights_metadata(program, seed)`, the entry `save_weights` adds, and
  `of_program(program, seed)`, the statistics of a run not at hand;
- `info()`: the report's `NormalizationInfo`; `diagnostic()`: a note naming
  the inputs that were constant over the training rows (scaled by 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from pydantic import ValidationError
from torch import nn

from compiler import Program
from compiler.modules import Normalize, normalizing_statistics
from spec_lang import codes, usage_error, visible

from .report import DiagnosticEntry, NormalizationInfo

METADATA_KEY = "nqa_normalize"
NAMED = 5  # constant inputs named in the diagnostic, at most


@dataclass(frozen=True)
class Normalization:
    method: str  # "standard" or "minmax"
    shift: torch.Tensor  # float64, one example's shape: the mean or the minimum of each input value
    scale: torch.Tensor  # float64, the same shape: the standard deviation or max - min; 1 where constant
    rows: int  # the training rows the statistics came from
    constant: tuple[int, ...] = ()  # the input values (flat indices) that were the same in every training row
    names: tuple[str, ...] = ()  # each input value's column name, when the data file gives one per value

    @classmethod
    def fit(cls, method: str, inputs: torch.Tensor, names: tuple[str, ...] = ()) -> Normalization:
        """The statistics of the training rows `inputs` [N, *shape] (float32, as the network takes them)."""
        shift, scale = normalizing_statistics(inputs, method)
        flat = inputs.reshape(len(inputs), -1)
        constant = tuple(int(i) for i in (flat == flat[0]).all(dim=0).nonzero().flatten())
        return cls(method, shift, scale, len(inputs), constant, names if len(names) == shift.numel() else ())

    def module(self) -> nn.Module:
        """A module taking raw inputs to the scaled ones the network was trained on (float32 buffers)."""
        return Normalize(self.shift, self.scale)

    def apply(self, inputs: torch.Tensor) -> torch.Tensor:
        """Raw float inputs of one example's shape, with or without a batch dim, scaled (on their device)."""
        with torch.no_grad():
            scaled: torch.Tensor = self.module().to(inputs.device)(inputs)
        return scaled

    def info(self) -> NormalizationInfo:
        return NormalizationInfo(method=self.method, rows=self.rows,  # type: ignore[arg-type]  # a checked method
                                 shape=tuple(self.shift.shape), inputs=self.names,
                                 shift=tuple(self.shift.flatten().tolist()),
                                 scale=tuple(self.scale.flatten().tolist()), constant=self.constant)

    def metadata(self) -> dict[str, str]:
        """The weights file's entry: the report's `normalization`, as JSON text (floats exact)."""
        return {METADATA_KEY: self.info().model_dump_json()}

    @classmethod
    def from_info(cls, info: NormalizationInfo) -> Normalization:
        shape = info.shape
        return cls(info.method, torch.tensor(info.shift, dtype=torch.float64).reshape(shape),
                   torch.tensor(info.scale, dtype=torch.float64).reshape(shape), info.rows, info.constant,
                   info.inputs)

    @classmethod
    def from_metadata(cls, metadata: dict[str, str]) -> Normalization | None:
        """The statistics a weights file was saved with; None when its run did not normalise its inputs."""
        text = metadata.get(METADATA_KEY)
        if text is None:
            return None
        try:
            return cls.from_info(NormalizationInfo.model_validate_json(text))
        except ValidationError as err:
            raise usage_error(f"the weights file's input statistics (`{METADATA_KEY}`) are not readable: "
                              f"{_first_problem(err)}",
                              "save the weights again with `nqa run --save`", code=codes.STATISTICS_MISMATCH) from None

    def diagnostic(self) -> DiagnosticEntry | None:
        """A note naming the inputs that were the same in every training row, or None when none was."""
        if not self.constant:
            return None
        names = [f"`{visible(self.names[i])}`" if self.names else f"input {i}" for i in self.constant[:NAMED]]
        more = f" and {len(self.constant) - NAMED:,} more" if len(self.constant) > NAMED else ""
        were = "was" if len(self.constant) == 1 else "were"
        return DiagnosticEntry(kind="constant_input",
                               message=f"{', '.join(names)}{more} {were} the same in every training row: "
                                       f"`normalize` scaled {'it' if were == 'was' else 'them'} by 1, to 0")


def of_program(program: Program, seed: int) -> Normalization | None:
    """The statistics the run of `seed` takes (from its training rows, as `validate` holds rows out
    with that seed), or None for a spec without `normalize`: for what has no run at hand to ask."""
    if program.spec.normalize is None:
        return None
    from .data import dataset  # which fits its statistics through this module

    return dataset(program.spec, seed, program.table).normalization


def weights_metadata(program: Program, seed: int) -> dict[str, str]:
    """The `nqa_normalize` entry of the weights of the run of `seed`; nothing without `normalize`."""
    found = of_program(program, seed)
    return found.metadata() if found is not None else {}


def _first_problem(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else first["msg"]
