"""Every registered layer through every command: `check`, `compile`, `run`,
`run --runs 2`, `compile --emit python` (the program run, its losses equal to
`run`'s) and `draw`, on a small spec around the layer (tests/layer_specs.py).
A layer added to the registry is taken here without a line of this file.
"""

from __future__ import annotations

import json
import runpy
import xml.etree.ElementTree as ET

import pytest

from compiler import check
from compiler.registry import layer_classes
from layer_specs import REFUSED, layer_spec, with_data
from runtime.cli import main

LAYERS = layer_classes()


def _spec(cls, folder):
    return with_data(folder, layer_spec(cls), f"{cls.keyword}.nqa")


@pytest.mark.parametrize("cls", LAYERS, ids=lambda cls: cls.keyword)
def test_each_command_takes_a_network_with_the_layer(cls, tmp_path, capsys):
    spec = _spec(cls, tmp_path)
    program = check(spec)
    index = next(i for i, layer in enumerate(program.spec.layers) if isinstance(layer, cls))
    name = program.spec.summary()[index].name

    assert main(["check", str(spec)]) == 0
    assert capsys.readouterr().out == f"{spec}: ok\n"
    assert main(["compile", str(spec)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Sequential(\n") and f"  {name}  " in out, out

    assert main(["run", str(spec), "--json", str(tmp_path / "run.json"), "--quiet"]) == 0
    report = json.loads((tmp_path / "run.json").read_text())
    assert report["model"]["layers"][index]["name"] == name and len(report["losses"]) == 6

    code = main(["run", str(spec), "--runs", "2", "--quiet"])
    err = capsys.readouterr().err
    assert "Traceback" not in err and code == (2 if cls.keyword in REFUSED else 0), err

    assert main(["draw", str(spec), "-o", str(tmp_path / "net.svg")]) == 0
    svg = ET.fromstring((tmp_path / "net.svg").read_text(encoding="utf-8"))
    texts = " ".join(element.text or "" for element in svg.iter())
    assert name in texts or (cls.torch_name and cls.torch_name in texts), texts

    assert main(["compile", str(spec), "--emit", "python", "-o", str(tmp_path / "program.py")]) == 0
    capsys.readouterr()
    runpy.run_path(str(tmp_path / "program.py"), run_name="__main__")  # it imports torch alone (test_emit_python)
    steps = [float(line.rsplit("= ", 1)[1]) for line in capsys.readouterr().out.splitlines()
             if line.startswith("step ")]
    assert steps == report["losses"]
