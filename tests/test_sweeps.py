"""Running a sweep: every member of a combination trained at once ends where the
single run of its combination and seed ends (within 1e-5 on the guide's stages),
the table ranks the combinations by what they are measured by with the mean and
spread over seeds that single runs give, the JSON has one entry per
combination, and `--best` writes the best combination back as a plain spec."""

from __future__ import annotations

import json
import re
import signal
import statistics
from dataclasses import replace

import pytest
import torch

from compiler import Program, check
from compiler.sweep import Sweep
from conftest import ROOT, same_report
from runtime import train
from runtime.cli import main
from runtime.runs import train_members
from runtime.sweep_run import groups, train_sweep
from runtime.text_report import num
from spec_lang.parser import normalized

STAGES = ["neuron", "relu", "leaky_relu", "bias", "two_inputs", "layer", "mlp", "sequential"]
MLP = ROOT / "tests/sweep_specs/mlp_lr.nqa"
IRIS = ROOT / "tests/sweep_specs/iris_lr.nqa"


def _sweep(program: Program) -> Sweep:
    assert program.sweep is not None
    return program.sweep


def _flat(named: dict) -> torch.Tensor:
    return torch.cat([v.flatten() for v in named.values()])


def _single(program, index: int, seed: int):
    """The report of the single run of combination `index` at `seed`."""
    return train(replace(program, spec=_sweep(program).combinations[index].spec, sweep=None), seed=seed).report


def _as_sweep(stage: str) -> str:
    text = (ROOT / f"specs/{stage}.nqa").read_text()
    return re.sub(r"lr=([0-9.]+) momentum=0.9",
                  lambda m: f"lr=choice({m[1]}, {float(m[1]) / 4}) momentum=choice(0, 0.9)", text)


@pytest.mark.parametrize("stage", STAGES)
def test_every_member_ends_where_the_single_run_of_its_combination_and_seed_ends(stage):
    program = check(_as_sweep(stage), filename=f"{stage}.nqa")
    sweep = _sweep(program)
    assert groups(sweep) == [[0, 1, 2, 3]]  # lr and momentum differ per member: one stacked run
    members = [(n, seed) for n in range(4) for seed in (0, 1, 2)]
    result = train_members(program, sweep.combinations[0].spec, [seed for _, seed in members],
                           [sweep.combinations[n].spec.optimizer for n, _ in members])
    assert result.path == "stacked"
    for k, (n, seed) in enumerate(members):
        single = _single(program, n, seed)
        assert torch.equal(_flat(single.parameters.initial), result.initial[k])
        assert torch.allclose(_flat(single.parameters.final), result.final[k], atol=1e-5, rtol=0), (n, seed)
        assert torch.allclose(torch.tensor(single.losses), result.losses[:, k], atol=1e-5, rtol=1e-5), (n, seed)


def _table(out: str) -> list[list[str]]:
    """The rows of the table, each split at its runs of two or more spaces."""
    lines = out.split("\n\n")[2].splitlines()
    return [re.split(r" {2,}", line.strip()) for line in lines]


def test_the_table_ranks_by_the_final_loss_with_the_mean_and_spread_of_single_runs(capsys):
    assert main(["run", str(MLP.relative_to(ROOT)), "--runs", "3"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("nqa run tests/sweep_specs/mlp_lr.nqa  (a sweep of 3 x 2 = 6 combinations, seeds 0 to 2: "
                          "3 runs each, 18 in all)\n\nranked by final loss, lowest first: the mean over 3 seeds ± "
                          "their standard deviation\n\n")
    program = check(MLP)
    expected = []
    for n, combination in enumerate(_sweep(program).combinations):
        losses = [_single(program, n, seed).final_loss for seed in range(3)]
        values = _sweep(program).values(combination)
        shown = f"{num(statistics.fmean(losses))} ± {num(statistics.stdev(losses))}"
        expected.append((statistics.fmean(losses), [str(values["lr"]), str(values["momentum"]), shown]))
    rows = [row[1:] for row in _table(out)[1:]]
    assert _table(out)[0] == ["#", "lr", "momentum", "final loss"]
    assert same_report("\n".join(map(" ".join, rows)), "\n".join(" ".join(row) for _, row in sorted(expected)))
    best = sorted(expected)[0][1]
    assert out.endswith(f"\nbest: lr={best[0]} momentum={best[1]}\n")


def test_a_classification_sweep_is_ranked_by_held_out_accuracy(capsys):
    assert main(["run", str(IRIS), "--runs", "2", "--epochs", "3", "--json", "-"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["metric"] == "held_out_accuracy" and report["higher_is_better"] is True
    assert [c["label"] for c in report["choices"]] == ["lr", "batch"] and report["combinations"] == 6
    means = [entry["metric"]["mean"] for entry in report["each"]]
    assert means == sorted(means, reverse=True) and [e["rank"] for e in report["each"]] == [1, 2, 3, 4, 5, 6]
    program = check(IRIS)
    program = replace(program, sweep=replace(_sweep(program), combinations=tuple(
        replace(c, spec=c.spec.model_copy(update={"epochs": 3})) for c in _sweep(program).combinations)))
    for entry in report["each"][::2]:
        for run in entry["runs"]:
            single = _single(program, entry["combination"], run["seed"])
            assert run["held_out_accuracy"] == pytest.approx(single.validation.accuracy, abs=1e-6)
            assert run["held_out_loss"] == pytest.approx(single.validation.losses[-1], rel=1e-5)
            assert run["final_loss"] == pytest.approx(single.final_loss, rel=1e-5)
    assert {entry["trained"] for entry in report["each"]} == {"stacked"}


def test_a_regression_with_validate_is_ranked_by_held_out_loss(tmp_path, capsys):
    rows = "".join(f"{x / 10},{2 * x / 10 + 1}\n" for x in range(20))
    (tmp_path / "line.csv").write_text(rows)
    spec = tmp_path / "line.nqa"
    spec.write_text('linear 1->1\ndata "line.csv"\nvalidate 0.25\nepochs 20\n'
                    "optimizer sgd lr=choice(0.001, 0.05) momentum=choice(0, 0.5)\n")
    assert main(["run", str(spec)]) == 0
    out = capsys.readouterr().out
    assert "(a sweep of 2 x 2 = 4 combinations, seed 0)\n\nranked by held-out loss, lowest first\n" in out
    assert _table(out)[0] == ["#", "lr", "momentum", "held-out loss", "final loss"]
    assert [row[1] for row in _table(out)[1:]][-2:] == ["0.001", "0.001"]  # the small rate learns least in 20 epochs


def test_the_json_has_one_entry_per_combination(capsys):
    assert main(["run", str(MLP), "--runs", "2", "--json", "-"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert next(iter(report)) == "schema_version" and report["schema_version"] == 2
    assert report["runs"] == 2 and report["first_seed"] == 0 and report["metric"] == "final_loss"
    assert report["choices"][0] == {"label": "lr", "statement": "optimizer", "field": "lr", "line": 6, "column": 18,
                                    "end_line": 6, "end_column": 45, "values": [0.0025, 0.005, 0.01],
                                    "written": ["0.0025", "0.005", "0.01"]}
    assert sorted(entry["combination"] for entry in report["each"]) == list(range(6))
    entry = report["each"][0]
    assert set(entry) == {"rank", "combination", "values", "written", "metric", "final_loss", "held_out_loss",
                          "held_out_accuracy", "diverged", "steps", "trained", "runs"}
    assert entry["steps"] == 100 and [run["seed"] for run in entry["runs"]] == [0, 1]
    assert entry["metric"]["mean"] == pytest.approx(statistics.fmean(r["final_loss"] for r in entry["runs"]))


def test_best_writes_the_best_combination_and_keeps_everything_else(tmp_path, capsys):
    text = ("\ufeff# which rate?\r\nlinear 2->3 bias ; linear 3->1\r\n\r\noptimizer sgd  lr=choice(0.05, 1e-2)  "
            "momentum=choice(0, 0.9)   # try both\r\nexample [1, 1] -> [10]\r\n")
    spec, best = tmp_path / "s.nqa", tmp_path / "best.nqa"
    spec.write_bytes(text.encode())
    assert main(["run", str(spec), "--runs", "2", "--best", str(best)]) == 0
    out = capsys.readouterr().out
    report = check(spec)
    written = best.read_bytes().decode()
    found = re.search(r"best: lr=(\S+) momentum=(\S+) \(written to ", out)
    assert found is not None, out
    lr, momentum = found.groups()
    assert written == text.replace("choice(0.05, 1e-2)", lr).replace("choice(0, 0.9)", momentum)
    assert check(best).sweep is None and report.sweep is not None
    assert out.endswith(f"(written to {best})\n")


@pytest.mark.parametrize("where", ["spec", "data"])
def test_best_never_writes_over_an_input(where, tmp_path, capsys):
    (tmp_path / "d.csv").write_text("1,1,2\n0,1,1\n")
    spec = tmp_path / "s.nqa"
    spec.write_text('linear 2->1\ndata "d.csv"\noptimizer sgd lr=choice(0.1, 0.01)\n')
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    target = spec if where == "spec" else tmp_path / "d.csv"
    assert main(["run", str(spec), "--best", str(target)]) == 2
    assert f"--best `{target}` would write over the" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_best_is_refused_without_a_sweep_and_nothing_is_written_when_all_diverge(tmp_path, capsys):
    assert main(["run", str(ROOT / "specs/mlp.nqa"), "--best", str(tmp_path / "b.nqa")]) == 2
    assert "--best applies only to a sweep" in capsys.readouterr().err
    spec = tmp_path / "wild.nqa"
    spec.write_text("linear 1->1\noptimizer sgd lr=choice(1e30, 1e31)\nexample [1e10] -> [1e10]\nepochs 5\n")
    assert main(["run", str(spec), "--best", str(tmp_path / "b.nqa")]) == 0
    captured = capsys.readouterr()
    assert "nqa: no combination finished training, so nothing was written to" in captured.err
    assert "diverged" in _table(captured.out)[0] and not (tmp_path / "b.nqa").exists()


def test_combinations_that_cannot_share_a_run_train_apart_and_still_match_single_runs(tmp_path, capsys):
    spec = tmp_path / "s.nqa"
    spec.write_text("linear 2->4\nrelu\nlinear 4->1\nexample [1, 1] -> [2]\nexample [0, 1] -> [1]\n"
                    "example [1, 0] -> [0]\nepochs 30\nbatch choice(1, 3)\noptimizer adagrad lr=choice(0.1, 0.05)\n")
    program = check(spec)
    assert groups(_sweep(program)) == [[0], [1], [2], [3]]  # adagrad takes no numbers per member; batch never
    result = train_sweep(program, 4, 2)
    for n, outcome in enumerate(result.outcomes):
        for seed, final, _, _ in outcome.runs:
            assert final == pytest.approx(_single(program, n, seed).final_loss, rel=1e-5, abs=1e-7)


def test_a_random_layer_trains_its_combinations_one_by_one_exactly(tmp_path, capsys):
    spec = tmp_path / "s.nqa"
    spec.write_text("linear 2->8\nrelu\ndropout p=choice(0.1, 0.4)\nlinear 8->1\nexample [1, 1] -> [2]\n"
                    "example [0, 1] -> [1]\nepochs 10\n")
    assert main(["run", str(spec), "--runs", "2", "--json", "-"]) == 0
    report = json.loads(capsys.readouterr().out)
    program = check(spec)
    for entry in report["each"]:
        assert entry["trained"] == "one by one"
        for run in entry["runs"]:
            assert run["final_loss"] == _single(program, entry["combination"], run["seed"]).final_loss


@pytest.mark.parametrize("argv, message", [
    (["--save", "w.safetensors"], "--save cannot be used with a sweep (a spec with `choice(...)` values)"),
    (["--runs", "2", "--tolerance", "0.1"], "--tolerance cannot be used with a sweep"),
    (["--epochs", "3"], "--epochs cannot override `epochs`: this sweep varies it"),
    (["--runs", "3", "--max-runs", "5"], "this sweep trains 6 runs (2 combinations x 3), over the limit of 5")])
def test_options_a_sweep_cannot_take_are_refused_before_training(argv, message, tmp_path, capsys):
    spec = tmp_path / "s.nqa"
    spec.write_text("linear 1->1\nexample [1] -> [2]\nepochs choice(2, 4)\n")
    assert main(["run", str(spec), *argv]) == 2
    assert re.match(rf"error\[E0\d{{3}}\]: {re.escape(message)}", capsys.readouterr().err)


def test_the_schema_of_the_sweep_report(capsys):
    assert main(["schema", "sweep"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["properties"]["schema_version"]["default"] == 2
    assert set(schema["$defs"]["SweepEntry"]["properties"]) >= {"values", "metric", "runs", "rank"}


def test_a_written_best_spec_trains_as_the_best_combination_trained(tmp_path, capsys):
    best = tmp_path / "best.nqa"
    assert main(["run", str(MLP), "--best", str(best), "--json", str(tmp_path / "r.json"), "--quiet"]) == 0
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["best"] == str(best)
    # a sweep trains its members side by side (vmap), whose sums round otherwise than one run's: up to 6e-5
    assert train(best).report.final_loss == pytest.approx(report["each"][0]["runs"][0]["final_loss"], rel=1e-4)
    assert normalized(best.read_text()).count("\n") == normalized(MLP.read_text()).count("\n")


@pytest.mark.parametrize("signum, code, word", [(signal.SIGINT, 130, "interrupted"),
                                                (signal.SIGTERM, 143, "terminated")])
def test_a_sweep_stopped_by_a_signal_writes_the_report_so_far_and_no_best(signum, code, word, tmp_path):
    from test_runtime_edges import LONG, _stopped_once_training

    spec, report, best = tmp_path / "long.nqa", tmp_path / "r.json", tmp_path / "best.nqa"
    spec.write_text(LONG + "optimizer sgd lr=choice(0.01, 0.001)\n")
    returncode, out, err = _stopped_once_training(
        "runs", ["run", str(spec), "--runs", "3", "--json", str(report), "--best", str(best)], signum)
    assert returncode == code, err
    assert f"nqa: the sweep did not finish, so nothing was written to `{best}`\n" in err
    assert re.search(rf"nqa: {word} after \d+ steps; the report so far was written\n", err), err
    data = json.loads(report.read_text())
    assert data["stopped"].startswith(f"{word} after ") and data["best"] is None and not best.exists()
    assert len(data["each"]) == 2 and all(len(entry["runs"]) == 3 for entry in data["each"])
    assert f"\nstopped: {data['stopped']}\n" in out


def test_a_schedule_trains_one_by_one_and_clipping_apart_each_as_its_single_run(tmp_path, capsys):
    spec = tmp_path / "s.nqa"
    rows = "example [1, 1] -> [2]\nexample [0, 1] -> [1]\nexample [1, 0] -> [0]\n"
    spec.write_text("linear 2->4\nrelu\nlinear 4->1\n" + rows + "epochs 20\noptimizer sgd lr=0.1 momentum=0.9\n"
                    "schedule step every=5 gamma=choice(0.5, 0.1)\n")
    assert main(["run", str(spec), "--runs", "2", "--json", "-"]) == 0
    report = json.loads(capsys.readouterr().out)
    program = check(spec)
    for entry in report["each"]:
        assert entry["trained"] == "one by one"
        for run in entry["runs"]:
            assert run["final_loss"] == _single(program, entry["combination"], run["seed"]).final_loss
    spec.write_text(spec.read_text().replace("schedule step every=5 gamma=choice(0.5, 0.1)", "clip choice(0.05, 1)")
                    .replace("lr=0.1", "lr=choice(0.1, 0.05)"))
    program = check(spec)
    assert groups(_sweep(program)) == [[0, 2], [1, 3]]  # the clip differs between groups, lr within them
    result = train_sweep(program, 0, 2)
    for n, outcome in enumerate(result.outcomes):
        assert outcome.path == "stacked"
        for seed, final, _, _ in outcome.runs:
            assert final == pytest.approx(_single(program, n, seed).final_loss, rel=1e-5, abs=1e-7)
