"""`nqa draw` of a network that is not a small vector network: a block diagram
with the input's box and one box per layer, each labelled with its summary
name, the shape it gives and its parameter count, an arrow between each two;
a golden drawing; `run --draw` draws it too, and drawing imports no torch."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET

from compiler import check
from compiler.draw import draw_network
from runtime.cli import main

NS = "{http://www.w3.org/2000/svg}"
CONV = ("input 1x8x8\nconv2d ->8 kernel=3 padding=1\nbatch_norm\nrelu\nmax_pool2d 2\n"
        "conv2d ->16 kernel=3\nglobal_avg_pool\nlinear ->3\n")


def _boxes(svg: ET.Element) -> dict[str, list[str]]:
    """Each box's texts, by its id: `input`, `layer-0`, ..."""
    (blocks,) = [g for g in svg.iter(f"{NS}g") if g.get("id") == "blocks"]
    return {g.get("id", ""): [t.text or "" for t in g.iter(f"{NS}text")] for g in blocks.findall(f"{NS}g")}


def _drawn(tmp_path, text: str, name: str = "net") -> ET.Element:
    spec, out = tmp_path / f"{name}.nqa", tmp_path / f"{name}.svg"
    spec.write_text(text)
    assert main(["draw", str(spec), "-o", str(out)]) == 0
    return ET.fromstring(out.read_text(encoding="utf-8"))


def test_a_conv_network_is_a_box_per_layer_with_its_name_shape_and_parameters(tmp_path):
    svg = _drawn(tmp_path, CONV)
    assert _boxes(svg) == {
        "input": ["input", "[1, 8, 8]"],
        "layer-0": ["Conv2d(1, 8, kernel_size=3, padding=1)", "[8, 8, 8]", "80 parameters"],
        "layer-1": ["BatchNorm2d(8)", "[8, 8, 8]", "16 parameters"],
        "layer-2": ["ReLU()", "[8, 8, 8]"],
        "layer-3": ["MaxPool2d(kernel_size=2, stride=2)", "[8, 4, 4]"],
        "layer-4": ["Conv2d(8, 16, kernel_size=3)", "[16, 2, 2]", "1,168 parameters"],
        "layer-5": ["GlobalAvgPool()", "[16]"],
        "layer-6": ["Linear(16, 3)", "[3]", "51 parameters"]}
    arrows = next(g for g in svg.iter(f"{NS}g") if g.get("id") == "arrows").findall(f"{NS}line")
    assert len(arrows) == 8  # into each layer, and out of the last
    assert not list(svg.iter(f"{NS}circle"))
    assert "output [3]" in [t.text for t in svg.iter(f"{NS}text")]


def test_the_boxes_are_the_summary_rows():
    spec = check(CONV).spec
    svg = ET.fromstring(draw_network(spec))
    boxes = _boxes(svg)
    for row in spec.summary():
        assert boxes[f"layer-{row.index}"][:2] == [row.name, str(list(row.output_shape))]


def test_a_recurrent_network_and_a_linear_on_each_position_are_drawn_as_blocks(tmp_path):
    lstm = _boxes(_drawn(tmp_path, "input 5x4\nlstm ->8\nlinear ->2\n", "lstm"))
    assert lstm == {"input": ["input", "[5, 4]"], "layer-0": ["LSTM(4, 8)", "[8]", "448 parameters"],
                    "layer-1": ["Linear(8, 2)", "[2]", "18 parameters"]}
    shaped = _boxes(_drawn(tmp_path, "input 2x3\nlinear ->4\n", "shaped"))
    assert shaped["layer-0"] == ["Linear(3, 4)", "[2, 4]", "16 parameters"]


def test_a_vector_network_with_a_norm_is_drawn_as_blocks_and_without_one_as_neurons(tmp_path):
    normed = _drawn(tmp_path, "input 2\nlinear ->4\nbatch_norm\nrelu\nlinear ->1\n", "normed")
    assert _boxes(normed)["layer-1"] == ["BatchNorm1d(4)", "[4]", "8 parameters"]
    plain = _drawn(tmp_path, "input 2\nlinear ->4\nrelu\ndropout p=0.1\nlinear ->1\nsoftmax\n", "plain")
    assert len(list(plain.iter(f"{NS}circle"))) == 2 + 4 + 1
    assert not [g for g in plain.iter(f"{NS}g") if g.get("id") == "blocks"]


def test_run_draw_of_a_block_network_draws_its_boxes(tmp_path, capsys):
    spec, out = tmp_path / "normed.nqa", tmp_path / "normed.svg"
    spec.write_text("input 2\nlinear ->4\nbatch_norm\nrelu\nlinear ->1\n"
                    "example [0, 1] -> [1]\nexample [1, 0] -> [0]\nepochs 3\n")
    assert main(["run", str(spec), "-q", "--draw", str(out)]) == 0
    assert main(["draw", str(spec), "-o", str(tmp_path / "untrained.svg")]) == 0
    assert out.read_text() == (tmp_path / "untrained.svg").read_text()  # a box draws no weights


def test_conv_drawing_matches_golden(golden, tmp_path, capsys):
    spec = tmp_path / "conv.nqa"
    spec.write_text(CONV)
    assert main(["draw", str(spec)]) == 0
    golden.check("draw/conv.svg", capsys.readouterr().out)


def test_a_block_drawing_never_imports_torch(tmp_path):
    spec, out = tmp_path / "conv.nqa", tmp_path / "conv.svg"
    spec.write_text(CONV)
    code = ("import sys; from runtime.cli import main; rc = main(['draw', sys.argv[1], '-o', sys.argv[2]]); "
            "assert 'torch' not in sys.modules, 'torch was imported'; sys.exit(rc)")
    done = subprocess.run([sys.executable, "-c", code, str(spec), str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert _boxes(ET.fromstring(out.read_text()))["input"] == ["input", "[1, 8, 8]"]
