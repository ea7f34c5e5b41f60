"""`nqa draw` and `nqa run --draw` as users see them: one circle per input and
neuron, one bias unit per biased layer, one line per weight and bias; with
weights, colour by sign and thickness by size; wide layers drawn in part; a
golden drawing; and no torch without weights."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter

import pytest
from torch import nn

from compiler import check, compile_spec
from compiler.draw import draws_neurons
from conftest import ROOT, spec_files
from runtime.cli import main

NS = "{http://www.w3.org/2000/svg}"
POSITIVE, NEGATIVE = "#1f5fa8", "#c0392b"
# the specs drawn neuron by neuron; the others are drawn as blocks (tests/test_block_drawing.py)
ALL_SPECS = sorted(str(p.relative_to(ROOT)) for p in spec_files(ROOT / "specs", deep=True)
                   if draws_neurons(check(p).spec))
TUTORIAL = sorted(str(p.relative_to(ROOT)) for p in spec_files(ROOT / "specs"))


def _draw(argv, tmp_path, name="net.svg") -> ET.Element:
    out = tmp_path / name
    assert main(argv + [str(out)]) == 0
    return ET.fromstring(out.read_text(encoding="utf-8"))


def _connections(svg: ET.Element) -> list[ET.Element]:
    groups = [g for g in svg.iter(f"{NS}g") if g.get("id") == "connections"]
    assert len(groups) == 1
    return groups[0].findall(f"{NS}line")


def _linears(spec: str) -> list[nn.Linear]:
    return [m for m in compile_spec(ROOT / spec) if isinstance(m, nn.Linear)]


@pytest.mark.parametrize("spec", ALL_SPECS)
def test_draw_has_a_unit_per_input_neuron_and_bias_and_a_line_per_parameter(spec, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    svg = _draw(["draw", spec, "-o"], tmp_path)
    linears = _linears(spec)
    assert all(m.out_features <= 16 for m in linears) and linears[0].in_features <= 16  # all drawn in full
    circles = len(list(svg.iter(f"{NS}circle")))
    assert circles == linears[0].in_features + sum(m.out_features for m in linears)
    assert len(list(svg.iter(f"{NS}rect"))) == sum(m.bias is not None for m in linears)
    parameters = sum(p.numel() for m in linears for p in m.parameters())
    lines = _connections(svg)
    assert len(lines) == parameters + linears[-1].out_features  # and one stub per output
    assert not any(line.find(f"{NS}title") is not None for line in lines)  # no weights, no values


def _weighted(lines: list[ET.Element]) -> list[tuple[float, str | None, float]]:
    """(w, colour, thickness) of every connection that carries a weight."""
    found = []
    for line in lines:
        title = line.find(f"{NS}title")
        if title is not None:
            assert title.text is not None and title.text.startswith("w = ")
            found.append((float(title.text[4:]), line.get("stroke"),
                          float(line.get("stroke-width"))))  # type: ignore[arg-type]  # every line has one
    return found


@pytest.mark.parametrize("spec", TUTORIAL)
def test_run_draw_shows_every_trained_weight_by_colour_and_thickness(spec, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    report = tmp_path / "report.json"
    svg = _draw(["run", spec, "-q", "--json", str(report), "--draw"], tmp_path)
    final = json.loads(report.read_text())["parameters"]["final"]
    values = [v for t in final.values() for v in (t if isinstance(t[0], float) else [x for row in t for x in row])]
    weighted = _weighted(_connections(svg))
    assert Counter(f"{w:.4g}" for w, _, _ in weighted) == Counter(f"{v:.4g}" for v in values)
    for w, colour, _ in weighted:
        assert colour == (POSITIVE if w >= 0 else NEGATIVE), (w, colour)
    ordered = sorted(weighted, key=lambda t: (abs(t[0]), t[2]))
    widths = [t[2] for t in ordered]
    assert widths == sorted(widths)  # larger |w|, thicker line
    if abs(ordered[0][0]) < abs(ordered[-1][0]):
        assert widths[0] < widths[-1]


def test_draw_with_saved_weights_equals_the_drawing_after_the_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    weights = tmp_path / "m.safetensors"
    assert main(["run", "specs/mlp.nqa", "-q", "--save", str(weights), "--draw", str(tmp_path / "run.svg")]) == 0
    assert main(["draw", "specs/mlp.nqa", "--weights", str(weights), "-o", str(tmp_path / "draw.svg")]) == 0
    assert (tmp_path / "draw.svg").read_text() == (tmp_path / "run.svg").read_text()
    assert main(["draw", "specs/mlp.nqa", "--weights", str(weights)]) == 0  # to stdout by default
    assert capsys.readouterr().out == (tmp_path / "run.svg").read_text()


def test_a_wide_layer_is_drawn_in_part_with_a_gap(tmp_path, monkeypatch):
    (tmp_path / "wide.nqa").write_text("input 40\nlinear ->50\n")
    monkeypatch.chdir(tmp_path)
    svg = _draw(["draw", "wide.nqa", "-o"], tmp_path)
    per_column = Counter(c.get("cx") for c in svg.iter(f"{NS}circle"))
    assert len(per_column) == 2 and all(n <= 16 for n in per_column.values())
    texts = [t.text for t in svg.iter(f"{NS}text")]
    assert texts.count("⋮") == 2
    assert {"x1", "x40", "y1", "y50"} <= set(texts)  # the first and last units are still shown
    shown_in, shown_out = per_column.values()
    assert len(_connections(svg)) == shown_in * shown_out + shown_out + shown_out  # weights, biases, stubs


def test_untrained_two_inputs_drawing_matches_golden(golden, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["draw", "specs/two_inputs.nqa"]) == 0
    golden.check("draw/two_inputs.svg", capsys.readouterr().out)


def test_draw_without_weights_never_imports_torch(tmp_path):
    out = tmp_path / "net.svg"
    code = ("import sys; from runtime.cli import main; rc = main(['draw', 'specs/mlp.nqa', '-o', sys.argv[1]]); "
            "assert 'torch' not in sys.modules, 'torch was imported'; sys.exit(rc)")
    done = subprocess.run([sys.executable, "-c", code, str(out)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and ET.fromstring(out.read_text()).tag == f"{NS}svg"
