"""Trains every example spec that can be shared among processes, a few epochs each, through
`runtime.train`, in whatever torch.distributed world it is started in (`torchrun ... this file OUT`,
or plainly for one process). Rank 0 writes, as JSON to OUT, each spec's losses per step, held-out
losses and final parameters; tests/test_distributed.py compares the worlds of 1, 2 and 4 processes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from runtime import TrainOptions, train
from runtime.distributed import rank

EXAMPLES = Path(__file__).resolve().parent.parent / "specs" / "examples"
# name -> epochs: short runs; every example but the two of batch_norm (digits, digits_resnet)
SPECS = {"iris": 3, "iris_control": 8, "sine": 1, "temperatures": 30, "tokens": 2, "wine": 3, "xor": 30}
# three rows, the whole set each step: on 4 processes one rank has none and still joins the all-reduce
THREE_ROWS = """linear 2->3
tanh
dropout 0.0
linear 3->1
loss mse
optimizer sgd lr=0.1 momentum=0.9
epochs 20
seed 3
example [0, 1] -> [1]
example [1, 0] -> [1]
example [1, 1] -> [0]
"""


def results() -> dict:
    found = {}
    runs = [(name, Path(EXAMPLES / f"{name}.nqa"), epochs) for name, epochs in SPECS.items()]
    for name, spec, epochs in [*runs, ("three_rows", THREE_ROWS, None)]:
        run = train(spec, options=TrainOptions(epochs=epochs))
        validation = run.report.validation
        found[name] = {"losses": list(run.report.losses),
                       "validation": list(validation.losses) if validation is not None else [],
                       "parameters": {key: value.flatten().tolist() for key, value in run.model.state_dict().items()}}
    return found


if __name__ == "__main__":
    found = results()
    if rank() == 0:
        Path(sys.argv[1]).write_text(json.dumps(found), encoding="utf-8")
