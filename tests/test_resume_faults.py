"""Checkpoints under faults: a disk that fills up, and processes killed with SIGKILL
after an epoch, within an epoch, while a checkpoint is written and from outside at
whatever point they reached; and Ctrl-C (SIGINT) sent to a real process. Each time
the earlier checkpoint survives and loads, and the resumed run ends bit for bit as
the run that was never stopped.

The kills at a chosen point run `nqa run` through a small program that puts a
`SIGKILL` of its own process at that point, so that where it dies never depends on
timing; the kills from outside wait for checkpoint files to appear first.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from resume_specs import ROOT, SPECS, report_of, spec_folder
from runtime.cli import main

KILLER = '''
import os, signal, sys
from pathlib import Path

mode, at = sys.argv[1], int(sys.argv[2])
del sys.argv[1:3]
count = [0]

def die():
    os.kill(os.getpid(), signal.SIGKILL)

def counted():
    count[0] += 1
    return count[0] == at

if mode == "after-epoch":
    from runtime.resume import Keeper
    after = Keeper.after_epoch
    def after_epoch(self, epoch, training, step):
        after(self, epoch, training, step)
        if epoch == at:
            die()
    Keeper.after_epoch = after_epoch
elif mode == "batch":
    from runtime.data import Dataset
    batches = Dataset.batches
    def each(self):
        for pair in batches(self):
            if counted():
                die()
            yield pair
    Dataset.batches = each
elif mode == "in-write":  # half the file written, then the process dies
    import safetensors.torch
    save = safetensors.torch.save_file
    def save_file(tensors, path, metadata=None):
        save(tensors, path, metadata=metadata)
        if counted():
            os.truncate(path, os.path.getsize(path) // 2)
            die()
    safetensors.torch.save_file = save_file
elif mode == "before-rename":  # the whole file written and flushed, not yet renamed into place
    import runtime.files
    replace = os.replace
    def before(source, target):
        if Path(target).name.startswith("checkpoint-") and counted():
            die()
        replace(source, target)
    runtime.files.os.replace = before

from runtime.cli import main
sys.exit(main())
'''


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    found = spec_folder(tmp_path_factory.mktemp("specs"))
    (found / "killer.py").write_text(KILLER, encoding="utf-8")
    (found / "long.nqa").write_text(SPECS["momentum"].replace("stop patience=6 min_delta=0.001\n", "")
                                    .replace("epochs 30", "epochs 1500"), encoding="utf-8")
    return found


@pytest.fixture(scope="module")
def uninterrupted(folder):
    reports = {}
    for name in ("control", "momentum", "long"):
        out = folder / f"{name}.plain.json"
        assert main(["run", str(folder / f"{name}.nqa"), "--json", str(out), "--quiet"]) == 0
        reports[name] = report_of(out)
    return reports


def _environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}


def _killed(folder: Path, mode: str, at: int, name: str, checkpoints: Path, every: int) -> None:
    done = subprocess.run([sys.executable, str(folder / "killer.py"), mode, str(at), "run",
                           str(folder / f"{name}.nqa"), "-q", "--checkpoint-every", str(every),
                           "--checkpoint-dir", str(checkpoints)], env=_environment(), capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == -signal.SIGKILL, done.stderr


def _resumed(folder: Path, name: str, checkpoints: Path, capsys) -> tuple[dict, str]:
    out = folder / f"{name}.resumed.json"
    assert main(["run", str(folder / f"{name}.nqa"), "--json", str(out), "-q", "--resume", str(checkpoints)]) == 0
    return report_of(out), capsys.readouterr().err


@pytest.mark.parametrize(("mode", "at", "name", "every", "resumed_from"), [
    ("after-epoch", 1, "control", 1, 1), ("after-epoch", 2, "momentum", 1, 2), ("after-epoch", 20, "control", 3, 18),
    ("batch", 8 * 12 + 5, "control", 2, 12), ("batch", 6 * 7 + 1, "momentum", 7, 7),
    ("in-write", 3, "control", 4, 8), ("before-rename", 2, "momentum", 5, 5)])
def test_a_process_killed_at_any_point_resumes_to_the_same_end(mode, at, name, every, resumed_from, folder,
                                                               uninterrupted, tmp_path, capsys):
    checkpoints = tmp_path / "ck"
    _killed(folder, mode, at, name, checkpoints, every)
    report, err = _resumed(folder, name, checkpoints, capsys)
    assert f"checkpoint-{resumed_from:08d}.safetensors`, after epoch {resumed_from} of " in err
    assert report == uninterrupted[name]
    assert not [p for p in checkpoints.iterdir() if p.name.endswith(".tmp")]  # a killed write's file, cleared


def test_a_kill_during_the_first_checkpoint_leaves_nothing_to_resume_and_says_so(folder, tmp_path, capsys):
    checkpoints = tmp_path / "ck"
    _killed(folder, "in-write", 1, "control", checkpoints, 2)
    assert [p.name for p in checkpoints.iterdir() if not p.name.startswith(".")] == []
    assert main(["run", str(folder / "control.nqa"), "--resume", str(checkpoints)]) == 2
    assert f"error[E0912]: cannot resume from `{checkpoints}`: it holds no checkpoint" in capsys.readouterr().err


def _full_disk(monkeypatch, failing: set[int]) -> None:
    """The checkpoint writes numbered in `failing` (from 1) fail halfway, as on a full disk."""
    import safetensors.torch

    save, count = safetensors.torch.save_file, [0]

    def save_file(tensors, path, metadata=None):
        count[0] += 1
        save(tensors, path, metadata=metadata)
        if count[0] in failing:
            os.truncate(path, os.path.getsize(path) // 2)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(safetensors.torch, "save_file", save_file)


def test_a_full_disk_keeps_the_last_checkpoint_and_training_goes_on(folder, uninterrupted, tmp_path, monkeypatch,
                                                                    capsys):
    checkpoints, out = tmp_path / "ck", tmp_path / "out.json"
    _full_disk(monkeypatch, {2, 3, 4})
    assert main(["run", str(folder / "control.nqa"), "--json", str(out), "-q", "--checkpoint-every", "5",
                 "--checkpoint-dir", str(checkpoints)]) == 0
    err = capsys.readouterr().err
    written = checkpoints / "checkpoint-00000010.safetensors"
    assert (f"nqa: the checkpoint of epoch 10 was not written (cannot write `{written}`: "
            f"{os.strerror(errno.ENOSPC)}); training goes on, and `{checkpoints}` keeps the checkpoint of epoch 5"
            in err)
    assert report_of(out) == uninterrupted["control"]  # the run itself went on untouched
    assert sorted(p.name for p in checkpoints.iterdir()) == ["checkpoint-00000030.safetensors",
                                                            "checkpoint-00000035.safetensors"]


def test_after_a_full_disk_the_earlier_checkpoint_still_resumes_exactly(folder, uninterrupted, tmp_path,
                                                                        monkeypatch, capsys):
    from runtime.data import Dataset

    checkpoints = tmp_path / "ck"
    _full_disk(monkeypatch, {2})
    batches, seen = Dataset.batches, [0]

    def dying(self):
        for pair in batches(self):
            seen[0] += 1
            if seen[0] == 6 * 9 + 2:  # within epoch 10, after the write of epoch 8 failed
                raise SystemExit(137)
            yield pair

    monkeypatch.setattr(Dataset, "batches", dying)
    with pytest.raises(SystemExit):
        main(["run", str(folder / "momentum.nqa"), "-q", "--checkpoint-every", "4",
              "--checkpoint-dir", str(checkpoints)])
    assert [p.name for p in checkpoints.iterdir()] == ["checkpoint-00000004.safetensors"]
    monkeypatch.undo()
    report, err = _resumed(folder, "momentum", checkpoints, capsys)
    assert "after epoch 4 of 30" in err
    assert report == uninterrupted["momentum"]


def _started(folder: Path, checkpoints: Path) -> subprocess.Popen:
    """The long run, checkpointing every epoch, once its second checkpoint is written (or it ended)."""
    process = subprocess.Popen([sys.executable, "-m", "runtime", str(folder / "long.nqa"), "-q",
                                "--checkpoint-every", "1", "--checkpoint-dir", str(checkpoints)],
                               env=_environment(), stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while process.poll() is None and time.monotonic() < deadline:
        if checkpoints.is_dir() and len([p for p in checkpoints.iterdir() if p.name.startswith("checkpoint-")]) >= 2:
            break
        time.sleep(0.05)
    return process


def test_a_process_killed_from_outside_resumes_to_the_same_end(folder, uninterrupted, tmp_path, capsys):
    checkpoints = tmp_path / "ck"
    process = _started(folder, checkpoints)
    process.kill()
    process.communicate(timeout=60)
    report, _ = _resumed(folder, "long", checkpoints, capsys)
    assert report == uninterrupted["long"]


def test_ctrl_c_sent_to_a_process_writes_a_checkpoint_to_resume_from(folder, uninterrupted, tmp_path, capsys):
    checkpoints = tmp_path / "ck"
    process = _started(folder, checkpoints)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    if process.returncode == 130:  # else it had finished before the signal came
        assert f"continue with --resume {checkpoints}" in err
        assert "the report so far was written" in err
    report, _ = _resumed(folder, "long", checkpoints, capsys)
    assert report == uninterrupted["long"]
