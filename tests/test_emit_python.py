"""`nqa compile --emit python`: the emitted plain-PyTorch script, run on its own,
prints the same loss at every step, the same final weights and the same eval
outputs as `nqa run`, exactly, for every spec in specs/."""

from __future__ import annotations

import ast as python_ast
import subprocess
import sys
from typing import Any

import pytest

from compiler import check
from compiler.emit_python import emit_python
from conftest import ROOT, spec_files
from runtime import train

SPECS = spec_files(ROOT / "specs", deep=True)


def _printed(output: str) -> dict[str, Any]:
    seen: dict[str, Any] = {"losses": [], "final": {}, "eval": [], "validation": []}
    for line in output.splitlines():
        if line.startswith("step "):
            seen["losses"].append(float(line.split(" = ")[1]))
        elif line.startswith("final "):
            name, value = line[len("final "):].split(" = ")
            seen["final"][name] = python_ast.literal_eval(value)
        elif line.startswith("eval "):
            seen["eval"].append(tuple(python_ast.literal_eval(line.split(" -> ")[1])))
        elif "validation loss" in line:
            seen["validation"].append(float(line.split(" = ")[1]))
    return seen


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_the_emitted_script_prints_what_nqa_run_reports(path, tmp_path):
    script = tmp_path / "program.py"
    script.write_text(emit_python(check(path)))
    python_ast.parse(script.read_text())
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    printed = _printed(done.stdout)
    report = train(path).report
    assert printed["losses"] == list(report.losses)
    assert printed["final"] == {name: t.tolist() for name, t in report.parameters.final.items()}
    assert printed["eval"] == [e.output for e in report.eval]
    if report.validation is not None:
        assert printed["validation"] == list(report.validation.losses)


def test_the_script_reads_like_the_tutorial(capsys, monkeypatch):
    from runtime.cli import main

    monkeypatch.chdir(ROOT)
    assert main(["compile", "specs/mlp.nqa", "--emit", "python"]) == 0
    text = capsys.readouterr().out
    for piece in ("class SimpleNN(nn.Module):", "nn.Linear(2, 3, bias=True),", "torch.manual_seed(SEED)",
                  "torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9", "loss_criterion = nn.MSELoss()",
                  "optimiser.zero_grad()", "loss.backward()", "optimiser.step()"):
        assert piece in text


OWN = ("input 6x3\nlstm ->4 sequence\nlstm ->5 sequence layers=2\ngru ->4 sequence\nglobal_avg_pool\nlinear ->2\n"
       "seed 5\n")


def test_nqas_own_modules_are_copied_in_once_and_build_the_same_network(tmp_path):
    import os

    import torch

    from compiler import compile_spec

    program = check(OWN)
    text = emit_python(program)
    for name in ("LSTM", "GRU", "GlobalAvgPool"):
        assert text.count(f"\nclass {name}(nn.Module):\n") == 1
        assert text.index(f"class {name}(") < text.index("class SimpleNN(")
    tree = python_ast.parse(text)
    imported = {alias.name for node in python_ast.walk(tree) if isinstance(node, python_ast.Import)
                for alias in node.names}
    assert imported == {"torch", "torch.nn"} and not any(isinstance(n, python_ast.ImportFrom) for n in tree.body)
    built = text[:text.index("print(net)\n")]  # the script up to its network, seeded as it seeds it
    probe = ("x = torch.arange(36, dtype=torch.float32).reshape(2, 6, 3) / 10\nnet.eval()\n"
             "print(repr(net(x).tolist()))\n"
             "print(repr({k: v.tolist() for k, v in net.stack.state_dict().items()}))\n")
    script = tmp_path / "own.py"
    script.write_text(built + probe)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-I", str(script)], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    output, state = (python_ast.literal_eval(line) for line in done.stdout.splitlines())
    torch.manual_seed(5)
    model = compile_spec(program).eval()
    assert state == {k: v.tolist() for k, v in model.state_dict().items()}  # the same weights, exactly
    with torch.no_grad():  # and the same function (a recurrent kernel may round the last bit differently)
        want = model(torch.arange(36, dtype=torch.float32).reshape(2, 6, 3) / 10)
    assert torch.allclose(torch.tensor(output), want, atol=1e-6, rtol=1e-6)
