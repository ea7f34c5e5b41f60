"""Reports speak in shapes: the JSON report's `schema_version`, the model's and
each layer's shapes, dtypes and MACs, what `nqa schema` says of them, and the
summary table of a network whose examples are not flat vectors."""

from __future__ import annotations

import json

from compiler import check, compile_spec
from conftest import ROOT
from runtime.cli import main
from runtime.summary import model_info

SHAPED = "input 2x3\nlinear ->4\nrelu\nlinear ->1\n"


def test_the_json_report_carries_its_version_and_every_shape(capsys):
    assert main(["run", str(ROOT / "specs/mlp.nqa"), "--json", "-"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert next(iter(report)) == "schema_version" and report["schema_version"] == 2
    model = report["model"]
    assert {k: model[k] for k in ("input_shape", "input_dtype", "output_shape", "output_dtype", "flops")} == {
        "input_shape": [2], "input_dtype": "float32", "output_shape": [1], "output_dtype": "float32", "flops": 9}
    rows = [{k: row[k] for k in ("name", "input_shape", "output_shape", "output_dtype", "parameters", "flops")}
            for row in model["layers"]]
    assert rows == [
        {"name": "Linear(2, 3)", "input_shape": [2], "output_shape": [3], "output_dtype": "float32",
         "parameters": 9, "flops": 6},
        {"name": "Linear(3, 1)", "input_shape": [3], "output_shape": [1], "output_dtype": "float32",
         "parameters": 4, "flops": 3},
        {"name": "LeakyReLU(negative_slope=0.01)", "input_shape": [1], "output_shape": [1],
         "output_dtype": "float32", "parameters": 0, "flops": 0}]


def test_a_shaped_network_reports_its_shapes_and_a_linear_on_each_position():
    program = check(SHAPED)
    info = json.loads(model_info(compile_spec(program), program.spec).model_dump_json())
    assert (info["input_shape"], info["output_shape"], info["input_width"], info["output_width"]) == ([2, 3], [2, 1],
                                                                                                      6, 2)
    assert [(row["input_shape"], row["output_shape"], row["flops"]) for row in info["layers"]] == [
        ([2, 3], [2, 4], 24), ([2, 4], [2, 4], 0), ([2, 4], [2, 1], 8)]
    assert info["flops"] == 32 and info["parameters"] == 21


def test_the_summary_of_a_shaped_network_starts_at_the_input(tmp_path, capsys):
    spec = tmp_path / "shaped.nqa"
    spec.write_text(SHAPED)
    assert main(["compile", str(spec)]) == 0
    table = capsys.readouterr().out.split("\n\n", 1)[1]
    assert table == (
        "   #  layer         output    params      MACs\n"
        "      input         [2, 3]\n"
        "   0  Linear(3, 4)  [2, 4]        16        24\n"
        "   1  ReLU()        [2, 4]         0         0\n"
        "   2  Linear(4, 1)  [2, 1]         5         8\n"
        "      total                       21        32\n"
        "  21 parameters, 84 bytes as float32\n"
        "  per example: 32 multiply-accumulates (MACs), 24 activation values (the input and every layer's output)\n")


def test_the_schema_describes_the_version_and_the_shapes(capsys):
    assert main(["schema", "report"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["properties"]["schema_version"]["default"] == 2
    model = schema["$defs"]["ModelInfo"]["properties"]
    assert {"input_shape", "input_dtype", "output_shape", "output_dtype", "flops"} <= set(model)
    layer = schema["$defs"]["LayerInfo"]["properties"]
    assert {"input_shape", "output_shape", "input_dtype", "output_dtype", "flops"} <= set(layer)
    assert "multiply-accumulates" in layer["flops"]["description"]
