"""How long nqa takes to read a large CSV file of numbers into training tensors, against
`numpy.loadtxt` on the same file in the same run, and pyarrow's own reader for scale.

A generated file: 1,000,000 rows of 20 columns (19 inputs and a target, six decimals
each, with a header row), about 170 MB, in a temporary folder. nqa's side is its public
path: `check` of a spec that says `data "big.csv"` (with the default limits, which read
a file this large whole where a quarter of the memory holds it), then `runtime.data.dataset`,
which makes the float32 tensors training uses. Each side is timed best of `--repeats`,
the three taken in turn. `--no-pyarrow` times nqa as where pyarrow is not installed
(its NumPy reader). `--memory` reports, from a fresh process, how much nqa's load raises
the peak resident memory over the process's own after its imports.

Run: `python bench/csv_load.py [--rows N] [--repeats N] [--no-pyarrow] [--memory]`.
Prints seconds and ratios to `numpy.loadtxt`. Target: nqa <= 1.0x loadtxt, aim 0.3x.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

import numpy as np  # noqa: E402

from compiler import Limits, check  # noqa: E402
from runtime.data import dataset  # noqa: E402

COLUMNS = 20


def write_file(folder: Path, rows: int) -> Path:
    """The CSV file and, next to it, the spec that reads it."""
    path = folder / "big.csv"
    rng = np.random.default_rng(0)
    with path.open("w") as out:
        out.write(",".join(f"x{i}" for i in range(COLUMNS - 1)) + ",y\n")
        for start in range(0, rows, 100_000):
            np.savetxt(out, rng.random((min(100_000, rows - start), COLUMNS)), fmt="%.6f", delimiter=",")
    (folder / "big.nqa").write_text(f'data "big.csv"\ninput {COLUMNS - 1}\nlinear ->1\nloss mse\n')
    return path


def nqa_load(folder: Path, rows: int, no_pyarrow: bool = False) -> tuple[int, ...]:
    """The training tensors of the spec's data, as `nqa run` makes them (`no_pyarrow`: as where
    pyarrow is not installed)."""
    limits = Limits()  # the defaults read this file whole (under --max-data-bytes and the memory budget)
    with mock.patch.dict(sys.modules, {"pyarrow": None, "pyarrow.csv": None} if no_pyarrow else {}):
        program = check(folder / "big.nqa", limits=limits)
    data = dataset(program.spec, 0, program.table)
    return tuple(data.inputs.shape)


def best(repeats: int, sides: dict[str, object]) -> dict[str, float]:
    """The fastest time of each side over `repeats` rounds, the sides taken in turn in each round."""
    times: dict[str, float] = dict.fromkeys(sides, float("inf"))
    for _ in range(repeats):
        for name, run in sides.items():
            started = time.perf_counter()
            run()  # type: ignore[operator]  # each side is a callable
            times[name] = min(times[name], time.perf_counter() - started)
    return times


def peak_memory(folder: Path, rows: int, no_pyarrow: bool) -> None:
    """In a fresh process: the resident memory after the imports, and the peak after nqa's load."""
    code = (f"import sys; sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / 'bench')!r}]\n"
            "from pathlib import Path; import csv_load, torch\n"
            + ("import pyarrow.csv\n" if not no_pyarrow else "")
            + "def status(key):\n"
            "    return int(next(line.split()[1] for line in open('/proc/self/status') if line.startswith(key)))\n"
            "before = status('VmRSS:')\n"
            f"csv_load.nqa_load(Path({str(folder)!r}), {rows}, {no_pyarrow})\n"
            "print(f'peak resident memory: {before / 1024:.0f} MB after the imports, '"
            "f'{status(\"VmHWM:\") / 1024:.0f} MB after loading')\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-pyarrow", action="store_true", help="time nqa as where pyarrow is not installed")
    parser.add_argument("--memory", action="store_true", help="also measure the peak memory of nqa's load")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        path = write_file(folder, args.rows)
        print(f"{path.name}: {args.rows:,} rows x {COLUMNS} columns, {path.stat().st_size / 1e6:.0f} MB")
        sides: dict[str, object] = {"numpy.loadtxt": lambda: np.loadtxt(path, delimiter=",", skiprows=1)}
        if args.no_pyarrow:
            sides["nqa (NumPy reader)"] = lambda: nqa_load(folder, args.rows, no_pyarrow=True)
        else:
            from pyarrow import csv

            sides["nqa (pyarrow reader)"] = lambda: nqa_load(folder, args.rows)
            sides["pyarrow.csv.read_csv"] = lambda: csv.read_csv(path)
        times = best(args.repeats, sides)
        base = times["numpy.loadtxt"]
        for side, seconds in times.items():
            print(f"{side:24} {seconds:7.2f} s  {seconds / base:5.2f}x loadtxt")
        if args.memory:
            peak_memory(folder, args.rows, args.no_pyarrow)


if __name__ == "__main__":
    main()
