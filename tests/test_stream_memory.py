"""Peak memory of a streamed run: training on a CSV file (or Parquet files) four times larger
than --memory-budget holds no more than the budget (and a stated allowance) beyond what a tiny
run holds.

Each run is a child process that says its own peak resident size (`ru_maxrss`): the baseline
(a spec of two examples, trained: Python, torch, nqa; for Parquet, a tiny Parquet file read
whole, as pyarrow's Parquet reader holds about 12 MB from its first use, whatever the file) and
the streamed run. The allowance is for what does not depend on the file or the budget: memory
the allocator keeps once freed. The modules that reading CSV or Parquet imports (pyarrow's: this
test needs it) are imported by the baseline run too.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BUDGET = 10_000_000  # 10 MB
ALLOWANCE = 6_000_000  # 6 MB
ROWS = 250_000  # x 20 columns of `0.12345,`: a 40 MB file, four times the budget
ROOT = Path(__file__).resolve().parent.parent
READERS = "numpy, pyarrow, pyarrow.csv, pyarrow.parquet"  # what reading imports (31 MB beside torch), in the baseline


def _peak_after(*argv: str, imports: str = "sys") -> int:
    """Run `nqa argv...` in a child process (having imported `imports`); its peak resident size, in
    bytes (its own, not that of children run before it)."""
    command = (f"import {imports}; import resource, sys; from runtime.cli import main; code = main(sys.argv[1:]); "
               "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); sys.exit(code)")
    done = subprocess.run([sys.executable, "-c", command, *argv], capture_output=True, text=True, cwd=ROOT,
                          timeout=1200)
    assert done.returncode == 0, done.stderr[-2000:]
    return int(done.stderr.split()[-1]) * 1024  # kB on Linux


def test_a_file_four_times_the_budget_trains_within_the_budget(tmp_path):
    pytest.importorskip("pyarrow")
    rng = np.random.default_rng(0)
    inputs = rng.random((ROWS, 19))
    np.savetxt(tmp_path / "big.csv", np.column_stack([inputs, inputs @ rng.random(19)]), fmt="%.5f", delimiter=",")
    assert (tmp_path / "big.csv").stat().st_size >= 4 * BUDGET
    (tmp_path / "tiny.nqa").write_text("linear 2->1\nexample [1, 2] -> [3]\nexample [2, 2] -> [4]\nepochs 1\n")
    (tmp_path / "big.nqa").write_text('input 19\nlinear 19->32\nrelu\nlinear 32->1\ndata "big.csv"\n'
                                      'batch 256\nshuffle\nvalidate 0.1\nepochs 1\n')
    baseline = _peak_after("run", "--no-log", "-q", str(tmp_path / "tiny.nqa"), imports=READERS)
    streamed = _peak_after("run", "--no-log", "-q", "--memory-budget", str(BUDGET), "--json",
                           str(tmp_path / "r.json"), str(tmp_path / "big.nqa"))
    print(f"baseline {baseline / 1e6:.1f} MB, streamed {streamed / 1e6:.1f} MB, "
          f"difference {(streamed - baseline) / 1e6:.1f} MB")
    assert '"rows": 250000' in (tmp_path / "r.json").read_text()
    assert streamed - baseline < BUDGET + ALLOWANCE


def test_parquet_files_four_times_the_budget_train_within_the_budget(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    rng = np.random.default_rng(0)
    (tmp_path / "s").mkdir()
    for n in range(4):  # 62,500 rows x 20 float64 a file (10 MB once read), in row groups of 5,000 rows
        inputs = rng.random((ROWS // 4, 19))
        columns = {f"c{i}": inputs[:, i] for i in range(19)} | {"y": inputs @ np.arange(19) / 19}
        pq.write_table(pa.table(columns), tmp_path / "s" / f"part-{n}.parquet", row_group_size=5000)
    pq.write_table(pa.table({f"c{i}": [0.5, 0.25] for i in range(20)}), tmp_path / "tiny.parquet")
    net = "input 19\nlinear 19->32\nrelu\nlinear 32->1\nbatch 256\nshuffle\nepochs 1\n"
    (tmp_path / "tiny.nqa").write_text(net + 'data "tiny.parquet"\n')  # what reading Parquet holds, whatever its size
    (tmp_path / "big.nqa").write_text(net + 'data "s/*.parquet"\nvalidate 0.1\n')
    baseline = _peak_after("run", "--no-log", "-q", str(tmp_path / "tiny.nqa"), imports=READERS)
    streamed = _peak_after("run", "--no-log", "-q", "--memory-budget", str(BUDGET), "--json",
                           str(tmp_path / "r.json"), str(tmp_path / "big.nqa"))
    print(f"baseline {baseline / 1e6:.1f} MB, streamed {streamed / 1e6:.1f} MB, "
          f"difference {(streamed - baseline) / 1e6:.1f} MB")
    report = (tmp_path / "r.json").read_text()
    assert '"rows": 250000' in report and '"files": 4' in report
    assert streamed - baseline < BUDGET + ALLOWANCE
