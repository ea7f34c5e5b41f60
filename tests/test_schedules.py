"""`schedule` and `warmup`: the learning rate of every step equals what torch's
scheduler gives when driven by hand, with its arguments spelt out here (per epoch
for `step` and `cosine`, per batch for `onecycle`); a run under a schedule equals
the same training written by hand; the report, its JSON, `--log-every` and
`--trace` show the rate; `--epochs` is held to the same rules as the spec's epochs."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn
from torch.optim import lr_scheduler as S

from runtime import train
from runtime.cli import main

ROWS = [([0.5, -1.0], [1.0]), ([1.5, 0.25], [0.0]), ([-2.0, 1.0], [0.5]), ([0.0, 0.75], [1.0]),
        ([1.0, 1.0], [2.0]), ([-0.5, 0.5], [0.0])]
EPOCHS, BATCH = 12, 2  # three batches an epoch
DATA = "".join(f"example {x} -> {y}\n" for x, y in ROWS)


def _spec(lines: str, optimizer: str = "sgd lr=0.1 momentum=0.9") -> str:
    return f"linear 2->4\ntanh\nlinear 4->1\noptimizer {optimizer}\nepochs {EPOCHS}\nbatch {BATCH}\n{lines}\n{DATA}"


def _by_hand(make, per_batch: bool, optimizer=None) -> list[float]:
    """The learning rate of each step, from torch's scheduler stepped as its docs step it."""
    weight = nn.Parameter(torch.zeros(1))
    optimizer = optimizer or torch.optim.SGD([weight], lr=0.1, momentum=0.9)
    scheduler = make(optimizer)
    rates = []
    for _ in range(EPOCHS):
        for _ in range(3):
            rates.append(optimizer.param_groups[0]["lr"])
            weight.grad = torch.ones(1)
            optimizer.step()
            if per_batch:
                scheduler.step()
        if not per_batch:
            scheduler.step()
    return rates


def _warm(o, epochs, main_schedule):
    """Warm-up for `epochs` steps, then the schedule: the schedule is built first."""
    main_schedule = main_schedule(o)
    return S.SequentialLR(o, [S.LinearLR(o, start_factor=1 / (epochs + 1), end_factor=1.0, total_iters=epochs),
                              main_schedule], milestones=[epochs])


CASES = [
    ("schedule step every=4", lambda o: S.StepLR(o, step_size=4, gamma=0.1), False),
    ("schedule step every=3 gamma=0.5", lambda o: S.StepLR(o, step_size=3, gamma=0.5), False),
    ("schedule cosine", lambda o: S.CosineAnnealingLR(o, T_max=EPOCHS, eta_min=0.0), False),
    ("schedule cosine min_lr=0.01", lambda o: S.CosineAnnealingLR(o, T_max=EPOCHS, eta_min=0.01), False),
    ("schedule onecycle max_lr=0.5", lambda o: S.OneCycleLR(o, max_lr=0.5, total_steps=3 * EPOCHS), True),
    ("schedule onecycle max_lr=0.5 pct_start=0.4 anneal=linear three_phase div_factor=10 final_div_factor=100",
     lambda o: S.OneCycleLR(o, max_lr=0.5, total_steps=3 * EPOCHS, pct_start=0.4, anneal_strategy="linear",
                            three_phase=True, div_factor=10, final_div_factor=100), True),
    ("warmup 3", lambda o: S.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=3), False),
    ("warmup 2 start=0.1", lambda o: S.LinearLR(o, start_factor=0.1, end_factor=1.0, total_iters=2), False),
    ("warmup 3\nschedule step every=4", lambda o: _warm(o, 3, lambda o: S.StepLR(o, step_size=4)), False),
    ("warmup 3\nschedule cosine min_lr=0.001",
     lambda o: _warm(o, 3, lambda o: S.CosineAnnealingLR(o, T_max=EPOCHS - 3, eta_min=0.001)), False),
    ("warmup 2\nschedule onecycle max_lr=0.5",
     lambda o: _warm(o, 6, lambda o: S.OneCycleLR(o, max_lr=0.5, total_steps=3 * (EPOCHS - 2))), True),
]


@pytest.mark.parametrize(("lines", "make", "per_batch"), CASES, ids=[case[0] for case in CASES])
def test_each_steps_learning_rate_is_torchs(lines, make, per_batch):
    report = train(_spec(lines)).report
    assert list(report.learning_rates) == _by_hand(make, per_batch)
    assert report.schedule is not None and report.schedule.stepped == ("batch" if per_batch else "epoch")


def test_a_warm_up_climbs_in_equal_steps_to_the_learning_rate():
    rates = train(_spec("warmup 3")).report.learning_rates[::3]  # each epoch's
    assert rates == pytest.approx([0.1 / 4, 0.2 / 4, 0.3 / 4] + [0.1] * (EPOCHS - 3), rel=1e-12)
    onecycle = train(_spec("warmup 2\nschedule onecycle max_lr=0.5")).report.learning_rates
    assert onecycle[:6] == pytest.approx([0.5 / 25 * k / 7 for k in range(1, 7)], rel=1e-12)
    assert onecycle[6] == pytest.approx(0.5 / 25) and max(onecycle) == pytest.approx(0.5)


def test_onecycle_cycles_adams_beta1_as_torch_does():
    report = train(_spec("schedule onecycle max_lr=0.05", "adam")).report
    weight = nn.Parameter(torch.zeros(1))
    adam = torch.optim.Adam([weight])
    assert list(report.learning_rates) == _by_hand(lambda o: S.OneCycleLR(o, max_lr=0.05, total_steps=36), True,
                                                   adam)


def test_a_scheduled_run_is_the_same_training_by_hand():
    """Losses and final weights equal, bit for bit, a hand-written loop with torch's schedulers and clipping."""
    report = train(_spec("warmup 2\nschedule cosine\nclip 0.5"), seed=4).report
    torch.manual_seed(4)
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    cosine = S.CosineAnnealingLR(optimizer, T_max=EPOCHS - 2)
    warmup = S.LinearLR(optimizer, start_factor=1 / 3, total_iters=2)
    scheduler = S.SequentialLR(optimizer, [warmup, cosine], milestones=[2])
    inputs, targets = torch.tensor([x for x, _ in ROWS]), torch.tensor([y for _, y in ROWS])
    losses = []
    for _ in range(EPOCHS):
        for start in range(0, 6, BATCH):
            optimizer.zero_grad()
            loss = nn.functional.mse_loss(model(inputs[start:start + 2]), targets[start:start + 2])
            losses.append(loss.item())
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5)
            optimizer.step()
        scheduler.step()
    assert list(report.losses) == losses
    for name, tensor in model.state_dict().items():
        assert torch.equal(report.parameters.final[name], tensor), name


def test_the_report_shows_each_epochs_rate_and_the_schedule(capsys, tmp_path):
    path = tmp_path / "s.nqa"
    path.write_text(_spec("warmup 2\nschedule step every=5 gamma=0.5"))
    assert main(["run", str(path), "--json", str(tmp_path / "r.json")]) == 0
    out = capsys.readouterr().out
    assert "schedule   StepLR  step_size=5 gamma=0.5, stepped per epoch\n" in out
    assert ("warm-up    LinearLR  start_factor=0.333333 end_factor=1 total_iters=2, for the first 2 epochs, "
            "then the schedule\n") in out
    assert "  epoch  mean loss  lr\n" in out
    rows = [line.split() for line in out.split("  epoch  mean loss  lr\n")[1].split("final loss")[0].splitlines()]
    rates = {int(epoch): float(lr) for epoch, _, lr in rows}
    assert rates[1] == pytest.approx(0.1 / 3, rel=1e-5) and rates[3] == rates[7] == 0.1
    assert rates[8] == rates[12] == 0.05  # the schedule counts its epochs from the end of the warm-up
    written = json.loads((tmp_path / "r.json").read_text())
    assert len(written["learning_rates"]) == len(written["losses"]) == 36
    assert written["schedule"]["schedule"] == {"name": "StepLR", "settings": {"step_size": 5, "gamma": 0.5}}
    assert written["schedule"]["warmup_steps"] == 2


def test_the_trace_and_the_progress_lines_carry_the_rate(capsys, tmp_path):
    path = tmp_path / "s.nqa"
    path.write_text(_spec("schedule onecycle max_lr=0.5"))
    assert main(["run", str(path), "--trace", "params", "--log-every", "5", "--json", str(tmp_path / "r.json"),
                 "--quiet"]) == 0
    err = capsys.readouterr().err
    written = json.loads((tmp_path / "r.json").read_text())
    assert [record["lr"] for record in written["trace"]] == written["learning_rates"]
    fifth = written["learning_rates"][4]
    assert f"step  5/36  epoch 2/12  loss {written['losses'][4]:.6g}  lr {fifth:.6g}" in err


def test_without_a_schedule_the_report_has_no_rates():
    report = train(_spec("")).report
    assert report.learning_rates == () and report.schedule is None and report.early_stop is None


def test_epochs_on_the_command_line_are_held_to_the_warm_up(capsys, tmp_path):
    path = tmp_path / "s.nqa"
    path.write_text(_spec("warmup 5"))
    assert main(["run", str(path), "--epochs", "5"]) == 2
    err = capsys.readouterr().err
    assert "error[E0401]: `warmup 5` is as long as the run or longer: it has 5 epochs with --epochs 5" in err
    assert "Traceback" not in err
