"""Large networks and honest losses, as users see them.

A 20M-parameter run needs little more memory than the same training written
in plain PyTorch, its JSON report gives summaries (count, mean, min, max,
sha256) instead of every value unless `--full-parameters` asks, and Ctrl-C
still writes its report; `--trace` refuses, before training, to record more
than `--max-trace-values`; the final loss is the last epoch's mean, not the
last mini-batch's, in the report, the diagnostics, the plot and `--runs`.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import re
import select
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from pydantic import ValidationError

from compiler import Limits, check
from compiler.draw import draw_network
from conftest import ROOT
from runtime import Report, train
from runtime.cli import main
from runtime.tensors import LISTED_VALUES, listed
from runtime.text_report import num

MEMORY_RATIO = 1.5


def _vector(rng: random.Random, width: int) -> list[float]:
    return [round(rng.uniform(-1, 1), 3) for _ in range(width)]


def _text(vector: list[float]) -> str:
    return "[" + ", ".join(repr(x) for x in vector) + "]"


# --- a 20M-parameter network against plain PyTorch --------------------------------

WIDE = (2000, 5000, 2000)  # 2000*5000 + 5000 + 5000*2000 + 2000 = 20,007,000 parameters

PLAIN = """
import hashlib, json, resource, sys
import torch
from torch import nn

def sha(t):
    return hashlib.sha256(memoryview(t.detach().contiguous().numpy()).cast("B")).hexdigest()

rows = json.load(open(sys.argv[1]))
epochs = int(sys.argv[2])
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(2000, 5000), nn.ReLU(), nn.Linear(5000, 2000))
initial = sha(model[0].weight)
x, y = torch.tensor(rows["inputs"]), torch.tensor(rows["targets"])
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
losses = []
for _ in range(epochs):
    optimizer.zero_grad()
    loss = nn.functional.mse_loss(model(x), y)
    losses.append(loss.item())
    loss.backward()
    optimizer.step()
print(json.dumps({"peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "losses": losses,
                  "initial": initial, "final": sha(model[0].weight)}))
"""


def _peak_kb(argv: list[str], stdout=subprocess.DEVNULL) -> tuple[int, int]:
    """(exit code, peak resident memory in kB) of one child process, measured by the kernel."""
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=stdout, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_maxrss


@pytest.fixture(scope="module")
def wide(tmp_path_factory):
    """A 20M-parameter spec of two examples, and the same training in plain PyTorch."""
    folder = tmp_path_factory.mktemp("wide")
    rng = random.Random(0)
    inputs, targets = [_vector(rng, WIDE[0]) for _ in range(2)], [_vector(rng, WIDE[2]) for _ in range(2)]
    examples = "".join(f"example {_text(a)} -> {_text(b)}\n" for a, b in zip(inputs, targets, strict=False))
    spec = folder / "wide.nqa"
    spec.write_text(f"input {WIDE[0]}\nlinear ->{WIDE[1]}\nrelu\nlinear ->{WIDE[2]}\n"
                    f"optimizer sgd lr=0.01\nepochs 2\nseed 0\n{examples}")
    (folder / "rows.json").write_text(json.dumps({"inputs": inputs, "targets": targets}))
    (folder / "plain.py").write_text(PLAIN)
    out = folder / "plain.out"
    with out.open("w") as stream:
        code, _ = _peak_kb([sys.executable, str(folder / "plain.py"), str(folder / "rows.json"), "2"], stream)
    assert code == 0
    return folder, json.loads(out.read_text())


def test_a_20m_parameter_run_needs_at_most_1_5x_the_memory_of_plain_pytorch(wide):
    folder, plain = wide
    report = folder / "report.json"
    code, peak = _peak_kb([sys.executable, "-m", "runtime", str(folder / "wide.nqa"), "--json", str(report), "--quiet"])
    assert code == 0
    assert peak <= MEMORY_RATIO * plain["peak_kb"], f"nqa {peak} kB, plain PyTorch {plain['peak_kb']} kB"
    assert report.stat().st_size < 20_000
    written = json.loads(report.read_text())
    assert written["losses"] == plain["losses"]  # the same training, step for step
    parameters = written["parameters"]
    assert parameters["listed"] is False and list(parameters["initial"]) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    weight = parameters["initial"]["0.weight"]
    assert weight["shape"] == [5000, 2000] and weight["count"] == 10_000_000
    assert -0.0224 < weight["min"] < weight["mean"] < weight["max"] < 0.0224  # kaiming bound 1/sqrt(2000)
    assert weight["sha256"] == plain["initial"]
    assert parameters["final"]["0.weight"]["sha256"] == plain["final"]


def test_ctrl_c_in_a_large_run_still_writes_its_report(wide):
    folder, plain = wide
    spec = folder / "long.nqa"
    spec.write_text((folder / "wide.nqa").read_text().replace("epochs 2", "epochs 1000\nbatch 1"))
    report = folder / "stopped.json"
    proc = subprocess.Popen([sys.executable, "-m", "runtime", str(spec), "--json", str(report), "--quiet",
                             "--log-every", "1"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    seen, deadline = b"", time.monotonic() + 60
    while not re.search(rb"step +3/", seen) and time.monotonic() < deadline and proc.poll() is None:
        if select.select([proc.stderr], [], [], 0.5)[0]:
            seen += os.read(proc.stderr.fileno(), 4096)
    proc.send_signal(signal.SIGINT)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = (seen + proc.stderr.read()).decode()
    assert proc.returncode == 130, err[-2000:]
    assert re.search(r"nqa: interrupted after \d+ steps; the report so far was written", err)
    assert usage.ru_maxrss <= MEMORY_RATIO * plain["peak_kb"]
    written = json.loads(report.read_text())
    steps = len(written["losses"])
    assert steps >= 3 and written["stopped"] == f"interrupted after {steps} steps"
    epochs = len(written["epoch_losses"])
    assert epochs == math.ceil(steps / 2)  # two steps of one row each an epoch; the last may have run one
    ran = written["losses"][2 * (epochs - 1):]
    assert written["final_loss"] == written["epoch_losses"][-1] == pytest.approx(sum(ran) / len(ran), rel=1e-12)


# --- summaries, --full-parameters and --draw on a network over the threshold ----

def _over_threshold(folder, extra: str = "") -> str:
    """`input 400; linear ->300`: 120,300 values, more than LISTED_VALUES."""
    rng = random.Random(1)
    spec = folder / "over.nqa"
    spec.write_text(f"input 400\nlinear ->300\noptimizer sgd lr=0.01\nepochs 3\n{extra}"
                    f"example {_text(_vector(rng, 400))} -> {_text(_vector(rng, 300))}\n")
    return str(spec)


def _float32_sha(values: list) -> str:
    flat = torch.tensor(values, dtype=torch.float32).flatten().tolist()
    return hashlib.sha256(struct.pack(f"<{len(flat)}f", *flat)).hexdigest()


def test_full_parameters_lists_what_the_summaries_sum_up(tmp_path, capsys):
    spec = _over_threshold(tmp_path)
    assert main(["run", spec, "--json", "-"]) == 0
    summed = json.loads(capsys.readouterr().out)["parameters"]
    assert main(["run", spec, "--json", "-", "--full-parameters"]) == 0
    full = json.loads(capsys.readouterr().out)["parameters"]
    assert summed["listed"] is False and full["listed"] is True
    for when in ("initial", "final"):
        for name, values in full[when].items():
            flat = torch.tensor(values).flatten().tolist()
            summary = summed[when][name]
            assert summary["count"] == len(flat) and summary["shape"] == list(torch.tensor(values).shape)
            assert (summary["min"], summary["max"]) == (min(flat), max(flat))
            assert summary["mean"] == pytest.approx(math.fsum(flat) / len(flat), rel=1e-9, abs=1e-15)
            assert summary["sha256"] == _float32_sha(values)
    assert main(["run", spec]) == 0
    text = capsys.readouterr().out
    weight = summed["final"]["0.weight"]
    assert (f"            final   120000 values, mean {num(weight['mean'])}, min {num(weight['min'])}, "
            f"max {num(weight['max'])}\n") in text


def test_the_listing_threshold():
    assert listed({"a": torch.zeros(LISTED_VALUES - 10), "b": torch.zeros(10)})
    assert not listed({"a": torch.zeros(LISTED_VALUES - 10), "b": torch.zeros(11)})
    assert listed({"a": torch.zeros(LISTED_VALUES + 1)}, full=True)


def test_draw_of_a_large_network_shows_its_trained_weights(tmp_path, capsys):
    spec = _over_threshold(tmp_path)
    svg, report = tmp_path / "net.svg", tmp_path / "report.json"
    assert main(["run", spec, "--draw", str(svg), "--json", str(report), "--full-parameters", "-q"]) == 0
    final = json.loads(report.read_text())["parameters"]["final"]
    expected = draw_network(check(Path(spec)).spec, final)
    width = re.compile(r' stroke-width="[0-9.]+"')  # relative to the largest weight drawn, not in the network
    assert width.sub("", svg.read_text()) == width.sub("", expected)
    assert svg.read_text().count("<title>w = ") == 15 * 16  # 15 units drawn a column, each with its bias


def test_a_parameter_that_never_moved_is_found_in_a_large_network(tmp_path):
    spec = tmp_path / "zero.nqa"
    spec.write_text("input 400\nlinear ->300\nepochs 3\nexample " + _text([0.0] * 400) + " -> [1]\n")
    run = train(spec)
    kinds = {(d.kind, d.parameter) for d in run.report.diagnostics}
    assert kinds == {("never_moved", "0.weight"), ("target_broadcast", None)}
    written = json.loads(run.report.model_dump_json())["parameters"]
    assert written["initial"]["0.weight"]["sha256"] == written["final"]["0.weight"]["sha256"]
    assert written["initial"]["0.bias"]["sha256"] != written["final"]["0.bias"]["sha256"]


def test_the_json_report_is_built_only_when_asked(monkeypatch, capsys):
    """Asked by `--json`, or by the run log, which keeps it: with `--no-log` none is built."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(Report, "model_dump_json", lambda *a, **k: pytest.fail("built the JSON report"))
    assert main(["run", "specs/mlp.nqa", "--no-log"]) == 0
    assert "final loss" in capsys.readouterr().out


def test_the_schema_describes_lists_or_summaries_and_the_epoch_losses(capsys):
    assert main(["schema", "report"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "epoch_losses" in schema["properties"]
    values = schema["$defs"]["Parameters"]["properties"]["initial"]["additionalProperties"]["anyOf"]
    assert values == [{"items": {}, "type": "array"}, {"$ref": "#/$defs/TensorSummary"},
                      {"type": "integer"}, {"type": "number"}]  # a 0-d buffer (num_batches_tracked) is a number
    assert set(schema["$defs"]["TensorSummary"]["properties"]) == {"shape", "count", "mean", "min", "max", "sha256"}


# --- --trace is bounded before training -----------------------------------------

def test_a_trace_over_the_limit_is_refused_before_training_with_its_size(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    report = tmp_path / "report.json"
    argv = ["run", "specs/mlp.nqa", "--trace", "params", "--trace", "grads", "--json", str(report)]
    assert main(argv + ["--max-trace-values", "2599"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and not report.exists()
    assert err == ("error[E0612]: --trace grads and --trace params would record 2,600 values (2 x 13 parameters x "
                   "100 steps, about 78.0 kB of JSON), over the limit of 2,599\n"
                   "  = hint: raise the limit with --max-trace-values 2600, or trace fewer steps with --epochs\n")
    assert main(argv + ["--max-trace-values", "2600"]) == 0
    assert len(json.loads(report.read_text())["trace"]) == 200


def test_the_default_trace_limit_refuses_100k_parameters_for_1000_steps(tmp_path, capsys):
    spec = tmp_path / "wide.nqa"
    spec.write_text("input 316\nlinear ->316\nepochs 1000\nexample " + _text([0.5] * 316) + " -> [1]\n")
    started = time.perf_counter()
    assert main(["run", str(spec), "--trace", "params"]) == 2
    assert time.perf_counter() - started < 10
    err = capsys.readouterr().err
    assert err.startswith("error[E0612]: --trace params would record 100,172,000 values (100,172 parameters x "
                          "1,000 steps, "
                          "about 3.0 GB of JSON), over the limit of 10,000,000\n")


def test_the_trace_limit_is_a_limit_like_the_others():
    assert Limits().max_trace_values == 10_000_000
    with pytest.raises(ValidationError):
        Limits(max_trace_values=0)


# --- the final loss is the last epoch's mean ------------------------------------

BATCHED = """linear 1->1
optimizer sgd lr=0.01
batch 2
epochs 30
example [1] -> [2]
example [2] -> [4]
example [3] -> [7]
example [4] -> [8]
example [5] -> [11]
"""


def test_epoch_losses_are_the_row_weighted_means_of_their_steps(tmp_path, capsys):
    spec = tmp_path / "batched.nqa"
    spec.write_text(BATCHED)
    assert main(["run", str(spec), "--json", "-"]) == 0
    report = json.loads(capsys.readouterr().out)
    losses, epochs = report["losses"], report["epoch_losses"]
    assert len(losses) == 90 and len(epochs) == 30
    for e, mean in enumerate(epochs):
        a, b, c = losses[3 * e:3 * e + 3]
        assert mean == pytest.approx((2 * a + 2 * b + 1 * c) / 5, rel=1e-12)
    assert report["final_loss"] == epochs[-1] != losses[-1]
    assert main(["run", str(spec)]) == 0
    text = capsys.readouterr().out
    assert "loss\n  epoch  mean loss\n      1  " + num(epochs[0]) + "\n" in text
    last = num(epochs[-1])
    assert f"\n     30  {last}\nfinal loss {last}, the mean over the last epoch, after 90 steps\n" in text


def test_with_one_batch_an_epoch_is_its_step(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["run", "specs/mlp.nqa", "--json", "-"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["epoch_losses"] == report["losses"] and report["final_loss"] == report["losses"][-1]


def test_a_diverged_run_reports_the_mean_of_the_steps_of_its_last_epoch_that_ran(tmp_path, capsys):
    spec = tmp_path / "hot.nqa"
    spec.write_text(BATCHED.replace("lr=0.01", "lr=1").replace("[5] -> [11]", "[50] -> [11]"))
    assert main(["run", str(spec), "--json", str(tmp_path / "r.json")]) == 3
    out = capsys.readouterr().out
    report = json.loads((tmp_path / "r.json").read_text())
    steps = len(report["losses"])
    assert report["stopped"] == f"loss not finite at step {steps + 1}" and steps % 3 == 2
    assert report["final_loss"] == report["epoch_losses"][-1] == pytest.approx(sum(report["losses"][-2:]) / 2)
    assert (f"final loss {num(report['final_loss'])}, the mean over the 2 steps of epoch {steps // 3 + 1} "
            f"that ran, after {steps} steps\n") in out


def test_diagnostics_look_at_the_epoch_means_not_the_last_batch(tmp_path):
    spec = tmp_path / "flat.nqa"  # the last batch (x=0, target 0) always fits; the epoch never improves
    spec.write_text("linear 1->1 nobias\noptimizer sgd lr=1e-9\nbatch 2\nepochs 30\n"
                    "example [1] -> [5]\nexample [1] -> [5]\nexample [0] -> [0]\n")
    report = train(spec).report
    assert report.losses[-1] == 0.0 and report.final_loss == pytest.approx(report.losses[-2] * 2 / 3)
    plateau, high = report.diagnostics
    assert (plateau.kind, plateau.epoch, plateau.step) == ("plateau", 1, 1)
    assert plateau.message == f"the mean loss stopped falling: it stayed at {report.final_loss:.6g} from epoch 1 on"
    assert high.kind == "loss_high" and high.message.startswith(
        f"the last epoch's mean loss {report.final_loss:.6g} is still 100% of the first epoch's (")


def test_the_plot_draws_each_step_and_each_epoch_mean(tmp_path):
    from matplotlib import pyplot as plt

    from runtime.plot import loss_figure

    spec = tmp_path / "batched.nqa"
    spec.write_text(BATCHED)
    report = train(spec).report
    figure = loss_figure(report)
    try:
        lines = {line.get_label(): line for line in figure.axes[0].get_lines()}
        assert list(lines) == ["training (each step)", "training (mean of each epoch)"]
        assert list(lines["training (each step)"].get_ydata()) == list(report.losses)
        means = lines["training (mean of each epoch)"]
        assert list(means.get_xdata()) == list(range(3, 91, 3)) and list(means.get_ydata()) == list(report.epoch_losses)
    finally:
        plt.close(figure)


def test_runs_report_each_final_loss_as_the_last_epoch_mean(tmp_path, capsys):
    spec = tmp_path / "batched.nqa"
    spec.write_text(BATCHED)
    assert main(["run", str(spec), "--runs", "3", "--json", "-"]) == 0
    each = json.loads(capsys.readouterr().out)["each"]
    for run in each:
        single = train(spec, seed=run["seed"]).report
        assert run["final_loss"] == pytest.approx(single.final_loss, rel=1e-5)
        assert run["final_loss"] != pytest.approx(single.losses[-1], rel=1e-3)
