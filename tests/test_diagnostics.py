"""Diagnostics that explain a run: the dead ReLU of the tutorial's stage 2,
parameters that never moved, broadcast targets, plateaus and high final loss."""

from __future__ import annotations

import pytest

from conftest import ROOT
from guide_programs import STAGES
from runtime import train

RELU = ROOT / "specs/relu.nqa"


def _kinds(run) -> list[str]:
    return [d.kind for d in run.report.diagnostics]


def _guide_dies(seed: int) -> bool:
    result = STAGES["relu"](seed)
    return all(torch_equal(a, b) for a, b in zip(result.initial, result.final, strict=True))


def torch_equal(a, b) -> bool:
    import torch

    return torch.equal(a, b)


@pytest.mark.parametrize("seed", range(12))
def test_dead_relu_is_reported_exactly_for_the_seeds_where_the_guide_dies(seed):
    run = train(RELU, seed=seed)
    dies = _guide_dies(seed)
    assert ("dead_relu" in _kinds(run)) == dies
    if dies:
        entry = next(d for d in run.report.diagnostics if d.kind == "dead_relu")
        assert entry.layer == 0 and entry.parameter == "0.weight"
        assert "try `leaky_relu`" in entry.message
        assert "plateau" in _kinds(run) and "loss_high" in _kinds(run)
    else:
        assert _kinds(run) == []


def test_both_dead_and_living_seeds_exist_in_the_first_twelve():
    verdicts = {_guide_dies(seed) for seed in range(12)}
    assert verdicts == {True, False}


def test_the_stage_specs_that_learn_have_no_diagnostics():
    for name in ("neuron", "leaky_relu", "bias", "two_inputs", "layer", "mlp", "sequential"):
        assert _kinds(train(ROOT / f"specs/{name}.nqa", seed=0)) == [], name


def test_a_frozen_layer_without_relu_is_never_moved_and_broadcast_is_said(tmp_path):
    spec = tmp_path / "s.nqa"
    spec.write_text("linear 1->2\nexample [0] -> [0]\nepochs 30\n")
    run = train(spec, seed=0)
    kinds = _kinds(run)
    assert "target_broadcast" in kinds
    moved = {d.parameter for d in run.report.diagnostics if d.kind == "never_moved"}
    assert moved == {"0.weight"}  # the input is 0, so the weight gets no gradient; the bias learns
