"""`--runs N`: many seeds at once. Every run starts exactly where the single run
of its seed starts, ends within 1e-5 of it, and the distribution is reported."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import torch

from compiler import check
from conftest import ROOT
from layer_specs import REFUSED, layer_spec, rows, with_data
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
    assert result.path == "stacked"
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
    assert err.startswith("error[E0920]: `--runs` cannot train a network with `dropout` at once")
    assert f"{spec}:2:1" in err


# the two ways: "stacked" for linear layers and activations on vectors, "vmap" (torch.func) for any network

def _program(text: str, name: str = "spec.nqa"):
    from compiler import as_program

    return as_program(text, filename=name)


def _matches_single_runs(program, result, within: float = 1e-5) -> None:
    for n, seed in enumerate(result.seeds):
        single = train(program, seed=seed).report
        assert torch.equal(_flat(single.parameters.initial), result.initial[n]), f"seed {seed}: initial"
        assert torch.allclose(_flat(single.parameters.final), result.final[n], atol=within, rtol=within), f"seed {seed}"
        assert torch.allclose(torch.tensor(single.losses), result.losses[:, n], atol=within, rtol=within), \
            f"seed {seed}"


# Adam over iris's 240 steps turns a last-bit difference between the batched and the single
# matrix product into up to 2e-5 on some CPUs; the guide's stages (plain SGD) hold 1e-5
@pytest.mark.parametrize(("stage", "within"), [("neuron", 1e-5), ("relu", 1e-5), ("mlp", 1e-5),
                                               ("sequential", 1e-5), ("examples/iris", 1e-4)])
def test_the_generic_path_matches_the_single_run_of_each_seed(stage, within):
    program = check(ROOT / f"specs/{stage}.nqa")
    program = replace(program, spec=program.spec.model_copy(update={"epochs": min(program.spec.epochs, 30)}))
    result = train_runs(program, 3, 6, path="vmap")
    assert result.path == "vmap"
    _matches_single_runs(program, result, within)


LOSSES = {"mse": ("", "[0.5, -1]"), "l1": ("", "[0.5, -1]"), "huber": (" delta=0.3", "[0.5, -1]"),
          "bce": ("\nsigmoid", "[0.25, 1]"), "bce_logits": ("", "[0.25, 1]"), "cross_entropy": ("", "[1]")}


@pytest.mark.parametrize("path", ["stacked", "vmap"])
@pytest.mark.parametrize("loss", LOSSES)
def test_each_loss_gives_each_run_the_single_runs_losses(loss, path):
    """A loss standing in for another (huber for bce, mse for l1) would change these numbers."""
    options, target = LOSSES[loss]
    end, options = (options, "") if options.startswith("\n") else ("", options)
    text = (f"linear 3->4\ntanh\nlinear 4->2{end}\noptimizer sgd lr=0.1 momentum=0.5\nloss {loss}{options}\n"
            f"epochs 15\nbatch 2\nexample [1, 2, 3] -> {target}\nexample [-1, 0.5, 2] -> {target}\n"
            f"example [0, 0, 1] -> {target}\n")
    program = _program(text)
    result = train_runs(program, 0, 5, path=path)
    assert result.path == path
    _matches_single_runs(program, result)


def test_a_loss_computed_another_way_than_its_module_gives_way_to_the_module():
    from compiler.losses import MSE
    from runtime.ensemble import MemberLosses

    losses = MemberLosses(MSE(), batched=True)
    losses.elements = torch.nn.L1Loss(reduction="none")  # a stand-in that does not agree with MSELoss
    output, target = torch.tensor([[[3.0]], [[1.0]]]), torch.tensor([[0.0]])
    assert losses(output, target, shared=True).tolist() == [9.0, 1.0]
    assert losses.elements is None


def test_initial_weights_that_differ_from_the_built_network_send_the_runs_the_generic_way(monkeypatch):
    import runtime.stacked

    monkeypatch.setattr(runtime.stacked, "_bounds", lambda model: dict.fromkeys(model.state_dict(), 0.5))
    program = check(ROOT / "specs/mlp.nqa")
    result = train_runs(program, 0, 3)
    assert result.path == "vmap"
    _matches_single_runs(program, result)


def test_the_stacked_path_is_for_linear_layers_and_activations_on_vectors_only(monkeypatch):
    from torch import nn

    import runtime.runs
    from runtime.runs import path_for
    from runtime.stacked import stackable

    for stage in STAGES:
        assert path_for(check(ROOT / f"specs/{stage}.nqa").spec) == "stacked"
    assert path_for(_program("linear 2->3\ndropout 0.5\nlinear 3->1\nexample [1, 1] -> [1]\n").spec) == "vmap"
    assert not any(stackable(m) for m in (nn.BatchNorm1d(3), nn.LayerNorm(3), nn.Softmax(dim=0), nn.Dropout(),
                                          type("Twin", (nn.Linear,), {})(2, 2), nn.Identity()))
    assert all(stackable(m) for m in (nn.Linear(2, 2), nn.ReLU(), nn.GELU(approximate="tanh"), nn.Softmax(dim=-1)))
    program = check(ROOT / "specs/mlp.nqa")
    monkeypatch.setattr(runtime.runs, "compile_spec", lambda spec: nn.Sequential(nn.Linear(2, 3), nn.LayerNorm(3)))
    assert path_for(program.spec) == "vmap"





SETTINGS = "optimizer sgd lr=0.05 momentum=0.5\nepochs 4\nbatch 4\nshuffle\n"
NETWORKS = {
    "conv": ("input 1x8x8\nconv2d ->4 kernel=3\nrelu\nmax_pool2d 2\nflatten\nlinear ->3\nloss cross_entropy\n",
             rows(64, 12, classes=3)),
    "conv1d": ("input 2x8\nconv1d ->3 kernel=3\navg_pool1d 2\ntanh\nglobal_avg_pool\nlinear ->1\n", rows(16, 12)),
    "layer_norm": ("input 4\nlinear ->8\nlayer_norm\nrelu\nlinear ->1\n", rows(4, 12)),
    "batch_norm": ("input 4\nlinear ->8\nbatch_norm\nrelu\nlinear ->1\n", rows(4, 12)),
    "batch_norm2d": ("input 1x4x4\nconv2d ->2 kernel=3\nbatch_norm\nrelu\nflatten\nlinear ->1\n", rows(16, 12)),
    "lstm": ("input 3x2\nlstm ->4\nlinear ->1\n", rows(6, 12)),
    "gru": ("input 3x2\ngru ->4 sequence\nflatten\nlinear ->1\n", rows(6, 12)),
}


@pytest.mark.parametrize("network", NETWORKS)
def test_networks_of_any_layer_run_through_vmap_and_match_single_runs(network, tmp_path):
    from runtime.runs import path_for

    layers, rows = NETWORKS[network]
    program = check(with_data(tmp_path, layers + SETTINGS + rows))
    assert path_for(program.spec) == "vmap"
    result = train_runs(program, 0, 4)
    assert result.path == "vmap"
    _matches_single_runs(program, result)


def test_token_ids_through_an_embedding_match_single_runs(tmp_path):
    program = check(with_data(tmp_path, "input 4\nembedding 6->3\ngru ->5\nlinear ->1\n" + SETTINGS
                               + rows(4, 8, ids=6)))
    assert str(program.spec.input_type) == "[4] int64"
    result = train_runs(program, 0, 3)
    assert result.path == "vmap" and result.slots[0].name == "0.weight" and result.slots[0].shape == (6, 3)
    _matches_single_runs(program, result)


def test_batch_norm_running_statistics_follow_each_runs_own(tmp_path):
    """Buffers are stacked and updated in place under vmap: each run's running mean, variance and count
    equal those of the single run of its seed."""
    layers, rows = NETWORKS["batch_norm"]
    program = check(with_data(tmp_path, layers + SETTINGS.replace("epochs 4", "epochs 6") + rows))
    result = train_runs(program, 0, 4)
    names = [slot.name for slot in result.slots]
    assert names[2:7] == ["1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked"]
    steps = result.slots[names.index("1.num_batches_tracked")].start
    assert result.final[:, steps].tolist() == [18.0] * 4  # 6 epochs of 3 batches
    _matches_single_runs(program, result)  # buffers included: they are in each single run's state_dict
    assert len({tuple(row.tolist()) for row in result.final}) == 4  # four runs, four different states


@pytest.mark.parametrize("cls", __import__("compiler.registry", fromlist=["x"]).layer_classes(),
                         ids=lambda cls: cls.keyword)
def test_runs_2_trains_a_network_with_each_registered_layer(cls, tmp_path, capsys):
    spec = with_data(tmp_path, layer_spec(cls), f"{cls.keyword}.nqa")
    assert main(["check", str(spec)]) == 0, f"add a spec that holds `{cls.keyword}` to AROUND_LAYER"
    capsys.readouterr()
    code = main(["run", str(spec), "--runs", "2", "--json", "-"])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    if cls.keyword in REFUSED:
        assert code == 2 and err.startswith(
            f"error[E0920]: `--runs` cannot train a network with `{cls.keyword}` at once")
        return
    assert code == 0, err
    report = json.loads(out)
    assert [run["seed"] for run in report["each"]] == [0, 1] and report["steps"] == 6
    assert all(run["final_loss"] is not None for run in report["each"])
