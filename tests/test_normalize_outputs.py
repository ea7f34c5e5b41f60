"""`normalize` wherever the trained network goes: the emitted program computes the same
statistics and prints the same losses as `nqa run`; the ONNX graph takes raw inputs and
gives what the trained network gives on the scaled ones; `--runs` members are their single
runs; and the wine example learns with it (>= 95% held out) and not without (< 90%)."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from compiler import check
from compiler.emit_python import emit_python
from conftest import ROOT
from runtime import train
from runtime.cli import main
from test_emit_python import _printed

WINE = ROOT / "specs/examples/wine.nqa"
MINMAX = """\
input 2x3
flatten
linear 6->4
tanh
linear 4->1
data "shaped.csv" shape=2x3 target=y normalize=minmax
batch 5
shuffle
validate 0.3
epochs 4
seed 2
"""


def _shaped_data(folder) -> None:
    rows = ["a,b,c,d,e,f,y"] + [f"{i},{i * 2},5,{i * 10},{100 - i},{i % 4},{i / 10}" for i in range(17)]
    (folder / "shaped.csv").write_text("\n".join(rows) + "\n")


def test_the_emitted_program_scales_as_the_run_does(tmp_path):
    _shaped_data(tmp_path)
    spec = tmp_path / "m.nqa"
    spec.write_text(MINMAX)
    text = emit_python(check(spec))
    assert "shift, scale = normalizing_statistics(inputs, 'minmax')" in text
    assert text.count("\nclass Normalize(nn.Module):\n") == 1
    script = tmp_path / "program.py"
    script.write_text(text)
    done = subprocess.run([sys.executable, "-I", str(script)], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    printed = _printed(done.stdout)
    report = train(spec).report
    assert report.normalization.shape == (2, 3) and report.normalization.constant == (2,)
    assert printed["losses"] == list(report.losses)
    assert printed["validation"] == list(report.validation.losses)
    assert printed["final"] == {name: t.tolist() for name, t in report.parameters.final.items()}


ort = pytest.importorskip("onnxruntime")


@pytest.mark.parametrize("untrained", [False, True])
def test_the_onnx_graph_takes_raw_inputs(untrained, tmp_path, capsys):
    from runtime.export import untrained as built
    from runtime.normalize import of_program

    out = tmp_path / "wine.onnx"
    assert main(["export", str(WINE), "--onnx", str(out), *(["--untrained"] if untrained else [])]) == 0
    if untrained:
        program = check(WINE)
        model, normalization = built(program, None), of_program(program, program.spec.seed)
    else:
        run = train(WINE)
        model, normalization = run.model, run.normalization
    rows = torch.tensor([[13.2, 1.78, 2.14, 11.2, 100, 2.65, 2.76, 0.26, 1.28, 4.38, 1.05, 3.4, 1050],
                         [12.37, 0.94, 1.36, 10.6, 88, 1.98, 0.57, 0.28, 0.42, 1.95, 1.05, 1.82, 520]])
    assert normalization is not None
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    for x in (rows, rows[:1]):
        (got,) = session.run(None, {"input": x.numpy()})
        with torch.no_grad():
            want = model.eval()(normalization.apply(x))
        assert torch.allclose(torch.from_numpy(got), want, atol=1e-5, rtol=1e-5)


def test_runs_members_are_their_single_runs(tmp_path):
    from runtime.runs import train_runs

    _shaped_data(tmp_path)
    spec = tmp_path / "m.nqa"
    spec.write_text(MINMAX)
    result = train_runs(check(spec), 2, 2)
    for column, seed in enumerate((2, 3)):  # each seed holds out other rows: its own statistics
        single = train(spec, seed=seed).report.losses
        assert result.losses[:, column].tolist() == pytest.approx(list(single), rel=1e-5)


def test_the_wine_example_learns_with_normalize_and_not_without(tmp_path):
    scaled = train(WINE).report
    text = WINE.read_text()
    assert "\nnormalize\n" in text
    plain_spec = tmp_path / "wine.nqa"
    plain_spec.write_text(text.replace("\nnormalize\n", "\n"))
    (tmp_path / "wine.csv").write_bytes((ROOT / "specs/examples/wine.csv").read_bytes())
    plain = train(plain_spec).report
    assert scaled.validation.rows == plain.validation.rows == 36
    assert scaled.validation.accuracy >= 0.95, scaled.validation.accuracy
    assert plain.validation.accuracy < 0.90, plain.validation.accuracy
    assert scaled.normalization.rows == 142 and plain.normalization is None
    assert [max(range(3), key=e.output.__getitem__) for e in scaled.eval] == [1, 2]  # barolo, grignolino
    assert scaled.training.classes == ("barbera", "barolo", "grignolino")
