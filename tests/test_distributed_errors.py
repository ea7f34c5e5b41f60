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


# --- --nproc N: the command line checked by the launcher, before any worker starts -------------------------

def _said_by_launcher(capsys, *words: str) -> str:
    """`nqa run iris.nqa --nproc 2 WORDS` in this process: its exit code 2 and what the launcher itself said
    (capsys holds this process's stderr alone: a worker's words would not be in it); run from the spec's folder."""
    from runtime.cli import main

    assert main(["run", "iris.nqa", "--nproc", "2", "--no-log", "-q", *words]) == 2
    return capsys.readouterr().err


@pytest.mark.parametrize(("words", "said"), [
    (("--json", "same.x", "--save", "same.x"),
     "error[E0905]: --save and --json both write `same.x`\n  = hint: give each output its own file name\n"),
    (("--json", "iris.csv"), ("error[E0905]: --json `iris.csv` would write over the data file `iris.csv`\n"
                             "  = hint: give --json another file name: nqa never writes over its inputs\n")),
    (("--load", "none.safetensors"),
     "error[E0908]: cannot read `none.safetensors`: no such file\n  = hint: check the path to the weights file\n"),
    (("--resume", "nodir"), ("error[E0912]: cannot resume from `nodir`: there is no such folder\n"
                            "  = hint: give the folder of checkpoints a run wrote with --checkpoint-every\n")),
    (("--checkpoint-dir", "iris.csv"), ("error[E0902]: --checkpoint-dir applies only with --checkpoint-every or "
                                       "--resume\n  = hint: add `--checkpoint-every 10`\n")),
    (("--draw", "net.png"), ("error[E0906]: --draw writes SVG, so `net.png` would hold SVG under a `.png` name\n"
                            "  = hint: end the name with .svg\n")),
    (("--checkpoint-every", "1", "--checkpoint-dir", "iris.csv"),
     ("error[E0913]: cannot write checkpoints into `iris.csv`: it is not a folder\n"
     "  = hint: give --checkpoint-dir a folder, or a name for a new one\n")),
], ids=["two-outputs", "output-over-data", "load", "resume", "checkpoint-dir", "draw", "checkpoint-dir-a-file"])
def test_nproc_command_line_mistakes_are_said_once_by_the_launcher(iris, capsys, monkeypatch, words, said):
    monkeypatch.chdir(iris)
    err = _said_by_launcher(capsys, *words)
    assert err == said


def test_nproc_tensorboard_without_the_package_is_said_once_by_the_launcher(iris, capsys, monkeypatch):
    import importlib.util

    if importlib.util.find_spec("tensorboard") is not None:
        pytest.skip("tensorboard is installed: --tensorboard is not a mistake here")
    monkeypatch.chdir(iris)
    assert _said_by_launcher(capsys, "--tensorboard", "tb") == (
        "error[E0904]: --tensorboard needs the tensorboard package, which is not installed\n"
        "  = hint: install it with `pip install 'nqa[tensorboard]'`\n")


def test_nproc_a_mistake_only_the_workers_find_is_said_once_with_no_worker_failed_line(iris):
    rows = (iris / "iris.csv").read_text().splitlines()
    rows[40] = "5.0,abc,1.4,0.2,setosa"  # the data is read by the workers, not by the launcher
    (iris / "iris.csv").write_text("\n".join(rows) + "\n")
    done = _python("-m", "runtime", "iris.nqa", "--nproc", "2", "--no-log", "-q", cwd=iris)
    assert done.returncode == 2
    assert done.stderr.count("error[E0311]: `iris.csv` line 41, column `sepal_width`: `abc` is not a finite "
                             "number") == 1, done.stderr
    assert done.stderr.count("error: 2 problems found in iris.nqa") == 1
    assert "E0928" not in done.stderr and "Traceback" not in done.stderr


# --- NQA_COLLECTIVE_TIMEOUT ---------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["abc", "0", "-1", "1e99", "30s", "86401"])
def test_a_collective_timeout_that_is_no_number_of_seconds_is_refused_before_any_worker_starts(
        iris, capsys, monkeypatch, value):
    monkeypatch.chdir(iris)
    monkeypatch.setenv("NQA_COLLECTIVE_TIMEOUT", value)
    assert _said_by_launcher(capsys) == (
        f"error[E0901]: NQA_COLLECTIVE_TIMEOUT `{value}` is not a number of seconds from 1 to 86400\n"
        "  = hint: set it to whole seconds (e.g. NQA_COLLECTIVE_TIMEOUT=600), or unset it for 300\n")


def test_a_worker_of_a_torchrun_world_refuses_a_bad_collective_timeout_before_meeting_its_peers(iris):
    alone = _python("-m", "runtime", "iris.nqa", "--no-log", cwd=iris, WORLD_SIZE="2", RANK="0", LOCAL_RANK="0",
                    MASTER_ADDR="127.0.0.1", MASTER_PORT="1", NQA_COLLECTIVE_TIMEOUT="-1")
    assert alone.returncode == 2
    assert alone.stderr.startswith("error[E0901]: NQA_COLLECTIVE_TIMEOUT `-1` is not a number of seconds from 1 "
                                   "to 86400\n")
    assert "Traceback" not in alone.stderr


def test_a_good_collective_timeout_is_taken(monkeypatch):
    from runtime.distributed import timeout_seconds

    for value, seconds in (("600", 600), (" 45 ", 45), ("", 300), ("86400", 86400)):
        monkeypatch.setenv("NQA_COLLECTIVE_TIMEOUT", value)
        assert timeout_seconds() == seconds
    monkeypatch.delenv("NQA_COLLECTIVE_TIMEOUT")
    assert timeout_seconds() == 300


# --- a launcher killed outright ----------------------------------------------------------------------------

def _workers(launcher: int) -> list[int]:
    try:
        return [int(pid) for pid in Path(f"/proc/{launcher}/task/{launcher}/children").read_text().split()]
    except OSError:
        return []


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")  # a zombie has ended; its new parent has yet to reap it


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the workers through /proc (Linux)")
def test_workers_die_with_a_launcher_killed_by_sigkill_and_write_nothing(iris):
    import signal
    import time

    job = subprocess.Popen([sys.executable, "-m", "runtime", "iris.nqa", "--nproc", "2", "--epochs", "100000",
                            "--no-log", "-q", "--json", "out.json"], cwd=iris, env=_env(),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while len(workers) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
            workers = _workers(job.pid)
        assert len(workers) == 2
        time.sleep(3)  # training, torch loaded
        assert all(_running(pid) for pid in workers)
        os.kill(job.pid, signal.SIGKILL)
        job.wait(timeout=30)
        deadline = time.monotonic() + 15
        while any(_running(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(_running(pid) for pid in workers)
    finally:
        for pid in [job.pid, *workers]:
            if _running(pid):
                os.kill(pid, signal.SIGKILL)
    assert not (iris / "out.json").exists()


# --- the launcher's own process --------------------------------------------------------------------------

def test_an_nproc_run_called_in_process_leaves_the_environment_as_it_was(iris, capsys, monkeypatch):
    """torchrun sets OMP_NUM_THREADS=1 (and its own variables) where it runs: a later run in this process
    would inherit them; the launcher puts back the environment it found."""
    from runtime.cli import main

    monkeypatch.chdir(iris)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setenv("PYTHONPATH", "/somewhere/else")
    before = dict(os.environ)
    assert main(["run", "iris.nqa", "--nproc", "2", "--epochs", "2", "--no-log", "-q", "--json", "r.json"]) == 0
    assert dict(os.environ) == before
    assert (iris / "r.json").exists()
