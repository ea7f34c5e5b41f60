"""A streamed data set trained on two processes: each rank takes its share of the same global
batches the one-process stream gives, so the losses and final weights agree within 1e-5.

In: a generated CSV file larger than a small `--memory-budget`, trained with `--nproc 1` and
`--nproc 2`. Out: both JSON reports say the data was streamed, name their processes as they should,
and agree; the 2-process run writes one report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SPEC = """input 4
linear 4->8
relu
linear 8->1
loss mse
optimizer sgd lr=0.05
batch 32
shuffle buffer=200
validate 0.2
epochs 2
data "rows.csv"
"""


def _run(folder: Path, nproc: int) -> dict:
    env = {key: value for key, value in os.environ.items() if key not in ("MASTER_PORT", "WORLD_SIZE", "RANK")}
    env.update({"PYTHONPATH": str(ROOT), "NO_COLOR": "1", "NQA_COLLECTIVE_TIMEOUT": "120"})
    out = folder / f"{nproc}.json"
    done = subprocess.run([sys.executable, "-m", "runtime", "s.nqa", "--nproc", str(nproc), "--memory-budget",
                           "64kB", "--json", out.name, "--quiet", "--no-log"], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text())


def test_a_streamed_data_set_on_two_processes_agrees_with_one(tmp_path):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3000, 4))
    y = x @ np.array([0.5, -1.0, 0.25, 2.0]) + 0.1
    np.savetxt(tmp_path / "rows.csv", np.column_stack([x, y]), fmt="%.6f", delimiter=",",
               header="a,b,c,d,y", comments="")
    (tmp_path / "s.nqa").write_text(SPEC)
    one, two = _run(tmp_path, 1), _run(tmp_path, 2)
    assert one["streamed"]["pieces"] > 1 and two["streamed"] == one["streamed"]
    assert "processes" not in one and two["processes"] == 2
    assert len(one["losses"]) == len(two["losses"]) == 2 * -(-one["streamed"]["trained"] // 32)
    ones, twos = one["losses"] + one["validation"]["losses"], two["losses"] + two["validation"]["losses"]
    largest = max(abs(a - b) / max(abs(a), abs(b)) for a, b in zip(ones, twos, strict=True))
    assert largest < 1e-5, largest
    for name, final in one["parameters"]["final"].items():
        a, b = np.array(final), np.array(two["parameters"]["final"][name])
        assert np.abs(a - b).max() <= 1e-5 * np.abs(a).max(), name
    assert sorted(p.name for p in tmp_path.glob("*.json")) == ["1.json", "2.json"]
