"""`--device cuda` on a machine with a GPU: every spec trained on the GPU and on
the CPU, compared, and the command line's outputs written from a GPU run.

In: nothing (`python bench/device_check.py [OUT_FOLDER]`); needs a CUDA device.
Out: a line per spec (steps, final loss on each device, the largest difference
in final parameters and eval outputs, seconds on each), then the command-line
checks, then `all agree` or what did not; exit 1 if anything did not.

The GPU does not round as the CPU does, so the runs are not compared bit for
bit: they agree when they take the same steps from the same initial parameters
and end at final losses within 1e-4 (absolute, or relative for losses above 1).
The largest differences in final parameters and eval outputs are printed: they
grow with the number of steps (on an H200, 2e-6 after 100 steps, 1e-2 for XOR's
outputs after 500 Adam steps to a loss near zero).
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

from compiler import check  # noqa: E402
from runtime import TrainOptions, train  # noqa: E402

LOSS_TOLERANCE = 1e-4
GPU = os.environ.get("NQA_CHECK_DEVICE", "cuda")  # `cpu` runs the script here, as a dry run


def flat(nested) -> list[float]:
    if isinstance(nested, torch.Tensor):
        return nested.flatten().tolist()
    if isinstance(nested, (int, float)):
        return [float(nested)]
    if isinstance(nested, dict):
        return [x for key in sorted(nested) for x in flat(nested[key])]
    return [x for item in nested for x in flat(item)]


def largest_difference(a, b) -> float:
    left, right = flat(a), flat(b)
    assert len(left) == len(right)
    return max((abs(x - y) for x, y in zip(left, right, strict=True)), default=0.0)


def compare(path: Path) -> list[str]:
    program = check(path, require_data=True)
    runs, seconds = {}, {}
    for role, device in (("cpu", "cpu"), ("gpu", GPU)):
        start = time.perf_counter()
        runs[role] = train(program, options=TrainOptions(device=device)).report
        seconds[role] = time.perf_counter() - start
    cpu, gpu = runs["cpu"], runs["gpu"]
    problems = []
    if len(cpu.losses) != len(gpu.losses):
        problems.append(f"{len(cpu.losses)} steps on the CPU, {len(gpu.losses)} on the GPU")
    if abs(cpu.final_loss - gpu.final_loss) > LOSS_TOLERANCE * max(1.0, abs(cpu.final_loss)):
        problems.append(f"final loss {cpu.final_loss!r} on the CPU, {gpu.final_loss!r} on the GPU")
    params = largest_difference(cpu.parameters.final, gpu.parameters.final)
    outputs = largest_difference([e.output for e in cpu.eval], [e.output for e in gpu.eval])
    if any(not torch.equal(t, gpu.parameters.initial[name]) for name, t in cpu.parameters.initial.items()):
        problems.append("the initial parameters differ")
    if not gpu.device.startswith(GPU):
        problems.append(f"the GPU run reports device {gpu.device!r}")
    print(f"{path.relative_to(ROOT)}: {len(gpu.losses)} steps, final loss {cpu.final_loss:.6g} (cpu) "
          f"{gpu.final_loss:.6g} ({GPU}), parameters within {params:.1e}, outputs within {outputs:.1e}, "
          f"{seconds['cpu']:.2f} s (cpu) {seconds['gpu']:.2f} s ({GPU})  {gpu.device}")
    return [f"{path.name}: {p}" for p in problems]


def command_line(out: Path) -> list[str]:
    """A GPU run with every output option, then its weights loaded into a CPU run."""
    nqa = [sys.executable, "-c", "import sys; from runtime.cli import main; sys.exit(main())"]
    spec = str(ROOT / "specs/examples/xor.nqa")
    steps = [
        nqa + ["run", spec, "--device", GPU, "--json", str(out / "xor.json"), "--save", str(out / "xor.safetensors"),
               "--draw", str(out / "xor.svg"), "--trace", "grads", "--quiet"],
        nqa + ["run", spec, "--device", "auto", "--json", str(out / "xor-auto.json"), "--quiet"],
        nqa + ["run", spec, "--device", "cpu", "--load", str(out / "xor.safetensors"), "--epochs", "1", "--quiet"],
        nqa + ["run", str(ROOT / "specs/mlp.nqa"), "--device", GPU],
    ]
    problems = []
    for argv in steps:
        done = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT)
        shown = " ".join(argv[3:]).replace(str(ROOT) + "/", "").replace(str(out) + "/", "OUT/")
        print(f"$ nqa {shown}  -> exit {done.returncode}")
        if done.returncode != 0:
            problems.append(f"`nqa {shown}` exited {done.returncode}: {done.stderr.strip()[-500:]}")
        elif f"--device {GPU}" in shown and "mlp" in shown:
            print("\n".join(done.stdout.splitlines()[:3]))
    for name in ("xor.json", "xor-auto.json"):
        if (out / name).exists():
            device = json.loads((out / name).read_text())["device"]
            if not device.startswith(GPU):
                problems.append(f"{name} says device {device!r}")
    return problems


def main() -> int:
    if GPU == "cuda" and not torch.cuda.is_available():
        print("no CUDA device here")
        return 1
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("device-check")
    out.mkdir(parents=True, exist_ok=True)
    where = torch.cuda.get_device_name() if GPU == "cuda" else GPU
    print(f"torch {torch.__version__}, {where}, Python {sys.version.split()[0]}")
    problems = []
    for path in sorted((ROOT / "specs").glob("*.nqa")) + sorted((ROOT / "specs/examples").glob("*.nqa")):
        problems += compare(path)
    problems += command_line(out)
    print("all agree" if not problems else "\n".join(["DIFFERENT:"] + problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
