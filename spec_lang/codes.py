"""The stable code of every kind of diagnostic nqa gives, and what each one is.

In: nothing. Out: one constant per kind of mistake (`WIDTH_MISMATCH = "E0201"`),
and `CODES`, the table from each code to its `CodeInfo`: a short name
(`width-mismatch`), its severity (`error` for codes `E....`, `warning` for
`W....`) and a one-line title. Code, tests and tools decide on these codes,
never on a message's wording; `nqa explain CODE` explains each one.

Codes are never renumbered or reused: a kind that goes away keeps its number.
`UNREPRODUCIBLE` names the codes whose explanation pages cannot show a wrong
example that a test runs, and why.
Ranges: E00xx characters, syntax, braces, vectors; E01xx statements, arguments
and values; E02xx shapes and layers; E03xx data files, examples and test data;
E04xx training settings and control; E05xx blocks, repeat, residual, choices and
sweeps; E06xx limits; E09xx the command line and trained-network files; W00xx
warnings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class CodeInfo:
    """What one code stands for: a short name, its severity, and a title."""

    name: str
    severity: Literal["error", "warning"]
    title: str


CODES: dict[str, CodeInfo] = {}


def _code(code: str, name: str, title: str) -> str:
    severity: Literal["error", "warning"] = "warning" if code.startswith("W") else "error"
    assert code not in CODES and re.fullmatch(r"[EW]\d{4}", code), code
    CODES[code] = CodeInfo(name, severity, title)
    return code


# E00xx: characters, syntax, braces, vectors
UNEXPECTED_CHARACTER = _code("E0001", "unexpected-character", "a character that has no place in a spec")
LOOKALIKE_CHARACTER = _code("E0002", "lookalike-character",
                            "a character that looks like ASCII punctuation or a digit, but is not")
UNEXPECTED_TOKEN = _code("E0003", "unexpected-token", "a word, number or sign where the grammar expects another")
# E0004 is not used: the end of a file is a token like any other (E0003)
EXPECTED_VALUE = _code("E0005", "expected-value", "nothing, or something else, after `=` or `->`")
UNCLOSED_VECTOR = _code("E0006", "unclosed-vector", "a `[` with no `]` on its line")
NESTED_VECTOR = _code("E0007", "nested-vector", "a vector inside a vector")
VECTOR_SYNTAX = _code("E0008", "vector-syntax", "a vector that is not numbers separated by commas")
NOT_FINITE = _code("E0009", "not-finite", "`nan` or `inf` written as a number")
UNCLOSED_BRACE = _code("E0010", "unclosed-brace", "a `{` that is never closed")
UNMATCHED_BRACE = _code("E0011", "unmatched-brace", "a `}` that closes nothing")
UNCLOSED_PARENTHESIS = _code("E0012", "unclosed-parenthesis", "a choice's `(` with no `)` on its line")
UNMATCHED_PARENTHESIS = _code("E0013", "unmatched-parenthesis", "a `)` that closes nothing")
CHOICE_SYNTAX = _code("E0014", "choice-syntax", "a choice that is not values separated by commas in `(...)`")

# E01xx: statements, arguments and values
UNKNOWN_STATEMENT = _code("E0101", "unknown-statement", "a statement nqa does not know")
NOT_AVAILABLE = _code("E0102", "not-available", "a statement of another tool that nqa does not offer yet")
UNKNOWN_OPTION = _code("E0103", "unknown-option", "an option the statement does not have")
UNEXPECTED_ARGUMENT = _code("E0104", "unexpected-argument", "an argument or word the statement does not take")
OPTION_TWICE = _code("E0105", "option-twice", "an option set twice in one statement")
STATEMENT_TWICE = _code("E0106", "statement-twice", "a statement given twice where one is allowed")
MISSING_VALUE = _code("E0107", "missing-value", "a statement without a value it needs")
UNKNOWN_KIND = _code("E0108", "unknown-kind", "an optimizer, loss, schedule or init nqa does not know")
UNKNOWN_VALUE = _code("E0109", "unknown-value", "a value that is not one of the choices an option takes")
NOT_A_NUMBER = _code("E0110", "not-a-number", "text where a number is needed")
NOT_WHOLE = _code("E0111", "not-whole", "a fraction where a whole number is needed")
OUT_OF_RANGE = _code("E0112", "out-of-range", "a number below or above what the setting allows")
NOT_FINITE_VALUE = _code("E0113", "not-finite-value", "a setting given `nan` or `inf`")
TOO_LARGE_NUMBER = _code("E0114", "too-large-number", "a number too large to hold (float32 or a whole number)")
TOO_SMALL_NUMBER = _code("E0115", "too-small-number", "a number that float32 holds only as 0 or a subnormal")
WRONG_TYPE = _code("E0116", "wrong-type", "a value of the wrong kind: not true/false, not text, not a vector")
EMPTY_VALUE = _code("E0117", "empty-value", "a list or vector with no values where some are needed")
INVALID_VALUE = _code("E0118", "invalid-value", "a value the statement's own rules refuse")

# E02xx: shapes and layers
WIDTH_MISMATCH = _code("E0201", "width-mismatch", "a layer expects another width than the one before it gives")
RANK_MISMATCH = _code("E0202", "rank-mismatch", "a layer takes another kind of shape (vector, sequence, image)")
IDS_MISMATCH = _code("E0203", "ids-mismatch", "ids given to a layer that takes floats, or floats to one taking ids")
INPUT_WIDTH_UNKNOWN = _code("E0204", "input-width-unknown", "nothing says how many inputs the first layer takes")
NO_LAYERS = _code("E0205", "no-layers", "a spec with no layers")
NO_PARAMETERS = _code("E0206", "no-parameters", "a network with no weights to train")
KERNEL_TOO_LARGE = _code("E0207", "kernel-too-large", "a window larger than what arrives")
POOL_PADDING = _code("E0208", "pool-padding", "a pool padded by more than half its window")
SAME_PADDING_STRIDE = _code("E0209", "same-padding-stride", "`padding=same` with a stride other than 1")
GROUPS_MISMATCH = _code("E0210", "groups-mismatch", "channels that do not split into the groups asked for")
RESIDUAL_SHAPE = _code("E0211", "residual-shape", "a `residual` whose layers change the shape")
BATCH_OF_ONE = _code("E0212", "batch-of-one", "a batch norm over batches of one row")
LOSS_OUTPUT_MISMATCH = _code("E0213", "loss-output-mismatch", "the network's outputs do not suit the loss")

# E03xx: data files, examples, test data, normalize
DATA_NOT_FOUND = _code("E0301", "data-not-found", "a data file that does not exist")
DATA_UNREADABLE = _code("E0302", "data-unreadable", "a data file that cannot be read as CSV or .npz")
DATA_OUTSIDE = _code("E0303", "data-outside", "a data file outside the spec's folder")
DATA_EMPTY = _code("E0304", "data-empty", "a data file or array with no rows")
CSV_LAYOUT = _code("E0305", "csv-layout", "CSV rows, quotes or separators that do not line up")
CSV_HEADER = _code("E0306", "csv-header", "a header row missing, or read as data, or data read as a header")
UNKNOWN_COLUMN = _code("E0307", "unknown-column", "a column or array the data file does not have")
COLUMN_TWICE = _code("E0308", "column-twice", "a column named twice, or as both input and target")
DATA_WIDTH_MISMATCH = _code("E0309", "data-width-mismatch", "data with another number of inputs than the network takes")
DATA_SHAPE_MISMATCH = _code("E0310", "data-shape-mismatch", "data inputs of another shape than the network takes")
BAD_DATA_VALUE = _code("E0311", "bad-data-value", "a cell or array value that is not a finite number")
DATA_VALUE_TOO_LARGE = _code("E0312", "data-value-too-large", "a data value too large for float32")
CLASS_COUNT_MISMATCH = _code("E0313", "class-count-mismatch", "more or fewer classes than the network has outputs")
TARGET_WIDTH_MISMATCH = _code("E0314", "target-width-mismatch", "more or fewer targets than the network has outputs")
BAD_TARGET = _code("E0315", "bad-target", "a target the loss cannot score (a class out of range, say)")
TEXT_LABELS = _code("E0316", "text-labels", "text class labels where they do not fit")
NO_TARGETS = _code("E0317", "no-targets", "data with no target to score the network's answers against")
OPTION_FOR_FORMAT = _code("E0318", "option-for-format", "a `data` option that does not apply to the file's format")
ROW_COUNT_MISMATCH = _code("E0319", "row-count-mismatch", "input and target arrays with different numbers of rows")
BAD_TOKEN_ID = _code("E0320", "bad-token-id", "a token id that is not a whole number within the vocabulary")
EXAMPLE_WIDTH_MISMATCH = _code("E0321", "example-width-mismatch",
                               "an `example` or `eval` whose inputs do not fit what the network takes")
NO_TRAINING_DATA = _code("E0322", "no-training-data", "a spec with no `example` and no `data`")
VALIDATE_TOO_FEW = _code("E0323", "validate-too-few", "`validate` with too few rows to hold any out")
NORMALIZE_TWICE = _code("E0324", "normalize-twice", "inputs normalised by both `normalize` and `data`'s option")
NORMALIZE_NO_ROWS = _code("E0325", "normalize-no-rows", "`normalize` with no training rows to take statistics from")
NORMALIZE_IDS = _code("E0326", "normalize-ids", "`normalize` on token ids")
COLUMNS_UNKNOWN = _code("E0327", "columns-unknown", "nothing says which columns of a data file are inputs")
GLOB_NO_MATCH = _code("E0328", "glob-no-match", "a data glob that matches no file")
SHARD_COLUMNS = _code("E0329", "shard-columns", "data files of one glob whose columns differ")
SHARD_FORMATS = _code("E0330", "shard-formats", "a data glob matching files of mixed formats, or .npz files")
GLOB_PATTERN = _code("E0331", "glob-pattern", "a data glob with `**`, which would search folders at any depth")
STREAM_NEEDS_BATCH = _code("E0335", "stream-needs-batch", "a streamed data file without a `batch` size")
STREAM_TEXT_LABELS = _code("E0336", "stream-text-labels", "text class labels in a streamed data file")
STREAM_ROW_GROUP = _code("E0337", "stream-row-group", "a Parquet row group too large to read within the memory budget")
STREAM_LINE_BREAK = _code("E0338", "stream-line-break", "a quoted cell holding a line break in a streamed data file")
STREAM_LONG_LINE = _code("E0339", "stream-long-line", "a line of a streamed data file longer than a piece may hold")

# E04xx: training settings and control
WARMUP_TOO_LONG = _code("E0401", "warmup-too-long", "a warmup as long as the run or longer")
SCHEDULE_CONFLICT = _code("E0402", "schedule-conflict", "schedule settings that contradict each other or the run")
NO_MOMENTUM = _code("E0403", "no-momentum", "momentum cycling with an optimizer that has no momentum")
CLIP_NOTHING = _code("E0404", "clip-nothing", "`clip` with neither a norm nor a value")
CLIP_BOTH = _code("E0405", "clip-both", "`clip` with both a norm and a value")
STOP_UNWATCHED = _code("E0406", "stop-unwatched", "`stop` watching a held-out loss when no rows are held out")
DIVERGED = _code("E0407", "diverged", "a run whose loss became NaN or infinite, so training stopped")

# E05xx: blocks, repeat, residual, choices and sweeps
BLOCK_NAME = _code("E0501", "block-name", "a `block` without a usable name")
BLOCK_TWICE = _code("E0502", "block-twice", "a block defined twice")
BLOCK_PLACE = _code("E0503", "block-place", "a block defined inside braces")
NEEDS_BRACES = _code("E0504", "needs-braces", "a block, `repeat` or `residual` without its layers in braces")
BRACES_NOT_TAKEN = _code("E0505", "braces-not-taken", "braces after a statement that takes no layers")
EMPTY_BLOCK = _code("E0506", "empty-block", "braces with no layers inside")
SETTING_IN_BLOCK = _code("E0507", "setting-in-block", "a setting inside a block's braces")
BLOCK_ORDER = _code("E0508", "block-order", "a block used before it is defined")
BLOCK_ITSELF = _code("E0509", "block-itself", "a block that uses itself")
NOT_A_BLOCK = _code("E0510", "not-a-block", "`* N` after something that is not a named block")
BLOCK_USE = _code("E0511", "block-use", "a block used with a count that is not whole, extra arguments, or braces")
UNKNOWN_FUNCTION = _code("E0512", "unknown-function", "a function other than `choice(...)`")
CHOICE_PLACE = _code("E0513", "choice-place", "a choice that is one value of a list, or inside a choice")
EMPTY_CHOICE = _code("E0514", "empty-choice", "`choice()` with no values")
MIXED_CHOICE = _code("E0515", "mixed-choice", "a choice holding values of different kinds")
CHOICE_VALUE_TWICE = _code("E0516", "choice-value-twice", "a value given twice in one choice")
CANNOT_VARY = _code("E0517", "cannot-vary", "a choice where a sweep cannot vary the value")
SWEEP_NOT_HERE = _code("E0518", "sweep-not-here", "a sweep given where one spec is needed")

# E06xx: limits
TOO_MANY_EPOCHS = _code("E0601", "too-many-epochs", "more epochs than --max-epochs")
TOO_MANY_EXAMPLES = _code("E0602", "too-many-examples", "more examples or data rows than --max-examples")
TOO_MANY_LAYERS = _code("E0603", "too-many-layers", "more layers than --max-layers")
NESTED_TOO_DEEP = _code("E0604", "nested-too-deep", "braces or blocks nested too deep")
TOO_WIDE = _code("E0605", "too-wide", "a width over --max-width")
TOO_MANY_PARAMETERS = _code("E0606", "too-many-parameters", "a network with more parameters than --max-params")
EXAMPLE_TOO_LARGE = _code("E0607", "example-too-large", "one example making more values than the limit per example")
TOO_MANY_ACTIVATIONS = _code("E0608", "too-many-activations", "one step holding more activations than the limit")
TOO_MANY_COMBINATIONS = _code("E0609", "too-many-combinations", "more combinations than --max-combinations")
FILE_TOO_LARGE = _code("E0610", "file-too-large", "a spec or data file over its size limit")
TOO_MANY_RUNS = _code("E0611", "too-many-runs", "more runs than --max-runs, or than one step can hold")
TRACE_TOO_LARGE = _code("E0612", "trace-too-large", "a trace or report listing more values than its limit")
BUDGET_TOO_SMALL = _code("E0613", "budget-too-small", "a memory budget too small for one batch of a streamed file")
STREAM_UNSUPPORTED = _code("E0614", "stream-unsupported", "what cannot use a streamed data file, or a file over the "
                                                          "memory budget that is never streamed")

# E09xx: the command line, and trained-network files
BAD_OPTION_VALUE = _code("E0901", "bad-option-value", "a command-line option given a value it does not take")
CONFLICTING_OPTIONS = _code("E0902", "conflicting-options", "options that do not go together or do not apply here")
MISSING_OPTION = _code("E0903", "missing-option", "a command without an option it needs")
MISSING_PACKAGE = _code("E0904", "missing-package", "an optional package that is not installed")
WOULD_OVERWRITE = _code("E0905", "would-overwrite", "an output that would write over an input or another output")
OUTPUT_NAME = _code("E0906", "output-name", "an output file name whose ending does not match what is written")
BAD_INPUT = _code("E0907", "bad-input", "an `--input` vector that cannot be read or does not fit")
NOT_WEIGHTS = _code("E0908", "not-weights", "a file that is not a safetensors weights file")
WEIGHTS_MISMATCH = _code("E0909", "weights-mismatch", "weights saved from another network than this spec's")
WEIGHTS_NOT_FINITE = _code("E0910", "weights-not-finite", "weights holding NaN or infinite values")
STATISTICS_MISMATCH = _code("E0911", "statistics-mismatch", "input statistics missing from or not fitting the weights")
CANNOT_RESUME = _code("E0912", "cannot-resume", "a checkpoint folder a run cannot resume from")
CHECKPOINT_FOLDER = _code("E0913", "checkpoint-folder", "a checkpoint folder that cannot be used")
RUN_LOG = _code("E0914", "run-log", "a run log or stored run that cannot be read or found")
SPEC_CHANGED = _code("E0915", "spec-changed", "a spec that changed while it was trained")
NO_DEVICE = _code("E0916", "no-device", "a device asked for that is not available")
CANNOT_REFORMAT = _code("E0917", "cannot-reformat", "a spec that `nqa fmt` may not rewrite")
SPEC_UNREADABLE = _code("E0918", "spec-unreadable", "a spec file that does not exist or cannot be read")
SPEC_NOT_TEXT = _code("E0919", "spec-not-text", "a spec file that is binary or not UTF-8 text")
RUNS_UNSUPPORTED = _code("E0920", "runs-unsupported", "a spec that `--runs` cannot train many seeds of at once")
BAD_ARGUMENT_TYPE = _code("E0921", "bad-argument-type", "a Python argument of the wrong type given to `train`")
BAD_COMMAND_LINE = _code("E0922", "bad-command-line", "a command line the argument parser cannot read")
OUTPUT_UNWRITABLE = _code("E0923", "output-unwritable", "an output path that cannot be written as a regular file")
NPROC_OUT_OF_RANGE = _code("E0924", "nproc-out-of-range", "a `--nproc` below 1 or above the limit")
BATCH_NOT_SHARED = _code("E0925", "batch-not-shared", "a `batch` that the worker processes cannot share evenly")
NOT_DISTRIBUTABLE = _code("E0926", "not-distributable", "a spec that cannot be trained across several processes")
NPROC_CONFLICT = _code("E0927", "nproc-conflict", "an option that cannot be used with several processes")
WORKER_FAILED = _code("E0928", "worker-failed", "a worker process of a distributed run that failed")
RENDEZVOUS_FAILED = _code("E0929", "rendezvous-failed", "worker processes that could not meet (a port in use)")
GPU_ONLY = _code("E0932", "gpu-only", "`--precision bf16|fp16` or `--compile` on a run that trains on the CPU")
GPU_CHECKPOINT = _code("E0933", "gpu-checkpoint", "`--precision bf16|fp16` or `--compile` with checkpoints")

# W00xx: warnings
BIDI_CONTROL = _code("W0001", "bidi-control", "a bidirectional control character that may hide what the text says")
APPLIED_TWICE = _code("W0002", "applied-twice", "a final sigmoid or softmax that the loss applies again")
HEADER_OF_NUMBERS = _code("W0003", "header-of-numbers", "`header=yes` on a first line that holds only numbers")
DUPLICATE_COLUMN_NAME = _code("W0004", "duplicate-column-name", "a header naming two columns the same")
VALIDATE_ONE_ROW = _code("W0005", "validate-one-row", "`validate` holding out a single row")
ONE_CLASS = _code("W0006", "one-class", "training rows of a single class")
NEVER_STOPS = _code("W0007", "never-stops", "a `stop` patience as long as the run")
SCHEDULE_NEVER_STEPS = _code("W0008", "schedule-never-steps", "a step schedule that never drops the learning rate")
UNUSED_LR = _code("W0009", "unused-lr", "an optimizer `lr` that a onecycle schedule replaces")
UNUSED_BLOCK = _code("W0010", "unused-block", "a block defined and never used")
NO_FINGERPRINT = _code("W0011", "no-fingerprint", "weights saved without their network's fingerprint, checked less")
BUFFER_UNUSED = _code("W0012", "buffer-unused", "a shuffle buffer on data read whole, which shuffles it all")


def is_code(text: str) -> bool:
    """Whether `text` is a code of the table (`E0201`; case matters)."""
    return text in CODES


# codes whose page has no example a test can run: the mistake cannot be made on purpose
UNREPRODUCIBLE = {SPEC_CHANGED: "the spec file must change while a sweep trains, between its check and its end",
                  STREAM_LINE_BREAK: "a quoted cell must span the end of a piece of a streamed file, at least 4 kB in",
                  STREAM_LONG_LINE: "a line must be longer than eight pieces of a streamed file, at least 32 kB",
                  WORKER_FAILED: "a worker process must die (be killed, or fail) while the others train",
                  RENDEZVOUS_FAILED: "another program must hold the port the processes meet on, or a peer must vanish",
                  STREAM_ROW_GROUP: "a page shows text files beside its spec, and a Parquet file is binary"}
