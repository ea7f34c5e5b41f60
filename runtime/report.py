"""The machine-readable run report.

In: what a training run measured, and the warnings checking its spec found.
Out: `Report`, a pydantic model written as JSON by `--json`; its JSON Schema
comes from `Report.model_json_schema()`.
Floats are kept at full precision (a float32 value is exact as a JSON double).
Parameters and traced values are held as tensors and turned into JSON only
when the report is written: nested lists, or for a network of more than
100,000 values a summary of each tensor (`runtime.tensors`).
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_serializer,
    model_validator,
)

from compiler import LayerInfo
from spec_lang import Diagnostic

from .answers import Evaluation
from .tensors import LISTED_VALUES, Snapshot, TensorSummary, Values, summary


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ModelInfo(_Frozen):
    repr: str = Field(description="the nn.Sequential as torch prints it")
    layers: tuple[LayerInfo, ...]
    parameters: int = Field(description="total number of trainable parameters")
    input_width: int = Field(description="the values of one example: the product of `input_shape`")
    output_width: int = Field(description="the values the network gives for one example")
    input_shape: tuple[int, ...] = Field(description="the per-example shape of the input, e.g. [1, 8, 8]")
    input_dtype: str = Field("float32", description="float32, or int64 for token ids")
    output_shape: tuple[int, ...] = Field(description="the per-example shape of the output")
    output_dtype: str = Field("float32", description="float32 (or int64)")
    flops: int = Field(0, description="multiply-accumulates per example (MACs), summed over the layers")


class OptimizerInfo(_Frozen):
    name: str = Field(description="the torch.optim class")
    settings: dict[str, Any] = Field(description="the optimizer's param group, without the parameters")


class LossInfo(_Frozen):
    name: str = Field(description="the torch.nn loss class")
    settings: dict[str, Any]


class TrainingInfo(_Frozen):
    epochs: int
    examples: int
    batches_per_epoch: int
    batch_size: int = Field(description="examples per optimizer step (the last batch of an epoch may be smaller)")
    steps: int = Field(description="optimizer steps taken")
    target_broadcast: bool = Field(description="a width-1 target was copied to every output")
    classes: tuple[str, ...] = Field((), description="class label of each target index, from a data file's text labels")


class StreamInfo(_Frozen):
    """A data file streamed: read a piece at a time instead of whole (larger than --memory-budget)."""

    file: str = Field(description="the data file (or glob), as the spec names it")
    files: int = Field(1, exclude_if=lambda value: value == 1, description="the files read, when more than one")
    rows: int = Field(description="its rows of data")
    trained: int = Field(description="the rows trained on each epoch")
    held_out: int = Field(description="the rows `validate` held out (chosen by a hash of the row's index)")
    pieces: int = Field(description="the pieces it was read in, each ending at a line end")
    piece_bytes: int = Field(description="the bytes of a piece, at most")
    buffer: int = Field(description="the rows shuffled together")
    memory_budget: int = Field(description="the memory budget, in bytes")


class Parameters(_Frozen):
    """In Python, `initial` holds copies taken before training and `final` the
    trained model's own tensors (detached), on the CPU."""

    listed: bool = Field(description=f"true: `initial` and `final` hold every value as nested lists; false: the "
                                     f"network holds more than {LISTED_VALUES:,} values, and each tensor is "
                                     f"given as its summary (`--full-parameters` lists every value)")
    initial: dict[str, Snapshot] = Field(description="state_dict name -> nested lists of floats, or a summary")
    final: dict[str, Snapshot] = Field(description="the same after training")

    @field_serializer("initial", "final", when_used="json")
    def _written(self, tensors: dict) -> dict[str, list[Any] | TensorSummary | int | float]:
        return {name: t.tolist() if self.listed else summary(t) for name, t in tensors.items()}


class EvalResult(_Frozen):
    input: tuple[float, ...]
    output: tuple[float, ...] | float
    predicted: str | None = Field(None, description="a classifier's (cross_entropy) predicted class: its text label "
                                                    "when the data had text labels, else its index")
    probability: float | None = Field(None, description="the predicted class's probability (softmax of the outputs)")


class DiagnosticEntry(_Frozen):
    kind: str = Field(description="dead_relu, never_moved, target_broadcast, plateau, loss_high, diverged "
                                           "or constant_input")
    message: str
    layer: int | None = Field(None, description="the layer it concerns, by index")
    parameter: str | None = Field(None, description="the state_dict name it concerns")
    step: int | None = Field(None, description="the step it concerns")
    epoch: int | None = Field(None, description="the epoch it concerns")


class WarningEntry(_Frozen):
    message: str
    line: int | None = Field(None, description="where in the spec, 1-based; None when not at one place")
    column: int | None = None
    end_line: int | None = None
    end_column: int | None = Field(None, description="exclusive")
    hint: str = ""

    @model_validator(mode="before")
    @classmethod
    def _from_diagnostic(cls, value: Any) -> Any:
        """Also made from a warning `check` found (a `spec_lang.Diagnostic`)."""
        if not isinstance(value, Diagnostic):
            return value
        span = value.span
        where = {"line": span.line, "column": span.column, "end_line": span.end_line,
                 "end_column": span.end_column} if span else {}
        return {"message": value.message, "hint": value.hint, **where}


class TraceRecord(_Frozen):
    step: int
    kind: str = Field(description="grads (after backward) or params (after the optimizer step)")
    values: dict[str, Values | None] = Field(description="parameter name -> nested lists of floats "
                                                         "(null: a parameter with no gradient)")
    lr: float | None = Field(None, description="the learning rate of this step, with a `schedule` or `warmup`")


class Validation(_Frozen):
    rows: int = Field(description="rows held out by `validate`, never trained on")
    losses: tuple[float, ...] = Field(description="the held-out loss after each epoch, in eval mode")
    accuracy: float | None = Field(None, description="share of held-out rows classified right (cross_entropy)")


class TorchCall(_Frozen):
    name: str = Field(description="the torch class or function")
    settings: dict[str, Any] = Field(description="its arguments, besides the optimizer or parameters")


class ScheduleInfo(_Frozen):
    schedule: TorchCall | None = Field(description="the torch.optim.lr_scheduler class of `schedule`")
    warmup: TorchCall | None = Field(description="`warmup`: a LinearLR, run first; a SequentialLR then "
                                                 "hands over to the schedule")
    warmup_steps: int = Field(description="the steps (epochs, or batches when stepped per batch) of warm-up")
    stepped: Literal["epoch", "batch"] = Field(description="stepped after each epoch, or after each batch")


class EarlyStop(_Frozen):
    watched: Literal["held_out", "training"] = Field(description="the held-out loss (with `validate`), or each "
                                                                 "epoch's mean training loss")
    patience: int
    min_delta: float
    best_epoch: int | None = Field(description="the epoch of the lowest loss (None: no epoch's loss was finite)")
    best_loss: float | None
    stopped_epoch: int | None = Field(description="the epoch after which `stop` ended training; None: it ran "
                                                  "every epoch")
    restored: bool = Field(description="the parameters, eval outputs and accuracy reported (and the weights "
                                       "saved) are the best epoch's")


class NormalizationInfo(_Frozen):
    """`normalize`: each input value becomes `(x - shift) / scale`, with statistics of the training rows."""

    method: Literal["standard", "minmax"] = Field(description="standard: shift the mean, scale the population "
                                                              "standard deviation; minmax: shift the minimum, "
                                                              "scale max - min")
    rows: int = Field(ge=1, description="the training rows the statistics were taken over (never held-out rows)")
    shape: tuple[int, ...] = Field(min_length=1, description="one example's input shape; `shift` and `scale` "
                                                              "hold one value for each of its values, row-major")
    inputs: tuple[str, ...] = Field((), description="the data file's name of each input value, when it has "
                                                    "one (a CSV column); else empty")
    shift: tuple[float, ...] = Field(description="each input value's mean (standard) or minimum (minmax)")
    scale: tuple[float, ...] = Field(description="each input value's standard deviation (standard) or max - min "
                                                 "(minmax); 1 where it is constant")
    constant: tuple[int, ...] = Field((), description="the input values (indices into `shift`) that were the "
                                                      "same in every training row: scaled by 1, they become 0")

    @model_validator(mode="after")
    def _consistent(self) -> NormalizationInfo:
        if any(size < 1 for size in self.shape):
            raise ValueError(f"shape {list(self.shape)} has a size below 1")
        values = math.prod(self.shape)
        if len(self.shift) != values or len(self.scale) != values or (self.inputs and len(self.inputs) != values):
            raise ValueError(f"shape {list(self.shape)} holds {values} values, but shift, scale or inputs do not")
        if not all(math.isfinite(v) for v in self.shift) or not all(math.isfinite(v) and v > 0 for v in self.scale):
            raise ValueError("shifts must be finite, and scales finite and above 0")
        if any(not 0 <= i < values for i in self.constant):
            raise ValueError("a constant input's index is outside the input")
        return self


class Timing(_Frozen):
    compile_seconds: float = Field(description="checking the spec and building the network, in this process")
    train_seconds: float = Field(description="the training loop alone")


class GpuInfo(_Frozen):
    precision: Literal["fp32", "bf16", "fp16"] = Field(description="fp32, or the type `torch.autocast` ran the "
                                                                   "forward pass and the loss in (`--precision`)")
    compiled: bool = Field(description="the network ran through `torch.compile` (`--compile`)")
    skipped_steps: int = Field(0, description="fp16: steps whose update the grad scaler skipped, as a gradient "
                                              "was infinite or NaN in float16 (they are still counted in `steps`)")


SCHEMA_VERSION = 2  # 1: widths only, before layers carried shapes


class Report(_Frozen):
    schema_version: int = Field(SCHEMA_VERSION, description=f"this format's version, {SCHEMA_VERSION}: layers "
                                                           "and the model carry shapes, dtypes and MACs")
    spec: str = Field(description="the spec file as given")
    seed: int
    torch_version: str
    device: str = Field("cpu", description="where it trained: `cpu`, or `cuda` and the GPU's name")
    model: ModelInfo
    optimizer: OptimizerInfo
    loss: LossInfo
    training: TrainingInfo
    losses: tuple[float, ...] = Field(description="the loss at every optimizer step (of its mini-batch)")
    epoch_losses: tuple[float, ...] = Field(
        (), description="the mean training loss of each epoch, over its steps weighted by their batch's rows; "
                        "when training stopped within an epoch, the last is the mean over the steps that ran")
    final_loss: float | None = Field(description="the last of `epoch_losses`")
    accuracy: float | None = Field(None, description="share of training rows classified right (cross_entropy)")
    validation: Validation | None = None
    parameters: Parameters
    eval: tuple[EvalResult, ...]
    diagnostics: tuple[DiagnosticEntry, ...] = ()
    warnings: tuple[WarningEntry, ...] = Field((), description="what checking the spec found likely wrong, "
                                                "though it did not stop the run")
    stopped: str | None = Field(None, description="why training stopped early, if it did (`stop` is not a "
                                                  "failure: see `early_stop`)")
    learning_rates: tuple[float, ...] = Field((), description="the learning rate of every step, with a `schedule` "
                                                              "or `warmup` (else empty: the optimizer's `lr`)")
    schedule: ScheduleInfo | None = None
    clip: TorchCall | None = Field(None, description="the torch.nn.utils function that clipped the gradients "
                                                     "between backward and each step")
    early_stop: EarlyStop | None = Field(None, description="with `stop`: the best epoch, and when it stopped")
    trace: tuple[TraceRecord, ...] = Field((), description="per-step gradients or parameters, with --trace")
    test: Evaluation | None = Field(None, description="with a `test` file: the trained network's loss and metrics "
                                                      "on its rows, in eval mode")
    timing: Timing | None = Field(None, description="seconds measured inside the process (not in the text report)")
    normalization: NormalizationInfo | None = Field(None, description="with `normalize`: the statistics the "
                                                                      "inputs were scaled by")
    gpu: GpuInfo | None = Field(None, exclude_if=lambda value: value is None,
                                description="with `--precision bf16|fp16` or `--compile` (absent without them)")
    streamed: StreamInfo | None = Field(None, exclude_if=lambda value: value is None,
                                        description="when the data file was streamed (absent otherwise)")
    processes: int | None = Field(None, ge=2, exclude_if=lambda value: value is None,
                                  description="the worker processes of a distributed run, each taking its share of "
                                              "every batch (absent for one process)")
