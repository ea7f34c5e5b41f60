"""`nqa runs`, `nqa runs show ID` and `nqa runs compare ID ID`, as a user sees them."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sqlite3
import zlib
from pathlib import Path

import pytest

from conftest import ROOT
from runtime.cli import main
from runtime.run_log import REPORT_CAP

NEURON = ROOT / "specs/neuron.nqa"


@pytest.fixture
def logged(tmp_path, capsys, monkeypatch):
    """Three runs of two specs in a log; the text each run printed."""
    monkeypatch.chdir(tmp_path)
    shutil.copy(NEURON, "neuron.nqa")
    (tmp_path / "slow.nqa").write_text(NEURON.read_text().replace("lr=0.1", "lr=0.01"))
    printed = []
    for argv in (["neuron.nqa", "--epochs", "30"], ["slow.nqa", "--epochs", "30"], ["neuron.nqa", "--epochs", "5",
                                                                                     "--seed", "2"]):
        assert main(["run", *argv]) == 0
        printed.append(capsys.readouterr().out)
    return printed


def _out(capsys, *argv, code=0) -> str:
    assert main(list(argv)) == code
    captured = capsys.readouterr()
    return captured.out if code == 0 else captured.err


def test_the_list_newest_first_with_its_metrics(logged, capsys):
    lines = _out(capsys, "runs").splitlines()
    assert lines[0].split() == ["id", "time", "(UTC)", "spec", "seed", "status", "final", "loss", "best", "loss",
                                "held-out", "acc"]
    assert [line.split()[0] for line in lines[1:]] == ["3", "2", "1"]
    assert lines[2].split()[3:6] == ["slow.nqa", "0", "finished"]


def test_filter_sort_limit_and_json(logged, capsys):
    records = json.loads(_out(capsys, "runs", "--json", "--sort", "final_loss"))
    finals = [r["final_loss"] for r in records]
    assert finals == sorted(finals) and len(records) == 3
    only = json.loads(_out(capsys, "runs", "--json", "--spec", "slow.nqa"))
    assert [r["id"] for r in only] == [2]
    assert [r["id"] for r in json.loads(_out(capsys, "runs", "--json", "--limit", "1"))] == [3]


def test_show_prints_the_report_as_the_run_printed_it(logged, capsys):
    assert _out(capsys, "runs", "show", "2") == logged[1]
    stored = json.loads(_out(capsys, "runs", "show", "1", "--json"))
    assert stored["spec"] == "neuron.nqa" and len(stored["losses"]) == 30


def test_an_unknown_id_is_a_usage_error(logged, capsys):
    err = _out(capsys, "runs", "show", "9", code=2)
    assert "error[E0914]: there is no run 9 in the run log" in err and "the runs are numbered 1 to 3" in err


@pytest.mark.parametrize("argv", [("runs", "show", "99999999999999999999"),
                                  ("runs", "compare", "1", "99999999999999999999"),
                                  ("runs", "--limit", "99999999999999999999")])
def test_a_number_larger_than_the_log_can_hold_is_refused_by_the_grammar(logged, capsys, argv):
    with pytest.raises(SystemExit) as refused:
        main(list(argv))
    assert refused.value.code == 2
    err = capsys.readouterr().err
    assert "expected a number of at most 9,223,372,036,854,775,807, not 99999999999999999999" in err
    assert "Traceback" not in err


def test_no_log_yet(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NQA_LOG_DIR")
    assert main(["runs"]) == 0
    assert capsys.readouterr().err == "nqa: no run log in `.nqa` yet: each `nqa run` adds a record to it\n"
    assert "no run log in `.nqa` yet" in _out(capsys, "runs", "show", "1", code=2)


def test_compare_shows_the_spec_diff_and_the_metrics_side_by_side(logged, capsys):
    out = _out(capsys, "runs", "compare", "1", "2")
    assert "--- run 1: neuron.nqa\n+++ run 2: slow.nqa\n" in out
    assert "-optimizer sgd lr=0.1 momentum=0.9\n+optimizer sgd lr=0.01 momentum=0.9\n" in out
    db = sqlite3.connect(os.environ["NQA_LOG_DIR"] + "/runs.db")
    first, second = (row[0] for row in db.execute("SELECT final_loss FROM runs WHERE id IN (1, 2) ORDER BY id"))
    row = next(line for line in out.splitlines() if line.startswith("final loss"))
    assert row.split()[2:] == [f"{first:.6g}", f"{second:.6g}", f"{second - first:+.6g}"]
    same = _out(capsys, "runs", "compare", "1", "3")
    assert same.startswith("the specs are the same (sha256 ")
    assert any(line.split()[:3] == ["--seed", "-", "2"] for line in same.splitlines())


@pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None, reason="matplotlib is not installed")
def test_compare_plot_overlays_the_curves(logged, capsys, tmp_path):
    _out(capsys, "runs", "compare", "1", "2", "--plot", "both.png")
    assert (tmp_path / "both.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "--plot cannot write a `.txt` file" in _out(capsys, "runs", "compare", "1", "2", "--plot", "c.txt",
                                                        code=2)


def test_compare_plot_never_writes_over_the_log_through_a_link(logged, capsys, tmp_path):
    log = os.environ["NQA_LOG_DIR"] + "/runs.db"
    before = Path(log).read_bytes()
    os.symlink(log, tmp_path / "evil.png")
    err = _out(capsys, "runs", "compare", "1", "2", "--plot", "evil.png", code=2)
    assert f"error[E0905]: --plot `evil.png` would write over the run log `{log}`" in err
    assert Path(log).read_bytes() == before


def test_a_damaged_record_is_said_when_compared(logged, capsys):
    db = sqlite3.connect(os.environ["NQA_LOG_DIR"] + "/runs.db")
    db.execute("UPDATE runs SET options = '[[[' WHERE id = 2")
    db.commit()
    db.close()
    err = _out(capsys, "runs", "compare", "1", "2", code=2)
    assert "error[E0914]: run 2's options in the run log are damaged: they are not the JSON object nqa stored" in err
    assert "Traceback" not in err


def test_a_huge_stored_report_is_not_read(logged, capsys):
    db = sqlite3.connect(os.environ["NQA_LOG_DIR"] + "/runs.db")
    db.execute("UPDATE runs SET report = zeroblob(?) WHERE id = 1", (REPORT_CAP + 1,))
    db.commit()
    assert "was too large to keep in the run log" in _out(capsys, "runs", "show", "1", code=2)
    bomb = zlib.compress(b" " * (300 * 2**20), 9)  # 300 MiB of JSON whitespace, packed small
    db.execute("UPDATE runs SET report = ? WHERE id = 2", (bomb,))
    db.commit()
    assert "was too large to keep in the run log" in _out(capsys, "runs", "show", "2", code=2)


def test_a_corrupt_log_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "runs.db").write_bytes(b"garbage" * 100)
    err = _out(capsys, "runs", "--log-dir", str(tmp_path), code=2)
    assert f"error[E0914]: cannot read the run log: `{tmp_path / 'runs.db'}`: it is not a run log" in err


@pytest.mark.parametrize("spec, said", [("linear 1->2\nrelu\nlinear 2->1\n", True),
                                        ("linear 1->2\ntanh\n# not a relu\nlinear 2->1\n", False)])
def test_show_of_runs_names_a_dead_relu_only_for_a_spec_with_one(tmp_path, capsys, monkeypatch, spec, said):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.nqa").write_text(spec + "example [1] -> [2]\nepochs 5\n")
    assert main(["run", "s.nqa", "--runs", "2"]) == 0
    printed = capsys.readouterr().out
    shown = _out(capsys, "runs", "show", "1")
    assert shown == printed
    assert ("(no parameter changed: a dead ReLU)" in shown) is said


def test_show_json_of_a_stored_report_that_is_not_json_says_so(logged, capsys):
    db = sqlite3.connect(os.environ["NQA_LOG_DIR"] + "/runs.db")
    db.execute("UPDATE runs SET report = ? WHERE id = 1", (zlib.compress(b"{not json"),))
    db.commit()
    db.close()
    err = _out(capsys, "runs", "show", "1", "--json", code=2)
    assert "error[E0914]: the stored report of run 1 is damaged: it is not JSON" in err
