"""Peak memory of a streamed run: training on a CSV file four times larger than --memory-budget
holds no more than the budget (and a stated allowance) beyond what a tiny run holds.

Each run is a child process; `ru_maxrss` of the children is the largest peak resident size
among them, read after the baseline (a spec of two examples, trained: Python, torch, nqa)
and again after the streamed run. The allowance is for what does not depend on the file or
the budget: the modules that reading CSV imports, and memory the allocator keeps once freed.
"""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import numpy as np

BUDGET = 10_000_000  # 10 MB
ALLOWANCE = 6_000_000  # 6 MB
ROWS = 250_000  # x 20 columns of `0.12345,`: a 40 MB file, four times the budget
ROOT = Path(__file__).resolve().parent.parent


def _peak_after(*argv: str) -> int:
    """Run `nqa argv...` in a child process; the children's largest peak resident size since, in bytes."""
    command = "import sys; from runtime.cli import main; sys.exit(main(sys.argv[1:]))"
    done = subprocess.run([sys.executable, "-c", command, *argv], capture_output=True, text=True, cwd=ROOT,
                          timeout=1200)
    assert done.returncode == 0, done.stderr[-2000:]
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # kB on Linux


def test_a_file_four_times_the_budget_trains_within_the_budget(tmp_path):
    rng = np.random.default_rng(0)
    inputs = rng.random((ROWS, 19))
    np.savetxt(tmp_path / "big.csv", np.column_stack([inputs, inputs @ rng.random(19)]), fmt="%.5f", delimiter=",")
    assert (tmp_path / "big.csv").stat().st_size >= 4 * BUDGET
    (tmp_path / "tiny.nqa").write_text("linear 2->1\nexample [1, 2] -> [3]\nexample [2, 2] -> [4]\nepochs 1\n")
    (tmp_path / "big.nqa").write_text('input 19\nlinear 19->32\nrelu\nlinear 32->1\ndata "big.csv"\n'
                                      'batch 256\nshuffle\nvalidate 0.1\nepochs 1\n')
    baseline = _peak_after("run", "--no-log", "-q", str(tmp_path / "tiny.nqa"))
    streamed = _peak_after("run", "--no-log", "-q", "--memory-budget", str(BUDGET), "--json",
                           str(tmp_path / "r.json"), str(tmp_path / "big.nqa"))
    print(f"baseline {baseline / 1e6:.1f} MB, streamed {streamed / 1e6:.1f} MB, "
          f"difference {(streamed - baseline) / 1e6:.1f} MB")
    assert '"rows": 250000' in (tmp_path / "r.json").read_text()
    assert streamed - baseline < BUDGET + ALLOWANCE
