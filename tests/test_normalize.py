"""`normalize`: statistics of the training rows only (never the held-out ones), a constant
input scaled by 1, minmax to [0, 1], the statistics in the report, the weights file and
`eval`; and every way of writing it wrong refused by `nqa check` at its place."""

from __future__ import annotations

import json
import math
import statistics

import pytest
import torch

from compiler import check
from runtime import train
from runtime.checkpoint import read_metadata
from runtime.cli import main
from runtime.data import dataset
from runtime.normalize import Normalization
from runtime.text_report import render_text

ROWS = 20


def _held_out(rows: int, fraction: float, seed: int) -> set[int]:
    """The rows `validate` holds out, chosen as the run chooses them (compiler/data_rules, runtime/data)."""
    from compiler.data_rules import held_out_rows

    order = torch.randperm(rows, generator=torch.Generator().manual_seed(seed))
    return set(order[:held_out_rows(fraction, rows)].tolist())


def _write(folder, name: str, text: str):
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _extreme_held_out(folder, seed: int = 3):
    """A file whose held-out rows are extreme (1000, -500): a statistic that saw them would show it."""
    held = _held_out(ROWS, 0.25, seed)
    lines = ["a,b,c,y"]
    for row in range(ROWS):
        a, b = (1000.0, -500.0) if row in held else (float(row), 2.0 + (row % 3))
        lines.append(f"{a},{b},7,{row % 2}")
    _write(folder, "rows.csv", "\n".join(lines) + "\n")
    trained = [row for row in range(ROWS) if row not in held]
    return held, trained


SPEC = "linear 3->2\ndata \"rows.csv\" target=y\nloss cross_entropy\nvalidate 0.25\nepochs 3\nseed {seed}\n{norm}\n"


def test_the_statistics_come_from_the_training_rows_alone(tmp_path):
    held, trained = _extreme_held_out(tmp_path)
    run = train(_write(tmp_path, "n.nqa", SPEC.format(seed=3, norm="normalize")))
    info = run.report.normalization
    a = [float(row) for row in trained]
    b = [2.0 + (row % 3) for row in trained]
    assert info.method == "standard" and info.rows == len(trained) == ROWS - len(held) and info.shape == (3,)
    assert info.inputs == ("a", "b", "c")
    assert info.shift[:2] == pytest.approx([statistics.fmean(a), statistics.fmean(b)], rel=1e-12)
    assert info.scale[:2] == pytest.approx([statistics.pstdev(a), statistics.pstdev(b)], rel=1e-12)  # population
    assert max(info.shift) < 100  # the 1000s held out are not in them
    assert run.report.validation.rows == len(held)
    # the held-out rows are scaled by the training rows' statistics, as the training rows are
    data = dataset(run.program.spec, 3, run.program.table)
    assert data.held_inputs is not None
    assert data.held_inputs[:, 0].tolist() == pytest.approx([(1000 - info.shift[0]) / info.scale[0]] * len(held))
    assert data.inputs.mean(dim=0)[:2].tolist() == pytest.approx([0, 0], abs=1e-6)


def test_a_constant_input_is_scaled_by_1_and_said(tmp_path):
    _extreme_held_out(tmp_path)
    run = train(_write(tmp_path, "n.nqa", SPEC.format(seed=3, norm="normalize")))
    info = run.report.normalization
    assert info.constant == (2,) and info.shift[2] == 7.0 and info.scale[2] == 1.0
    data = dataset(run.program.spec, 3, run.program.table)
    assert data.inputs[:, 2].tolist() == [0.0] * info.rows
    assert ("  constant_input: `c` was the same in every training row: `normalize` scaled it by 1, to 0"
            in render_text(run.report).splitlines())


def test_minmax_takes_every_training_input_to_0_and_1(tmp_path):
    _extreme_held_out(tmp_path)
    spec = SPEC.format(seed=3, norm="").replace('target=y', 'target=y normalize=minmax')
    program = check(_write(tmp_path, "m.nqa", spec))
    assert program.spec.normalize == "minmax"
    data = dataset(program.spec, 3, program.table)
    assert data.inputs.min(dim=0).values.tolist() == [0.0, 0.0, 0.0]
    assert data.inputs.max(dim=0).values.tolist() == [1.0, 1.0, 0.0]  # the constant column becomes 0
    assert data.held_inputs is not None and data.normalization is not None
    assert data.held_inputs[:, 0].min() > 1  # held-out rows above the training range stay above it
    assert data.normalization.constant == (2,)


def test_examples_are_training_rows_and_eval_inputs_are_scaled(tmp_path):
    spec = ("linear 2->1\nnormalize\nexample [1, 10] -> [1]\nexample [3, 30] -> [2]\nexample [5, 20] -> [3]\n"
            "epochs 5\neval [3, 20]\n")
    run = train(spec)
    assert run.report.normalization.shift == (3.0, 20.0)
    assert run.report.normalization.scale == pytest.approx((math.sqrt(8 / 3), math.sqrt(200 / 3)))
    with torch.no_grad():
        want = run.model(run.normalization.apply(torch.tensor([3.0, 20.0])))
    assert run.report.eval[0].output == tuple(want.tolist())
    assert run.normalization.apply(torch.tensor([3.0, 20.0])).tolist() == [0.0, 0.0]


def test_the_text_report_says_it_in_a_line_and_the_json_carries_the_numbers(tmp_path, capsys):
    _extreme_held_out(tmp_path)
    path = _write(tmp_path, "n.nqa", SPEC.format(seed=3, norm="normalize minmax"))
    assert main(["run", str(path)]) == 0
    assert ("normalize  minmax: each of the 3 inputs by its minimum and maximum over the 15 training rows"
            in capsys.readouterr().out.splitlines())
    assert main(["run", str(path), "--json", "-"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["normalization"]["method"] == "minmax" and report["normalization"]["rows"] == 15
    assert report["normalization"]["shift"][2] == 7 and report["normalization"]["constant"] == [2]
    assert main(["run", str(_write(tmp_path, "p.nqa", SPEC.format(seed=3, norm=""))), "--json", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["normalization"] is None


def test_the_weights_file_keeps_the_statistics(tmp_path, capsys):
    _extreme_held_out(tmp_path)
    path = _write(tmp_path, "n.nqa", SPEC.format(seed=3, norm="normalize"))
    saved = tmp_path / "w.safetensors"
    assert main(["run", str(path), "--save", str(saved), "--quiet"]) == 0
    kept = Normalization.from_metadata(read_metadata(saved))
    run = train(path)
    assert kept is not None and kept.method == "standard" and kept.rows == run.normalization.rows
    assert torch.equal(kept.shift, run.normalization.shift) and torch.equal(kept.scale, run.normalization.scale)
    assert kept.names == ("a", "b", "c") and kept.constant == (2,)
    raw = torch.tensor([[1.0, 3.0, 7.0], [1000.0, -500.0, 7.0]])
    assert torch.equal(kept.apply(raw), run.normalization.apply(raw))
    assert torch.equal(kept.module()(raw), run.normalization.apply(raw))
    plain = tmp_path / "plain.safetensors"
    assert main(["run", str(_write(tmp_path, "p.nqa", SPEC.format(seed=3, norm=""))), "--save", str(plain),
                 "--quiet"]) == 0
    assert "nqa_normalize" not in read_metadata(plain) and Normalization.from_metadata(read_metadata(plain)) is None


def test_unreadable_statistics_in_a_weights_file_are_one_clear_message():
    from spec_lang import SpecError

    broken = {"nqa_normalize": json.dumps({"method": "standard", "rows": 3, "shape": [2], "shift": [0.0],
                                           "scale": [1.0, 1.0]})}
    with pytest.raises(SpecError) as caught:
        Normalization.from_metadata(broken)
    assert str(caught.value).startswith("error[E0911]: the weights file's input statistics (`nqa_normalize`) are not "
                                        "readable: Value error, shape [2] holds 2 values, but shift, scale or "
                                        "inputs do not")
    for bad in ("{", json.dumps({"method": "zscore", "rows": 1, "shape": [1], "shift": [0], "scale": [1]}),
                json.dumps({"method": "minmax", "rows": 1, "shape": [1], "shift": [0], "scale": [0]})):
        with pytest.raises(SpecError):
            Normalization.from_metadata({"nqa_normalize": bad})
