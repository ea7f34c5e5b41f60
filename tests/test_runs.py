"""`--runs N`: many seeds at once. Every run starts exactly where the single run
of its seed starts, ends within 1e-5 of it, and the distribution is reported."""

from __future__ import annotations

import json

import pytest
import torch

from compiler import check
from conftest import ROOT
from runtime import train
from runtime.cli import main
from runtime.runs import train_runs

STAGES = ["neuron", "relu", "leaky_relu", "bias", "two_inputs", "layer", "mlp", "sequential"]


def _flat(named: dict) -> torch.Tensor:
    return torch.cat([v.flatten() for v in named.values()])


@pytest.mark.parametrize("stage", STAGES)
def test_each_of_32_runs_matches_the_single_run_of_its_seed(stage):
    program = check(ROOT / f"specs/{stage}.nqa")
    result = train_runs(program, 0, 32)
    for n, seed in enumerate(result.seeds):
        single = train(program, seed=seed).report
        assert torch.equal(_flat(single.parameters.initial), result.initial[n]), f"seed {seed}: initial"
        assert torch.allclose(_flat(single.parameters.final), result.final[n], atol=1e-5, rtol=0), f"seed {seed}"
        assert torch.allclose(torch.tensor(single.losses), result.losses[:, n], atol=1e-5, rtol=1e-5)


def test_about_half_of_stage_2_dies_and_the_report_says_which(capsys):
    assert main(["run", str(ROOT / "specs/relu.nqa"), "--runs", "200", "--json", "-"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["runs"] == 200 and report["first_seed"] == 0 and len(report["each"]) == 200
    dead = {r["seed"] for r in report["each"] if r["never_moved"]}
    assert 0.35 < report["never_moved_share"] == len(dead) / 200 < 0.65
    for seed in (0, 1, 3):  # checked against single runs: dead iff the single run's weight never moved
        single = train(ROOT / "specs/relu.nqa", seed=seed).report
        initial, final = single.parameters.initial, single.parameters.final
        assert (seed in dead) == all(torch.equal(initial[name], final[name]) for name in initial)
    assert report["final_loss_max"] == 25.0 and report["reached_share"] == pytest.approx(1 - len(dead) / 200)
    assert set(report["each"][0]) == {"seed", "final_loss", "never_moved", "parameters"}
    assert "train_seconds" in report["timing"]


def test_the_text_summary(capsys):
    assert main(["run", str(ROOT / "specs/relu.nqa"), "--runs", "10", "--seed", "5"]) == 0
    out = capsys.readouterr().out
    assert "(seeds 5 to 14: 10 runs at once)" in out
    assert "never moved" in out and "reached" in out and "final loss        min" in out


def test_dropout_is_refused_with_a_located_message(tmp_path, capsys):
    spec = tmp_path / "d.nqa"
    spec.write_text("linear 2->3\ndropout 0.5\nlinear 3->1\nexample [1, 1] -> [1]\n")
    assert main(["run", str(spec), "--runs", "4"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: `--runs` cannot train a network with `dropout` at once")
    assert f"{spec}:2:1" in err
