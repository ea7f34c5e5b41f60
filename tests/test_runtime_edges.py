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
from pathlib import Path

import pytest
import torch

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
    assert "error[E0407]: the loss became nan at step 2 (last finite loss: 0.53086)" in captured.err
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


STARTED = """import importlib
import sys
from runtime.cli import main
module, name, *argv = sys.argv[1:]
module = importlib.import_module(module)
real = getattr(module, name)
def announced(*args):
    print("training", file=sys.stderr, flush=True)
    return real(*args)
setattr(module, name, announced)
sys.exit(main(argv))
"""
LOOPS = {"one": ["runtime.training", "_loop"], "runs": ["runtime.runs", "Feeds"]}


def _stopped_once_training(loop: str, argv: list[str], signum: int) -> tuple[int, str, str]:
    """Runs `nqa ARGV` in a process of its own, sends it `signum` once training has
    started (`loop`: one run's, or that of `--runs`), and gives back its exit code,
    stdout and stderr."""
    proc = subprocess.Popen([sys.executable, "-c", STARTED, *LOOPS[loop], *argv], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    assert proc.stderr.readline() == "training\n"
    time.sleep(0.5)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, err


SIGNALS = pytest.mark.parametrize("signum, code, word", [(signal.SIGINT, 130, "interrupted"),
                                                         (signal.SIGTERM, 143, "terminated")])
LONG = "linear 2->3\nlinear 3->1\nleaky_relu\nexample [1, 1] -> [10]\nepochs 1000000\n"


@SIGNALS
def test_export_stopped_by_a_signal_exports_nothing_and_says_so(signum, code, word, tmp_path):
    spec = tmp_path / "long.nqa"
    spec.write_text(LONG)
    onnx = tmp_path / "m.onnx"
    returncode, _, err = _stopped_once_training("one", ["export", str(spec), "--onnx", str(onnx)], signum)
    assert returncode == code, err
    assert re.fullmatch(rf"nqa: {word} after \d+ steps; nothing exported\n", err), err
    assert not onnx.exists()


@SIGNALS
def test_runs_stopped_by_a_signal_write_the_report_so_far(signum, code, word, tmp_path):
    spec = tmp_path / "long.nqa"
    spec.write_text(LONG)
    report = tmp_path / "rr.json"
    returncode, out, err = _stopped_once_training("runs", ["run", str(spec), "--runs", "100", "--json", str(report)],
                                                  signum)
    assert returncode == code, err
    stopped = re.fullmatch(rf"nqa: ({word} after (\d+) steps); the report so far was written\n", err)
    assert stopped, err
    steps = int(stopped[2])
    assert 0 < steps < 1000000
    assert out.endswith(f"\nstopped: {stopped[1]}\n") and f"steps per run     {steps}\n" in out
    data = json.loads(report.read_text())
    assert data["stopped"] == stopped[1] and data["steps"] == steps and len(data["each"]) == 100
    assert data["diverged"] == 0 and all(run["final_loss"] is not None for run in data["each"])


def test_runs_that_finish_report_no_stop(tmp_path, capsys):
    spec = tmp_path / "short.nqa"
    spec.write_text(LONG.replace("1000000", "3"))
    assert main(["run", str(spec), "--runs", "2", "--json", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["stopped"] is None


def test_runs_stopped_within_an_epoch_report_the_mean_of_its_steps_that_ran():
    from compiler import as_program
    from runtime.runs import RunsResult, layout
    from runtime.runs_report import render_runs, runs_report

    program = as_program(BCE + "batch 1\n", filename="bce.nqa")
    slots = layout(program.spec)
    weights = torch.zeros(2, slots[-1].end)
    losses = torch.tensor([[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]])  # one epoch of 2 steps, then 1 step
    result = RunsResult([0, 1], slots, weights, weights + 1, losses, [1, 1], "interrupted after 3 steps", 130)
    report = runs_report(program, result, 0.001, {})
    assert [run.final_loss for run in report.each] == [3.0, 6.0]
    assert render_runs(report).endswith("final loss        min 3  median 4.5  max 6\n"
                                        "never moved       0.0% of runs (no parameter changed)\n"
                                        "reached           0.0% of runs (final loss below 0.001)\n"
                                        "stopped: interrupted after 3 steps\n")


@pytest.mark.parametrize("dtype, name", [(torch.int32, "int32"), (torch.float16, "float16"),
                                         (torch.float64, "float64")])
@pytest.mark.parametrize("command", [["run", "spec.nqa", "--load"], ["draw", "spec.nqa", "--weights"]])
def test_weights_of_another_type_are_refused_at_their_layer(command, dtype, name, tmp_path, monkeypatch, capsys):
    from safetensors.torch import save_file

    monkeypatch.chdir(tmp_path)
    Path("spec.nqa").write_text("linear 2->3\nlinear 3->1\nexample [1, 1] -> [1]\n")
    save_file({"0.weight": torch.ones(3, 2, dtype=dtype), "0.bias": torch.zeros(3),
               "1.weight": torch.ones(1, 3), "1.bias": torch.zeros(1)}, "w.safetensors")
    assert main([*command, "w.safetensors"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (f"error[E0909]: `w.safetensors` has `0.weight` of type {name}, but this layer needs float32\n"
                   " --> spec.nqa:1:1\n"
                   "  |\n"
                   "1 | linear 2->3\n"
                   "  | ^^^^^^^^^^^ needs 0.weight of type float32\n"
                   "  = hint: load weights saved by `nqa run --save`, which are float32\n")


def test_traced_tensors_of_more_than_32_values_are_summed_up_in_the_progress_lines(tmp_path, capsys):
    spec = tmp_path / "wide.nqa"
    spec.write_text(f"linear 40->1\nexample [{', '.join(['1'] * 40)}] -> [0]\nepochs 2\n")
    report = tmp_path / "x.json"
    assert main(["run", str(spec), "--trace", "params", "--trace", "grads", "--log-every", "1",
                 "--json", str(report)]) == 0
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert f"            final   {lines[-2].removeprefix('  param 0.weight ')}\n" in out  # as the report says
    assert len(lines) == 10 and lines[0].startswith("step 1/2") and lines[5].startswith("step 2/2")
    trace = json.loads(report.read_text())["trace"]
    for step, at in ((1, 0), (2, 5)):
        grads, params = (next(r["values"] for r in trace if r["step"] == step and r["kind"] == kind)
                         for kind in ("grads", "params"))
        assert lines[at + 1] == f"  grad 0.weight {_summary(grads['0.weight'])}"
        assert lines[at + 2] == f"  grad 0.bias [{grads['0.bias'][0]:.6g}]"
        assert lines[at + 3] == f"  param 0.weight {_summary(params['0.weight'])}"
        assert lines[at + 4] == f"  param 0.bias [{params['0.bias'][0]:.6g}]"


def _summary(rows: list[list[float]]) -> str:
    """What the text report prints for a tensor of more than 32 values (its mean summed in float64)."""
    values = torch.tensor(rows, dtype=torch.float64)
    return (f"{values.numel()} values, mean {values.mean().item():.6g}, min {values.min().item():.6g}, "
            f"max {values.max().item():.6g}")


def test_full_parameters_over_the_report_limit_are_refused_before_training(tmp_path, capsys):
    spec = tmp_path / "wide.nqa"
    spec.write_text(f"linear 3000->3000\nexample [{', '.join(['1'] * 3000)}] -> [{', '.join(['0'] * 3000)}]\n")
    report = tmp_path / "x.json"
    started = time.perf_counter()
    assert main(["run", str(spec), "--full-parameters", "--json", str(report)]) == 2
    assert time.perf_counter() - started < 10
    out, err = capsys.readouterr()
    assert out == "" and not report.exists()
    assert err == ("error[E0612]: --full-parameters would list 18,006,000 values in the JSON report (2 x 9,003,000 "
                   "parameters, initial and final, about 540.2 MB of JSON), over the limit of 10,000,000\n"
                   "  = hint: raise the limit with --max-trace-values 18006000, or leave out --full-parameters: "
                   "the report then sums up each tensor of a large network\n")


def test_full_parameters_and_a_trace_count_together_against_the_report_limit(tmp_path, capsys):
    mlp = str(ROOT / "specs/mlp.nqa")
    report = tmp_path / "x.json"
    argv = ["run", mlp, "--full-parameters", "--trace", "grads", "--json", str(report), "-q"]
    assert main([*argv, "--max-trace-values", "1325"]) == 2
    assert capsys.readouterr().err == (
        "error[E0612]: --trace grads and --full-parameters would list 1,326 values in the JSON report "
        "(1,300 traced and "
        "2 x 13 parameters, initial and final, about 39.8 kB of JSON), over the limit of 1,325\n"
        "  = hint: raise the limit with --max-trace-values 1326, trace fewer steps with --epochs, "
        "or leave out --full-parameters\n")
    assert not report.exists()
    assert main([*argv, "--max-trace-values", "1326"]) == 0
    assert len(json.loads(report.read_text())["trace"]) == 100
