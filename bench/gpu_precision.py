"""`--precision` and `--compile` on a machine with a GPU: the digits example trained in fp32, bf16, fp16 and
bf16 with `--compile`, from the same seed, and their held-out accuracies compared.

In: nothing (`python bench/gpu_precision.py`); needs a CUDA device. Out: a line per run (held-out accuracy,
final training loss, fp16's skipped steps, seconds), the difference from fp32 in points, a run of the
command line (`nqa run ... --precision bf16 --json -`) whose report must name the precision, then
`all within 1 point` or what was not. Exit 0 when every run's held-out accuracy is at most 1 point below
fp32's, 1 when one is not (or a run failed), 77 (the usual "skipped" code of test harnesses) on a machine
without a CUDA device, where nothing is trained.

`NQA_CHECK_DEVICE=cpu` runs it here as a dry run: the refusal of these options on the CPU is lifted for the
script alone, and torch's CPU autocast and CPU grad scaler stand in for CUDA's (slow: bf16 convolutions on
a CPU), without `--compile` (which would need a C++ compiler) and without the command-line run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

import runtime.precision as precision  # noqa: E402
from runtime import TrainOptions, train  # noqa: E402

SPEC = ROOT / "specs/examples/digits.nqa"
POINTS = 1.0  # the most a run's held-out accuracy may fall below fp32's, in percentage points
DEVICE = os.environ.get("NQA_CHECK_DEVICE", "cuda")
SKIPPED = 77


def trained(name: str, **options) -> tuple[str, float, list[str]]:
    """One run: its line, its held-out accuracy in percent (nan if it failed) and its problems."""
    start = time.perf_counter()
    try:
        report = train(SPEC, options=TrainOptions(device=DEVICE, **options)).report
    except Exception as failed:  # a run that fails is a finding to print, not a crash
        return f"{name:14} failed: {type(failed).__name__}: {failed}", float("nan"), [f"{name} failed"]
    seconds = time.perf_counter() - start
    assert report.validation is not None and report.validation.accuracy is not None  # `validate 0.2`
    accuracy = 100 * report.validation.accuracy
    skipped = f", {report.gpu.skipped_steps} steps skipped" if report.gpu and report.gpu.precision == "fp16" else ""
    problems = [f"{name}: stopped: {report.stopped}"] if report.stopped else []
    return (f"{name:14} held-out accuracy {accuracy:6.2f}%, final loss {report.final_loss:.4f}{skipped}, "
            f"{seconds:.1f} s  ({report.device})"), accuracy, problems


def command_line() -> list[str]:
    """`nqa run --precision bf16 --json -` on the GPU: exit 0, and the report names bf16."""
    argv = [sys.executable, "-m", "runtime", str(SPEC), "--device", DEVICE, "--precision", "bf16", "--epochs", "2",
            "--json", "-", "--no-log"]
    done = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT)
    print(f"$ nqa run specs/examples/digits.nqa --device {DEVICE} --precision bf16 --epochs 2 --json -  "
          f"-> exit {done.returncode}")
    if done.returncode != 0:
        return [f"the command line exited {done.returncode}: {done.stderr.strip()[-500:]}"]
    gpu = json.loads(done.stdout).get("gpu")
    return [] if gpu and gpu.get("precision") == "bf16" else [f"the JSON report says gpu={gpu!r}"]


def main() -> int:
    if DEVICE == "cuda" and not torch.cuda.is_available():
        print("bench/gpu_precision.py needs a CUDA device; there is none here, so nothing was trained (skipped)")
        return SKIPPED
    if DEVICE != "cuda":
        precision.on_gpu = lambda device: True  # the dry run: CPU autocast in place of CUDA's
    where = torch.cuda.get_device_name() if DEVICE == "cuda" else DEVICE
    print(f"torch {torch.__version__}, {where}, Python {sys.version.split()[0]}: {SPEC.relative_to(ROOT)}, seed 0")
    runs: list[tuple[str, dict[str, object]]] = [("fp32", {}), ("bf16", {"precision": "bf16"}),
                                                 ("fp16", {"precision": "fp16"})]
    runs += [("bf16 compiled", {"precision": "bf16", "compile": True})] if DEVICE == "cuda" else []
    problems: list[str] = []
    baseline = None
    for name, options in runs:
        line, accuracy, found = trained(name, **options)
        problems += found
        if baseline is None:
            baseline = accuracy
        else:
            line += f"; {accuracy - baseline:+.2f} points from fp32"
            if not accuracy >= baseline - POINTS:  # nan (a failed run) fails too
                problems.append(f"{name}: {accuracy:.2f}% is more than {POINTS:g} point below fp32's {baseline:.2f}%")
        print(line)
    if DEVICE == "cuda":
        problems += command_line()
    print(f"all within {POINTS:g} point of fp32" if not problems else "\n".join(["NOT WITHIN:"] + problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
