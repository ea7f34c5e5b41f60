"""A run log that cannot be written costs the run nothing: it trains, exits as it
would, and says once on stderr that the log was not written, and why."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import replace

import pytest

from conftest import ROOT
from runtime.cli import main
from runtime.run_log import append
from runtime.run_log_schema import LogError, connect

NEURON = ROOT / "specs/neuron.nqa"
NOT_WRITTEN = "nqa: the run log was not written: "


def _run(folder, capsys, *extra) -> tuple[int, str, str]:
    code = main(["run", str(NEURON), "--epochs", "3", "--log-dir", str(folder), *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_garbage_in_runs_db_the_run_still_trains_and_says_so_once(tmp_path, capsys):
    (tmp_path / "runs.db").write_bytes(b"this is not a database\x00" * 200)
    code, out, err = _run(tmp_path, capsys)
    assert code == 0 and out.startswith("nqa run ")
    assert err == f"{NOT_WRITTEN}`{tmp_path / 'runs.db'}`: it is not a run log (not an SQLite database)\n"
    assert (tmp_path / "runs.db").read_bytes() == b"this is not a database\x00" * 200


def test_a_log_locked_past_the_timeout_is_skipped_with_a_message(tmp_path):
    connect(tmp_path).close()
    holder = sqlite3.connect(tmp_path / "runs.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(LogError, match=r"is locked by another program \(waited 0.2 s\)"):
            append(tmp_path, {"kind": "run"}, timeout=0.2)
    finally:
        holder.execute("ROLLBACK")


def test_a_locked_log_does_not_change_what_nqa_run_prints_or_returns(tmp_path):
    connect(tmp_path).close()
    holder = sqlite3.connect(tmp_path / "runs.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    code = ("import runtime.run_log_schema as s; s.TIMEOUT = 0.2; "  # before run_log reads it
            "from runtime.cli import main; raise SystemExit(main(sys.argv[1:]))")
    try:
        done = subprocess.run([sys.executable, "-c", "import sys; " + code, "run", "specs/neuron.nqa", "--epochs", "3",
                               "--log-dir", str(tmp_path)], capture_output=True, text=True, cwd=ROOT, timeout=120,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    finally:
        holder.execute("ROLLBACK")
    assert done.returncode == 0 and done.stdout.startswith("nqa run specs/neuron.nqa")
    assert done.stderr == f"{NOT_WRITTEN}`{tmp_path / 'runs.db'}` is locked by another program (waited 0.2 s)\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_an_unwritable_folder(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    code, out, err = _run(locked / ".nqa", capsys)
    assert code == 0 and out and err.startswith(f"{NOT_WRITTEN}cannot make the folder")


def test_a_folder_that_cannot_be_made(tmp_path, capsys):
    (tmp_path / "file").write_text("mine")
    code, out, err = _run(tmp_path / "file" / ".nqa", capsys)
    assert code == 0 and out
    assert err == f"{NOT_WRITTEN}cannot make the folder `{tmp_path / 'file' / '.nqa'}`: Not a directory\n"


def test_a_file_where_the_folder_should_be(tmp_path, capsys):
    (tmp_path / "log").write_text("mine")
    code, out, err = _run(tmp_path / "log", capsys)
    assert code == 0 and out
    assert err == f"{NOT_WRITTEN}`{tmp_path / 'log'}` is not a folder, so the run log cannot be kept in it\n"
    assert (tmp_path / "log").read_text() == "mine"


def test_a_symbolic_link_in_place_of_runs_db_is_left_alone(tmp_path, capsys):
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    folder = tmp_path / "log"
    folder.mkdir()
    (folder / "runs.db").symlink_to(target)
    code, _, err = _run(folder, capsys)
    assert code == 0 and err.startswith(f"{NOT_WRITTEN}`{folder / 'runs.db'}` is not a regular file")
    assert (folder / "runs.db").is_symlink() and target.read_text() == "keep me"


def test_a_device_in_place_of_runs_db_is_left_alone(tmp_path, capsys):
    folder = tmp_path / "log"
    folder.mkdir()
    (folder / "runs.db").symlink_to("/dev/null")
    code, _, err = _run(folder, capsys)
    assert code == 0 and "is not a regular file" in err


def test_the_nqa_folder_is_made_when_missing(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("NQA_LOG_DIR")
    spec = tmp_path / "deep" / "neuron.nqa"
    spec.parent.mkdir()
    shutil.copy(NEURON, spec)
    assert main(["run", str(spec), "--epochs", "2", "-q"]) == 0
    assert (spec.parent / ".nqa" / "runs.db").is_file() and capsys.readouterr().err == ""


def test_an_interrupted_run_is_logged_as_interrupted(tmp_path, monkeypatch, capsys):
    import runtime.commands as commands

    real = commands.train

    def stopped(program, options):
        return real(program, options=replace(options, progress=_StopAt(3), every=1))

    monkeypatch.setattr(commands, "train", stopped)
    assert _run(tmp_path, capsys)[0] == 130
    db = sqlite3.connect(tmp_path / "runs.db")
    assert db.execute("SELECT status FROM runs").fetchall() == [("interrupted",)]


class _StopAt:
    """A progress sink that presses Ctrl-C at step `n`."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __call__(self, *args, **kwargs):
        self.n -= 1
        if self.n <= 0:
            raise KeyboardInterrupt
