"""`stop`, `clip` and `init` as a user sees them: early stopping on a plateau (the epoch
and the reason in the report, the best epoch's weights reported and saved), clipping
equal to a hand-written torch loop, initial weights equal to torch's `nn.init` drawn by
hand, the emitted program reproducing all of it, and `--runs` with each."""

from __future__ import annotations

import ast
import math
import subprocess
import sys

import pytest
import torch
from torch import nn

from compiler import check, compile_spec
from compiler.emit_python import emit_python
from runtime import train
from runtime.cli import main
from runtime.runs import train_runs

PLATEAU = ("linear 1->1\noptimizer sgd lr=0.05\nepochs 300\nexample [1] -> [0]\nexample [1] -> [2]\n"
           "stop patience=5 min_delta=0.0001{options}\n")  # the loss falls to 1, and no further


def _stop_epoch(losses, patience, min_delta):
    """Keras's rule: stop once `patience` epochs in a row are no better than the best by more than `min_delta`."""
    best, waited = math.inf, 0
    for epoch, loss in enumerate(losses, 1):
        if loss < best - min_delta:
            best, waited = loss, 0
        else:
            waited += 1
            if waited >= patience:
                return epoch
    return None


def _final(spec: str) -> dict[str, torch.Tensor]:
    return dict(train(spec).report.parameters.final)


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[name], b[name]) for name in a)


def test_a_plateau_stops_the_run_and_reports_the_best_epochs_weights():
    report = train(PLATEAU.format(options="")).report
    stop = report.early_stop
    assert stop is not None and stop.watched == "training"
    expected = _stop_epoch(report.epoch_losses, 5, 1e-4)
    assert expected is not None and stop.stopped_epoch == expected == len(report.epoch_losses) < 300
    assert stop.best_epoch == expected - 5 and stop.best_loss == report.epoch_losses[expected - 6]
    best = _final(PLATEAU.format(options="").replace("epochs 300", f"epochs {stop.best_epoch}")
                  .replace("stop patience=5 min_delta=0.0001", ""))
    assert _same(dict(report.parameters.final), best)


def test_restore_no_keeps_the_last_epochs_weights():
    report = train(PLATEAU.format(options=" restore=no")).report
    assert report.early_stop is not None and not report.early_stop.restored
    last = report.early_stop.stopped_epoch
    same_length = PLATEAU.format(options="").replace("epochs 300", f"epochs {last}").replace(
        "stop patience=5 min_delta=0.0001", "")
    assert _same(dict(report.parameters.final), _final(same_length))


HELD_OUT = ("linear 2->8\ntanh\nlinear 8->1\noptimizer adam lr=0.05\nepochs 400\nvalidate 0.3\nstop patience=8\n"
            + "".join(f"example [{x / 10}, {(x * 7 % 11) / 10}] -> [{(x * 3 % 5) / 5}]\n" for x in range(20)))


def test_the_held_out_loss_is_watched_when_rows_are_held_out(capsys, tmp_path):
    path = tmp_path / "held.nqa"
    path.write_text(HELD_OUT)
    saved = tmp_path / "w.safetensors"
    assert main(["run", str(path), "--save", str(saved)]) == 0
    out = capsys.readouterr().out
    report = train(HELD_OUT).report
    stop = report.early_stop
    assert report.validation is not None and stop is not None and stop.watched == "held_out"
    assert stop.stopped_epoch == _stop_epoch(report.validation.losses, 8, 0) == len(report.validation.losses)
    best = min(report.validation.losses)
    assert stop.best_loss == best and report.validation.losses[stop.best_epoch - 1] == best
    assert (f"stopped early after epoch {stop.stopped_epoch}: the held-out loss did not improve for 8 epochs "
            f"(best {best:.6g} at epoch {stop.best_epoch})\n") in out
    assert f"weights reported: epoch {stop.best_epoch}'s, the best (`restore=no` keeps the last)\n" in out
    from safetensors.torch import load_file

    assert _same(load_file(str(saved)), dict(report.parameters.final))


def test_a_run_that_never_stops_still_ends_with_its_best_weights():
    """Within 20 epochs the loss stops improving by 1e-4, but not for 5 epochs in a row."""
    report = train(PLATEAU.format(options="").replace("epochs 300", "epochs 20")).report
    stop = report.early_stop
    assert stop is not None and stop.stopped_epoch is None and len(report.epoch_losses) == 20
    assert stop.best_epoch is not None and stop.best_epoch < 20
    assert report.epoch_losses[19] < stop.best_loss  # lower, but not by more than min_delta
    best = PLATEAU.format(options="").replace("epochs 300", f"epochs {stop.best_epoch}").replace(
        "stop patience=5 min_delta=0.0001", "")
    assert _same(dict(report.parameters.final), _final(best))


@pytest.mark.parametrize("line", ["clip 0.3", "clip value=0.05"])
def test_clipping_is_torchs_between_backward_and_step(line):
    rows = [([0.5, -1.0, 2.0], [3.0]), ([1.5, 0.25, -0.5], [-2.0]), ([-2.0, 1.0, 0.0], [1.5])]
    spec = (f"linear 3->4\nrelu\nlinear ->1\noptimizer sgd lr=0.1 momentum=0.5\nepochs 30\n{line}\n"
            + "".join(f"example {x} -> {y}\n" for x, y in rows))
    report = train(spec, seed=2).report
    assert report.clip is not None
    torch.manual_seed(2)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
    inputs, targets = torch.tensor([x for x, _ in rows]), torch.tensor([y for _, y in rows])
    losses = []
    for _ in range(30):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(inputs), targets)
        losses.append(loss.item())
        loss.backward()
        if "value" in line:
            nn.utils.clip_grad_value_(model.parameters(), clip_value=0.05)
        else:
            nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.3)
        optimizer.step()
    assert list(report.losses) == losses
    assert _same(dict(report.parameters.final), model.state_dict())


INIT = "linear 3->4\nrelu\nlinear 4->2 init=xavier\nconv_spec\ninit normal std=0.1\nexample [1, 2, 3] -> [0, 1]\n"


def test_init_draws_each_layer_as_nn_init_does_by_hand():
    report = train(INIT.replace("conv_spec", ""), seed=5).report
    torch.manual_seed(5)
    first = nn.Linear(3, 4)
    nn.init.normal_(first.weight, mean=0.0, std=0.1)
    nn.init.zeros_(first.bias)
    second = nn.Linear(4, 2)
    nn.init.xavier_uniform_(second.weight)
    nn.init.zeros_(second.bias)
    expected = nn.Sequential(first, nn.ReLU(), second).state_dict()
    assert _same(dict(report.parameters.initial), expected)
    assert [row.init for row in report.model.layers] == ["normal_(mean=0.0, std=0.1)", None,
                                                         "xavier_uniform_(gain=1.0)"]


def test_kaiming_and_zeros_on_a_conv_net_and_the_defaults_of_a_layers_own_init():
    spec = ("input 1x5x5\nconv2d ->2 kernel=3\nrelu\nflatten\nlinear ->3 init=normal\nlinear ->1 init=zeros\n"
            "init kaiming\n")
    torch.manual_seed(1)
    initial = compile_spec(spec).state_dict()
    torch.manual_seed(1)
    conv = nn.Conv2d(1, 2, 3)
    nn.init.kaiming_normal_(conv.weight, mode="fan_in", nonlinearity="relu")
    nn.init.zeros_(conv.get_parameter("bias"))
    hidden = nn.Linear(18, 3)
    nn.init.normal_(hidden.weight, std=0.02)  # a layer's own scheme, at its default
    nn.init.zeros_(hidden.bias)
    last = nn.Linear(3, 1)
    nn.init.zeros_(last.weight)
    nn.init.zeros_(last.bias)
    assert _same(dict(initial), nn.Sequential(conv, nn.ReLU(), nn.Flatten(), hidden, last).state_dict())


def test_the_emitted_program_reproduces_init_schedule_clip_and_stop(tmp_path):
    spec = HELD_OUT.replace("linear 2->8", "linear 2->8 init=kaiming") + "warmup 3\nschedule cosine\nclip 1.0\n" \
        + "init xavier\neval [0.5, 0.5]\n"
    script = tmp_path / "program.py"
    script.write_text(emit_python(check(spec)))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = train(spec).report
    printed = done.stdout.splitlines()
    assert [float(line.split(" = ")[1]) for line in printed if line.startswith("step ")] == list(report.losses)
    assert [float(line.split(" = ")[1]) for line in printed if line.startswith("lr at step")] \
        == list(report.learning_rates)
    assert report.early_stop is not None and report.early_stop.stopped_epoch is not None
    stop = report.early_stop
    assert f"stopped after epoch {stop.stopped_epoch}: best {stop.best_loss!r} at epoch {stop.best_epoch}" in printed
    finals = {line.split(" = ")[0][6:]: ast.literal_eval(line.split(" = ")[1])
              for line in printed if line.startswith("final ")}
    assert finals == {name: t.tolist() for name, t in report.parameters.final.items()}
    assert next(line for line in printed if line.startswith("eval ")).endswith(repr(list(report.eval[0].output)))


RUNS = ("linear 3->6\ntanh\nlinear ->2\noptimizer sgd lr=0.5 momentum=0.9\nepochs 30\n{line}\n"
        "example [1, 2, 3] -> [1, 0]\nexample [0, 2, -3] -> [0, 1]\nexample [1, -2, 0.5] -> [0.5, 1]\n")


@pytest.mark.parametrize("line", ["clip 0.05", "clip value=0.01", "init kaiming", "init normal std=0.3\nclip 0.1"])
@pytest.mark.parametrize("path", ["stacked", "vmap"])
def test_runs_at_once_follow_each_single_run(line, path):
    program = check(RUNS.format(line=line))
    if path == "stacked" and "init" in line:
        path = "vmap"  # initial weights drawn by `init` are built as a single run builds them
    result = train_runs(program, 0, 3, path)
    assert result.path == path
    for n, seed in enumerate(result.seeds):
        single = train(program, seed=seed).report
        flat = torch.cat([t.flatten() for t in single.parameters.initial.values()])
        assert torch.equal(flat, result.initial[n])
        assert torch.allclose(torch.tensor(single.losses), result.losses[:, n], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("line", ["schedule cosine", "warmup 2", "stop patience=3"])
def test_runs_refuse_what_they_cannot_follow_at_its_statement(line, capsys, tmp_path):
    path = tmp_path / "s.nqa"
    path.write_text(RUNS.format(line=line))
    assert main(["run", str(path), "--runs", "3"]) == 2
    err = capsys.readouterr().err
    name = line.split()[0]
    assert err.startswith(f"error[E0920]: `--runs` cannot train `{name}` for many runs at once yet\n --> {path}:6:1\n")
    assert "Traceback" not in err


def test_the_training_control_examples_in_the_docs_train_as_they_say():
    from conftest import ROOT

    text = (ROOT / "docs/language.md").read_text(encoding="utf-8")
    section = text.split("\n## Training control\n")[1].split("\n## ")[0]
    blocks = section.split("```nqa\n")[1:]
    assert blocks
    for block in (b.split("```")[0] for b in blocks):
        program = check(block)
        assert program.warnings == ()
        report = train(program).report
        assert report.schedule is not None and report.clip is not None and report.early_stop is not None
        assert [row.init for row in report.model.layers] == ["xavier_uniform_(gain=1.0)", None,
                                                             "kaiming_normal_(mode='fan_in', nonlinearity='relu')"]
        assert report.learning_rates[:5] == pytest.approx([0.1 * k / 6 for k in range(1, 6)])
