"""Distributed training: 1, 2 and 4 processes agree; two torchrun "nodes" give the 4-process run; rank 0
alone writes; checkpoints resume on another number of processes; a killed worker ends the job clearly.

Each launch starts real worker processes (torch.distributed.run), so these are the slow tests of the
suite: a handful of launches of short runs. The refusals (made before any worker starts) are fast.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from runtime.cli import main
from runtime.resume_files import read_checkpoints

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "specs" / "examples"
TOLERANCE = 1e-5  # relative, as the request states it


def _env(**more: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("MASTER_PORT", "WORLD_SIZE", "RANK")}
    env.update({"PYTHONPATH": str(ROOT), "NO_COLOR": "1", "NQA_COLLECTIVE_TIMEOUT": "120", **more})
    return env


def _nqa(*words: str, cwd: Path, timeout: float = 300, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "runtime", *words], cwd=cwd, env=_env(**env), capture_output=True,
                          text=True, timeout=timeout)


def _torchrun(*words: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "torch.distributed.run", *words], cwd=cwd, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _relative(a: list[float], b: list[float]) -> float:
    assert len(a) == len(b)
    return max((abs(x - y) / max(abs(x), abs(y), 1e-30) for x, y in zip(a, b, strict=True)), default=0.0)


def _tensor_relative(a: dict[str, list[float]], b: dict[str, list[float]]) -> float:
    """The largest difference of a parameter tensor's values, relative to that tensor's largest value."""
    assert a.keys() == b.keys()
    return max(max(abs(x - y) for x, y in zip(a[k], b[k], strict=True)) / max(max(map(abs, a[k])), 1e-30)
               for k in a)


# --- equivalence: every example that can be shared, in worlds of 1, 2 and 4 -------------------------------

@pytest.fixture(scope="module")
def worlds(tmp_path_factory) -> dict[int, dict]:
    """Each example trained a few epochs by `runtime.train` in one process, and under torchrun in 2 and 4."""
    folder = tmp_path_factory.mktemp("worlds")
    script = ROOT / "tests" / "distributed_examples.py"
    found = {}
    for n in (1, 2, 4):
        out = folder / f"{n}.json"
        command = [str(script), str(out)] if n == 1 else ["-m", "torch.distributed.run", "--standalone",
                                                          "--nproc-per-node", str(n), str(script), str(out)]
        done = subprocess.run([sys.executable, *command], env=_env(), capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[:4000] + "\n...\n" + done.stderr[-2000:]
        found[n] = json.loads(out.read_text())
    return found


def test_two_and_four_processes_agree_with_one_within_1e_5_on_every_example(worlds):
    largest = {"losses": 0.0, "parameters": 0.0}
    for n in (2, 4):
        for name, one in worlds[1].items():
            there = worlds[n][name]
            losses = _relative(one["losses"] + one["validation"], there["losses"] + there["validation"])
            parameters = _tensor_relative(one["parameters"], there["parameters"])
            print(f"{name} on {n} processes: losses {losses:.2e}, parameters {parameters:.2e} (relative)")
            assert losses <= TOLERANCE, (name, n)
            assert parameters <= TOLERANCE, (name, n)
            largest = {"losses": max(largest["losses"], losses), "parameters": max(largest["parameters"], parameters)}
    print(f"largest difference from one process: losses {largest['losses']:.2e}, "
          f"parameters {largest['parameters']:.2e}")
    assert set(worlds[1]) == {"iris", "iris_control", "sine", "temperatures", "tokens", "wine", "xor", "three_rows"}


# --- the command line: rank 0 alone writes; resuming on another number of processes -------------------------

@pytest.fixture
def iris(tmp_path) -> Path:
    for name in ("iris.nqa", "iris.csv"):
        (tmp_path / name).write_bytes((EXAMPLES / name).read_bytes())
    return tmp_path


def _report(path: Path) -> dict:
    return json.loads(path.read_text())


def _final(report: dict) -> dict[str, list[float]]:
    return {name: torch.tensor(values).flatten().tolist() for name, values in report["parameters"]["final"].items()}


def test_nproc_2_prints_and_writes_once_and_resumes_in_one_process_to_the_same_end(iris, capsys):
    done = _nqa("iris.nqa", "--nproc", "2", "--epochs", "3", "--checkpoint-every", "1", "--json", "two.json",
                "--save", "two.safetensors", "--log-dir", "logs", "--full-parameters", cwd=iris)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("nqa run iris.nqa  (seed 0, 2 processes)") == 1  # one report, from rank 0
    assert "Traceback" not in done.stderr
    assert sorted(p.name for p in iris.iterdir()) == ["iris.csv", "iris.nqa", "logs", "two.checkpoints", "two.json",
                                                      "two.safetensors"]
    assert sorted(p.name for p in (iris / "two.checkpoints").iterdir()) == [
        "checkpoint-00000002.safetensors", "checkpoint-00000003.safetensors"]
    assert main(["runs", "--log-dir", str(iris / "logs"), "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 1  # one run logged, by rank 0

    assert main(["run", str(iris / "iris.nqa"), "--epochs", "3", "--json", str(iris / "one.json"), "-q",
                 "--no-log", "--full-parameters"]) == 0
    one, two = _report(iris / "one.json"), _report(iris / "two.json")
    assert _relative(one["losses"], two["losses"]) <= TOLERANCE
    assert _tensor_relative(_final(one), _final(two)) <= TOLERANCE

    (iris / "two.checkpoints" / "checkpoint-00000003.safetensors").unlink()  # as if stopped after epoch 2
    assert main(["run", str(iris / "iris.nqa"), "--epochs", "3", "--resume", str(iris / "two.checkpoints"),
                 "--json", str(iris / "resumed.json"), "-q", "--no-log", "--full-parameters"]) == 0
    resumed = _report(iris / "resumed.json")
    assert _relative(one["losses"], resumed["losses"]) <= TOLERANCE
    assert _tensor_relative(_final(one), _final(resumed)) <= TOLERANCE


def test_a_one_process_checkpoint_resumes_on_four_processes_to_the_same_end(iris):
    assert main(["run", str(iris / "iris.nqa"), "--epochs", "3", "--checkpoint-every", "1", "--json",
                 str(iris / "one.json"), "-q", "--no-log", "--full-parameters"]) == 0
    (iris / "one.checkpoints" / "checkpoint-00000003.safetensors").unlink()
    done = _nqa("iris.nqa", "--nproc", "4", "--epochs", "3", "--resume", "one.checkpoints", "--json", "four.json",
                "-q", "--no-log", "--full-parameters", cwd=iris)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("resuming from") == 1  # said once, by rank 0
    one, four = _report(iris / "one.json"), _report(iris / "four.json")
    assert _relative(one["losses"], four["losses"]) <= TOLERANCE
    assert _tensor_relative(_final(one), _final(four)) <= TOLERANCE


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_torchrun_nodes_side_by_side_give_the_four_process_report(iris):
    port = _free_port()
    nodes = [_torchrun("--nnodes", "2", "--nproc-per-node", "2", "--rdzv-backend", "c10d", "--rdzv-endpoint",
                       f"127.0.0.1:{port}", "--rdzv-id", "two-nodes", "-m", "runtime", "iris.nqa", "--epochs", "2",
                       "--no-log", "--json", f"node{n}.json", cwd=iris) for n in (0, 1)]
    outputs = [node.communicate(timeout=300) for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0], [err[-2000:] for _, err in outputs]
    written = sorted(p.name for p in iris.glob("node*.json"))
    assert len(written) == 1  # the node holding rank 0 wrote the report; the other wrote nothing
    assert sum(out.count("nqa run iris.nqa") for out, _ in outputs) == 1
    done = _nqa("iris.nqa", "--nproc", "4", "--epochs", "2", "--no-log", "--json", "four.json", "-q", cwd=iris)
    assert done.returncode == 0, done.stderr
    nodes_report, four = _report(iris / written[0]), _report(iris / "four.json")
    assert nodes_report["losses"] == four["losses"]
    assert nodes_report["parameters"] == four["parameters"]


# --- a worker that dies ---------------------------------------------------------------------------------

def _rank_one(parent: int) -> int | None:
    """The worker of rank 1 among the launcher's children (its environment says RANK=1)."""
    for child in Path(f"/proc/{parent}/task/{parent}/children").read_text().split():
        try:
            env = Path(f"/proc/{child}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"RANK=1" in env:
            return int(child)
    return None


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="finds the worker through /proc (Linux)")
def test_a_worker_killed_mid_epoch_ends_the_job_naming_it_and_the_last_checkpoint_survives(iris):
    job = subprocess.Popen([sys.executable, "-m", "runtime", "iris.nqa", "--nproc", "2", "--epochs", "100000",
                            "--checkpoint-every", "1", "--checkpoint-dir", "ck", "--save", "w.safetensors",
                            "--no-log", "-q"], cwd=iris, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    try:
        deadline = time.monotonic() + 240
        while not list((iris / "ck").glob("checkpoint-*.safetensors")) and time.monotonic() < deadline:
            time.sleep(0.2)
        worker = _rank_one(job.pid)
        assert worker is not None
        os.kill(worker, signal.SIGKILL)
        _, err = job.communicate(timeout=120)
    finally:
        if job.poll() is None:
            job.kill()
    assert job.returncode not in (0, None)
    assert "error[E0928]: worker rank 1 of 2 was killed by SIGKILL; the run was stopped" in err
    assert "Traceback" not in err
    kept = sorted((iris / "ck").iterdir())
    assert kept and all(p.name.startswith("checkpoint-") and p.suffix == ".safetensors" for p in kept)
    assert not (iris / "w.safetensors").exists()  # the run did not finish: no weights under its name
    newest = next(read_checkpoints(iris / "ck", 10**8))
    assert not isinstance(newest[1], str), newest  # whole, not damaged: --resume goes on from it
    assert newest[1].state.epoch >= 1


# --- refusals, before any worker starts ---------------------------------------------------------------

def _refused(capsys, *words: str) -> str:
    assert main(["run", *words]) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return captured.err


def test_nproc_out_of_range_is_refused(iris, capsys):
    spec = str(iris / "iris.nqa")
    assert "error[E0924]: --nproc 0 is out of range: a run needs at least 1 process" in _refused(
        capsys, spec, "--nproc", "0")
    limit = 4 * (os.cpu_count() or 1)
    assert (f"error[E0924]: --nproc {limit + 1} is over the limit of {limit} processes on this machine"
            in _refused(capsys, spec, "--nproc", str(limit + 1)))


def test_nproc_with_runs_or_a_sweep_is_refused(iris, capsys):
    spec = iris / "iris.nqa"
    assert "error[E0927]: --nproc cannot be used with --runs" in _refused(capsys, str(spec), "--nproc", "2",
                                                                         "--runs", "2")
    sweep = iris / "sweep.nqa"
    sweep.write_text(spec.read_text().replace("lr=0.01", "lr=choice(0.01, 0.1)"))
    assert "error[E0927]: --nproc cannot be used with a sweep" in _refused(capsys, str(sweep), "--nproc", "2")


def test_a_batch_that_does_not_divide_and_batch_norm_are_refused(iris, capsys):
    assert "error[E0925]: `batch 16` cannot be shared by 3 processes: 16 does not divide by 3" in _refused(
        capsys, str(iris / "iris.nqa"), "--nproc", "3")
    digits = EXAMPLES / "digits.nqa"
    assert "error[E0926]: `batch_norm` cannot be trained across several processes" in _refused(
        capsys, str(digits), "--nproc", "2")


def test_a_port_in_use_is_named(iris):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _nqa("iris.nqa", "--nproc", "2", cwd=iris, timeout=120, MASTER_PORT=str(port))
        assert done.returncode == 2
        assert done.stderr.startswith(f"error[E0929]: the worker processes cannot meet on port {port} (MASTER_PORT)")
        # a worker started by hand in a world whose MASTER_PORT another program holds
        alone = _nqa("iris.nqa", cwd=iris, timeout=120, WORLD_SIZE="2", RANK="0", LOCAL_RANK="0",
                     MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), NQA_COLLECTIVE_TIMEOUT="5")
    assert alone.returncode == 2
    assert f"error[E0929]: the 2 worker processes could not meet at 127.0.0.1:{port}" in alone.stderr
    assert "Traceback" not in alone.stderr
