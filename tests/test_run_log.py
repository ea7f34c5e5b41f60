"""The run log: what one `nqa run` records, the schema's upgrade path, and many writers at once."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import shutil
import sqlite3
import sys
import zlib

import pytest

from conftest import ROOT
from runtime.cli import main
from runtime.run_log import append
from runtime.run_log_schema import SCHEMA_VERSION, LogError, connect

NEURON = ROOT / "specs/neuron.nqa"


@pytest.fixture
def spec(tmp_path):
    copy = tmp_path / "neuron.nqa"
    shutil.copy(NEURON, copy)
    return copy


def _rows(folder):
    db = sqlite3.connect(folder / "runs.db")
    db.row_factory = sqlite3.Row
    return [dict(row) for row in db.execute("SELECT * FROM runs ORDER BY id")]


def test_a_run_records_its_spec_seed_metrics_outputs_and_report(spec, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("NQA_LOG_DIR")
    report, weights = tmp_path / "r.json", tmp_path / "w.safetensors"
    assert main(["run", str(spec), "--seed", "4", "--epochs", "20", "--json", str(report),
                 "--save", str(weights)]) == 0
    printed = capsys.readouterr()
    assert "logged" not in printed.err  # not a terminal: the log says nothing
    (row,) = _rows(tmp_path / ".nqa")  # beside the spec, by default
    text = spec.read_text()
    assert (row["kind"], row["status"], row["seed"]) == ("run", "finished", 4)
    assert row["spec_path"] == str(spec.resolve()) and row["spec_text"] == text
    assert row["fingerprint"] == hashlib.sha256(text.encode()).hexdigest()
    written = json.loads(report.read_text())
    assert zlib.decompress(row["report"]).decode() == report.read_text()
    assert row["final_loss"] == written["final_loss"] and row["best_loss"] == min(written["epoch_losses"])
    assert row["report_path"] == str(report.resolve()) and row["weights_path"] == str(weights.resolve())
    assert json.loads(row["options"])["epochs"] == 20 and row["torch_version"] == written["torch_version"]
    assert row["started"] <= row["ended"] and row["ended"].endswith("+00:00")
    curve = json.loads(row["curve"])
    assert curve["losses"] == written["losses"] and curve["steps"] == list(range(1, 21))


def test_log_dir_flag_wins_over_the_environment_and_no_log_writes_none(spec, tmp_path, _run_log_elsewhere):
    chosen = tmp_path / "chosen"
    assert main(["run", str(spec), "--epochs", "2", "-q", "--log-dir", str(chosen)]) == 0
    assert main(["run", str(spec), "--epochs", "2", "-q", "--no-log"]) == 0
    assert len(_rows(chosen)) == 1
    assert not (_run_log_elsewhere / "runs.db").exists() and not (tmp_path / ".nqa").exists()


def test_python_m_runtime_logs_too(spec, _run_log_elsewhere):
    from runtime.cli import main_run

    assert main_run([str(spec), "--epochs", "3", "-q"]) == 0
    assert [r["status"] for r in _rows(_run_log_elsewhere)] == ["finished"]


def test_a_diverging_run_is_logged_as_diverged(tmp_path, _run_log_elsewhere):
    spec = tmp_path / "wild.nqa"
    spec.write_text(NEURON.read_text().replace("lr=0.1", "lr=1e30"))
    assert main(["run", str(spec), "-q"]) == 3
    (row,) = _rows(_run_log_elsewhere)
    assert row["status"] == "diverged"


def test_a_spec_error_is_not_logged(tmp_path, _run_log_elsewhere, capsys):
    spec = tmp_path / "bad.nqa"
    spec.write_text("linear 1->1\nloss mse\nepochs two\n")
    assert main(["run", str(spec)]) == 2
    assert not (_run_log_elsewhere / "runs.db").exists()


def test_runs_n_is_one_record_of_its_kind(spec, _run_log_elsewhere):
    assert main(["run", str(spec), "--runs", "3", "--epochs", "5", "-q"]) == 0
    (row,) = _rows(_run_log_elsewhere)
    assert (row["kind"], row["seed"], row["final_loss"]) == ("runs", 0, None)
    assert json.loads(zlib.decompress(row["report"]))["runs"] == 3


_VERSION_1 = """CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL,
    spec_path TEXT NOT NULL, spec_text TEXT NOT NULL, fingerprint TEXT NOT NULL,
    seed INTEGER, options TEXT NOT NULL, torch_version TEXT, nqa_version TEXT,
    started TEXT NOT NULL, ended TEXT NOT NULL, status TEXT NOT NULL,
    final_loss REAL, best_loss REAL, held_out_loss REAL, held_out_accuracy REAL,
    report_path TEXT, weights_path TEXT, report BLOB, report_bytes INTEGER, curve TEXT)"""


def test_a_version_1_log_is_upgraded_keeping_its_runs(spec, _run_log_elsewhere, capsys):
    old = sqlite3.connect(_run_log_elsewhere / "runs.db")
    old.execute(_VERSION_1)
    old.execute("INSERT INTO runs (kind, spec_path, spec_text, fingerprint, seed, options, started, ended, status, "
                "final_loss) VALUES ('run', '/old.nqa', 'x', 'ab', 7, '{}', '2026-01-01T00:00:00+00:00', "
                "'2026-01-01T00:00:01+00:00', 'finished', 0.5)")
    old.execute("PRAGMA user_version = 1")
    old.commit()
    old.close()
    assert main(["run", str(spec), "--epochs", "2", "-q"]) == 0
    rows = _rows(_run_log_elsewhere)
    assert (rows[0]["id"], rows[0]["seed"], rows[0]["final_loss"]) == (1, 7, 0.5)
    assert rows[1]["id"] == 2 and "test_metrics" in rows[1]
    db = sqlite3.connect(_run_log_elsewhere / "runs.db")
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2


def test_a_log_from_a_newer_nqa_is_refused_for_writing_and_left_as_it_was(spec, _run_log_elsewhere, capsys):
    db = connect(_run_log_elsewhere)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    before = (_run_log_elsewhere / "runs.db").read_bytes()
    assert main(["run", str(spec), "--epochs", "2", "-q"]) == 0
    err = capsys.readouterr().err
    assert err == (f"nqa: the run log was not written: `{_run_log_elsewhere}` was written by a newer nqa (run log "
                   f"version 3; this one knows up to 2), so it is left as it is: upgrade nqa, or log elsewhere with "
                   "--log-dir\n")
    assert (_run_log_elsewhere / "runs.db").read_bytes() == before
    with pytest.raises(LogError):
        append(_run_log_elsewhere, {"kind": "run"})


def _append_ten(folder: str, writer: int) -> None:
    from pathlib import Path

    for n in range(10):
        append(Path(folder), {"kind": "run", "spec_path": "/s.nqa", "spec_text": "", "fingerprint": "",
                              "seed": writer * 100 + n, "options": "{}", "started": "t", "ended": "t",
                              "status": "finished"}, timeout=30)


def test_eight_processes_appending_at_once_lose_no_record(tmp_path):
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_append_ten, args=(str(tmp_path), w)) for w in range(8)]
    for w in writers:
        w.start()
    for w in writers:
        w.join(120)
        assert w.exitcode == 0
    seeds = sorted(r["seed"] for r in _rows(tmp_path))
    assert seeds == sorted(w * 100 + n for w in range(8) for n in range(10))


def test_on_a_terminal_the_run_says_its_number_unless_quiet(spec, monkeypatch, capsys):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main(["run", str(spec), "--epochs", "2"]) == 0
    assert capsys.readouterr().err.endswith("nqa: logged as run 1: nqa runs show 1\n")
    assert main(["run", str(spec), "--epochs", "2", "-q"]) == 0
    assert capsys.readouterr().err == ""
