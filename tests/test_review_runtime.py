"""The runtime when things go wrong: a run whose `bce` output stops being finite
stops as any diverging run does, Ctrl-C and SIGTERM stop `export` and `--runs`
cleanly, weights of the wrong type are refused, and reports of large networks
stay bounded."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT
from runtime.cli import main

BCE = """linear 2->1
sigmoid
optimizer rmsprop lr=1 alpha=0 eps=1e-30 centered
loss bce
example [1, 0] -> [1]
example [0, 1] -> [0]
epochs 5
"""


def test_a_bce_run_whose_output_stops_being_finite_stops_as_diverged(tmp_path, capsys):
    spec = tmp_path / "bce.nqa"
    spec.write_text(BCE + "batch 1\n")
    report, weights = tmp_path / "x.json", tmp_path / "x.safetensors"
    code = main(["run", str(spec), "--seed", "2", "--json", str(report), "--save", str(weights)])
    captured = capsys.readouterr()
    assert code == 3, captured.err
    assert "Traceback" not in captured.err
    assert "error: the loss became nan at step 2 (last finite loss: 0.53086)" in captured.err
    assert "stopped: loss not finite at step 2" in captured.out
    data = json.loads(report.read_text())
    assert data["stopped"] == "loss not finite at step 2" and len(data["losses"]) == 1
    assert (tmp_path / "x.partial.safetensors").exists() and not weights.exists()


def test_a_held_out_loss_of_an_output_not_finite_is_reported_as_none(tmp_path, capsys):
    spec = tmp_path / "held.nqa"
    spec.write_text(BCE + "example [1, 1] -> [1]\nexample [0, 0] -> [0]\nvalidate 0.5\n")
    report = tmp_path / "x.json"
    assert main(["run", str(spec), "--seed", "1", "--json", str(report), "--quiet"]) == 3
    data = json.loads(report.read_text())
    assert data["stopped"] == "loss not finite at step 2"
    assert data["validation"]["losses"] == [None]


def test_runs_whose_bce_output_stops_being_finite_are_counted_as_diverged(tmp_path, capsys):
    spec = tmp_path / "bce.nqa"
    spec.write_text(BCE + "batch 1\n")
    report = tmp_path / "r.json"
    assert main(["run", str(spec), "--seed", "0", "--runs", "4", "--json", str(report)]) == 0
    assert "diverged          2 runs (loss not finite)" in capsys.readouterr().out
    finals = {run["seed"]: run["final_loss"] for run in json.loads(report.read_text())["each"]}
    assert finals[2] is None and finals[3] is None
    assert finals[0] is not None and finals[1] is not None


STARTED = """import sys
import runtime.training as training
from runtime.cli import main
loop = training._loop
def announced(session):
    print("training", file=sys.stderr, flush=True)
    return loop(session)
training._loop = announced
sys.exit(main(sys.argv[1:]))
"""


def _stopped_once_training(argv: list[str], signum: int) -> tuple[int, str, str]:
    """Runs `nqa ARGV` in a process of its own, sends it `signum` once training has
    started, and gives back its exit code, stdout and stderr."""
    proc = subprocess.Popen([sys.executable, "-c", STARTED, *argv], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    assert proc.stderr.readline() == "training\n"
    time.sleep(0.5)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, err


@pytest.mark.parametrize("signum, code, word", [(signal.SIGINT, 130, "interrupted"),
                                                (signal.SIGTERM, 143, "terminated")])
def test_export_stopped_by_a_signal_exports_nothing_and_says_so(signum, code, word, tmp_path):
    spec = tmp_path / "long.nqa"
    spec.write_text("linear 2->3\nlinear 3->1\nexample [1, 1] -> [1]\nepochs 1000000\n")
    onnx = tmp_path / "m.onnx"
    returncode, _, err = _stopped_once_training(["export", str(spec), "--onnx", str(onnx)], signum)
    assert returncode == code, err
    assert re.fullmatch(rf"nqa: {word} after \d+ steps; nothing exported\n", err), err
    assert not onnx.exists()
