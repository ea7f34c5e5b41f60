"""Small specs for the checkpoint and resume tests, each exercising a different part of
a run's state: `control` Adam under warm-up, a cosine schedule, clipping and early
stopping with restore (torch's optimizer, schedulers stepped per epoch); `momentum`
SGD with momentum written out (`lean_optim`'s buffers), batch norm's running
statistics and early stopping; `lean_adam` Adam written out (its step counts);
`onecycle` a schedule stepped per batch. All shuffle, batch and drop out (the
global RNG), and read iris.csv, copied beside them by `spec_folder`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SPECS = {
    "control": """linear 4->16
relu
dropout 0.2
linear 16->3
data "iris.csv" inputs=sepal_length,sepal_width,petal_length,petal_width target=species
optimizer adam lr=0.01
loss cross_entropy
init kaiming
warmup 3
schedule cosine
clip 1.0
stop patience=4 min_delta=0.0005
epochs 40
batch 16
shuffle
validate 0.2
seed 0
eval [5.1, 3.5, 1.4, 0.2]
""",
    "momentum": """linear 4->12
batch_norm
relu
dropout 0.3
linear 12->3
data "iris.csv" inputs=sepal_length,sepal_width,petal_length,petal_width target=species
optimizer sgd lr=0.05 momentum=0.9
loss cross_entropy
stop patience=6 min_delta=0.001
epochs 30
batch 20
shuffle
validate 0.2
seed 3
""",
    "onecycle": """linear 4->8
tanh
dropout 0.1
linear 8->3
data "iris.csv" inputs=sepal_length,sepal_width,petal_length,petal_width target=species
optimizer sgd lr=0.05 momentum=0.9
loss cross_entropy
schedule onecycle max_lr=0.2
epochs 24
batch 32
shuffle
seed 5
""",
    "lean_adam": """linear 4->16
relu
dropout 0.2
linear 16->3
data "iris.csv" inputs=sepal_length,sepal_width,petal_length,petal_width target=species
optimizer adam lr=0.01
loss cross_entropy
stop patience=4 min_delta=0.0005
epochs 40
batch 16
shuffle
validate 0.2
seed 0
eval [5.1, 3.5, 1.4, 0.2]
""",
}


def spec_folder(folder: Path) -> Path:
    """Every spec above written into `folder`, with iris.csv beside them."""
    shutil.copy(ROOT / "specs/examples/iris.csv", folder / "iris.csv")
    for name, text in SPECS.items():
        (folder / f"{name}.nqa").write_text(text, encoding="utf-8")
    return folder


def report_of(path: Path) -> dict:
    """A JSON report without its timing, which no two runs share."""
    report = json.loads(path.read_text(encoding="utf-8"))
    report.pop("timing", None)
    return report
