"""A distributed run's mistakes as the user sees them: said once (by rank 0, or by the launcher before any
worker starts), exit code 2, no traceback from nqa, no "worker failed" line for a mistake; the launcher's
environment kept; workers that die with their launcher; NQA_COLLECTIVE_TIMEOUT refused when it is no timeout.

Launches start real worker processes (torch.distributed.run): a few short ones.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "specs" / "examples"


def _env(**more: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("MASTER_PORT", "WORLD_SIZE", "RANK")}
    env.update({"PYTHONPATH": str(ROOT), "NO_COLOR": "1", "NQA_COLLECTIVE_TIMEOUT": "120", **more})
    return env


def _python(*words: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *words], cwd=cwd, env=_env(**env), capture_output=True, text=True,
                          timeout=300)


@pytest.fixture
def iris(tmp_path) -> Path:
    for name in ("iris.nqa", "iris.csv"):
        (tmp_path / name).write_bytes((EXAMPLES / name).read_bytes())
    return tmp_path


BAD_SPEC = "linear 4->8\nrelu\nlinear 9->3\ndata \"iris.csv\"\nloss cross_entropy\n"
LOCATED = "error[E0201]: `linear 9->3` expects 9 inputs, but it receives 8 from `linear 4->8`"


def test_under_torchrun_a_spec_error_is_said_once_and_every_worker_exits_2_without_a_traceback(iris):
    (iris / "bad.nqa").write_text(BAD_SPEC)
    done = _python("-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", "-m", "runtime",
                   "bad.nqa", "--no-log", cwd=iris)
    err = done.stderr
    assert done.returncode == 1  # torchrun's own exit code for a failed worker
    assert err.count(" --> bad.nqa:3:8") == 1  # the located error, drawn once (rank 0's)
    assert err.count("= hint: write `linear 8->3`") == 1
    # torchrun's summary: the worker's exit code 2 and its error's first line, no Python frames of nqa
    assert "exitcode  : 2" in err
    assert f"traceback : {LOCATED}" in err
    assert "runtime/cli.py" not in err and "new message format" not in err
