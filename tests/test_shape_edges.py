"""Networks with shapes at their edges, as users meet them: one example fed to a
network that needs a batch (training on one row, `eval`), big-endian and float16
arrays, `batch_norm` left with a one-row batch by `validate`, and the hint for a
forgotten `flatten` after a recurrent layer."""

from __future__ import annotations

import json
import runpy

import numpy as np
import pytest

from compiler import check
from runtime.cli import main
from spec_lang import SpecError

EMBEDDED = "embedding 5->2\nflatten\nlinear ->1\nepochs 3\n"


def _run_json(spec, tmp_path, capsys) -> dict:
    assert main(["run", str(spec), "--json", str(tmp_path / "r.json"), "--quiet"]) == 0, capsys.readouterr().err
    return json.loads((tmp_path / "r.json").read_text())


@pytest.mark.parametrize("examples", [1, 2])
def test_eval_and_a_single_training_row_reach_a_network_that_needs_a_batch(examples, tmp_path, capsys):
    rows = ["example [1, 2, 3] -> [1]", "example [1, 2, 4] -> [0]"][:examples]
    spec = tmp_path / "e.nqa"
    spec.write_text(EMBEDDED + "\n".join(rows) + "\neval [1, 2, 3]\n")
    report = _run_json(spec, tmp_path, capsys)
    assert len(report["losses"]) == 3 and len(report["eval"][0]["output"]) == 1
    assert main(["compile", str(spec), "--emit", "python", "-o", str(tmp_path / "p.py")]) == 0
    capsys.readouterr()
    runpy.run_path(str(tmp_path / "p.py"), run_name="__main__")
    printed = capsys.readouterr().out
    assert f"eval [1.0, 2.0, 3.0] -> {report['eval'][0]['output']!r}" in printed


def test_batch_norm_on_a_vector_in_a_network_given_one_example_trains_it_as_a_batch(tmp_path, capsys):
    spec = tmp_path / "b.nqa"
    spec.write_text("linear 4->4\nbatch_norm\nlinear ->1\nexample [1, 2, 3, 4] -> [1]\nexample [2, 1, 3, 4] -> [0]\n"
                    "eval [1, 2, 3, 4]\nepochs 2\n")
    assert len(_run_json(spec, tmp_path, capsys)["eval"][0]["output"]) == 1


def test_big_endian_and_float16_arrays_train_as_native_ones(tmp_path, capsys):
    x = np.arange(40, dtype=np.float32).reshape(10, 4) / 40
    y = (np.arange(10, dtype=np.float32) % 2).reshape(10, 1)
    np.savez(tmp_path / "native.npz", x=x, y=y)
    np.savez(tmp_path / "big.npz", x=x.astype(">f4"), y=y.astype(">f4"))
    np.savez(tmp_path / "half.npz", x=x.astype(np.float16), y=y)
    losses = {}
    for name in ("native", "big", "half"):
        spec = tmp_path / f"{name}.nqa"
        spec.write_text(f'data "{name}.npz"\nlinear ->1\nepochs 2\n')
        losses[name] = _run_json(spec, tmp_path, capsys)["losses"]
        assert capsys.readouterr().err == ""  # no NumPy warning leaks out
    assert losses["big"] == losses["native"] and len(losses["half"]) == 2


def test_batch_norm_left_with_a_one_row_batch_by_validate_is_refused_before_training(tmp_path):
    np.savez(tmp_path / "v.npz", x=np.ones((10, 4), np.float32), y=np.ones((10, 1), np.float32))
    spec = tmp_path / "b.nqa"
    spec.write_text('data "v.npz"\nlinear ->4\nbatch_norm\nlinear ->1\nvalidate 0.1\nbatch 8\n')
    with pytest.raises(SpecError) as caught:
        check(spec)
    text = caught.value.render()
    assert ("error[E0212]: `batch_norm` on [4] normalises each channel over the rows of a batch, "
            "but a batch of 1 row") in text
    assert "b.nqa:3:1" in text and "needs batches of 2 rows or more" in text


def test_a_forgotten_flatten_after_a_sequence_is_not_placed_before_the_recurrent_layer():
    with pytest.raises(SpecError) as caught:
        check("input 6x2\nlstm ->3 sequence\nloss cross_entropy\n")
    text = caught.value.render()
    assert "but the network gives [6, 3]" in text
    assert "hint: add `flatten` as the last layer, then a `linear` with one output per class" in text
