"""One epoch of an MLP on a generated 200,000 x 64 data set: nqa in one process and on `--nproc 2`,
against a hand-written loop with DataLoader(TensorDataset(...)), measured in the same run.

In: nothing (`python bench/epoch_speed.py [--quick]`: --quick, 20,000 rows and fewer repeats).
Out: a table of medians and ratios with the date, the machine (cores) and the torch version, as
the README's "Speed" carries it. The network: 64 -> 256 -> 256 -> 10 with relu, cross_entropy,
sgd lr=0.01, batch 256, shuffled. Target: nqa in one process <= 0.8x the hand-written loop
(its training loop: the report's `train_seconds`; the whole `train` call is given beside it).
`--nproc 2`: the training loop of rank 0 (the report's `train_seconds`), and the whole command
(starting two workers, importing torch twice, reading the data in each), both stated as they are.
"""

from __future__ import annotations

import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

from runtime import train  # noqa: E402

QUICK = "--quick" in sys.argv
ROWS = 20_000 if QUICK else 200_000
REPEATS = 3 if QUICK else 5
SPEC = """data "rows.npz" inputs=x target=y
linear 64->256
relu
linear 256->256
relu
linear 256->10
loss cross_entropy
optimizer sgd lr=0.01
batch 256
shuffle
epochs 1
seed 0
"""


def write_data(folder: Path) -> tuple[torch.Tensor, torch.Tensor]:
    generator = np.random.default_rng(0)
    x = generator.standard_normal((ROWS, 64), dtype=np.float32)
    y = (x[:, :10].argmax(axis=1)).astype(np.int64)  # a learnable class: the largest of the first ten inputs
    np.savez(folder / "rows.npz", x=x, y=y)
    (folder / "epoch.nqa").write_text(SPEC, encoding="utf-8")
    return torch.from_numpy(x), torch.from_numpy(y)


def hand_loop(x: torch.Tensor, y: torch.Tensor) -> float:
    """The tutorial's loop, one epoch; the seconds of the loop alone."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
    loader = DataLoader(TensorDataset(x, y), batch_size=256, shuffle=True)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    criterion = nn.CrossEntropyLoss()
    started = time.perf_counter()
    for inputs, targets in loader:
        optimizer.zero_grad()
        loss = criterion(model(inputs), targets)
        loss.backward()
        optimizer.step()
        loss.item()  # as nqa records every step's loss
    return time.perf_counter() - started


def nqa_one(folder: Path) -> tuple[float, float]:
    """The report's training-loop seconds, and the whole `train` call's (reading and checking included)."""
    started = time.perf_counter()
    run = train(folder / "epoch.nqa")
    whole = time.perf_counter() - started
    assert run.report.timing is not None
    return run.report.timing.train_seconds, whole


def nqa_two(folder: Path) -> tuple[float, float]:
    """Rank 0's training-loop seconds in `nqa run --nproc 2`, and the whole command's."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "runtime", "epoch.nqa", "--nproc", "2", "--json", "two.json",
                           "-q", "--no-log"], cwd=folder, env=env, capture_output=True, text=True)
    whole = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(done.stderr)
    return json.loads((folder / "two.json").read_text())["timing"]["train_seconds"], whole


def main() -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        x, y = write_data(folder)
        hand, one, one_whole, two, two_whole = [], [], [], [], []
        for _ in range(REPEATS):  # in turn, so a slow spell of the machine falls on both
            hand.append(hand_loop(x, y))
            loop, whole = nqa_one(folder)
            one.append(loop)
            one_whole.append(whole)
        for _ in range(max(1, REPEATS // 2)):
            loop, whole = nqa_two(folder)
            two.append(loop)
            two_whole.append(whole)
    h, o, t = statistics.median(hand), statistics.median(one), statistics.median(two)
    ms = lambda s: f"{s * 1000:.0f} ms"  # noqa: E731
    print(f"{datetime.date.today()}, {os.cpu_count()} cores, torch {torch.__version__}, {ROWS:,} x 64 rows, "
          f"medians of {REPEATS} (--nproc 2: {len(two)})\n")
    print("| benchmark | nqa | baseline | ratio | target | note |")
    print("| --- | --- | --- | --- | --- | --- |")
    print(f"| one epoch, MLP 64-256-256-10, batch 256, 1 process | {ms(o)} | {ms(h)} | {o / h:.2f}x | <= 0.8x | "
          f"baseline: DataLoader(TensorDataset) loop; the whole `train` call {ms(statistics.median(one_whole))} |")
    print(f"| the same epoch, --nproc 2 (rank 0's loop) | {ms(t)} | {ms(o)} | {o / t:.2f}x speed-up | stated | "
          f"baseline: nqa in 1 process; the whole command {ms(statistics.median(two_whole))} "
          f"(two workers started, torch imported and the data read in each) |")


if __name__ == "__main__":
    main()
