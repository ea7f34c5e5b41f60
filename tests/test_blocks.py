"""Blocks: `repeat N { ... }`, `residual { ... }` and named blocks, through every command.

In: small specs with blocks, written here. Out: what a user sees of them — the
parameter count and names torch gives the built network, the model table, the
trained report, `--runs`, the drawing, the emitted program (run, its losses equal
to `run`'s), the ONNX export, `fmt`, and the messages for blocks used wrongly.
"""

from __future__ import annotations

import json
import runpy
import xml.etree.ElementTree as ET

import pytest
import torch

from compiler import check, compile_spec
from compiler.format import format_spec
from layer_specs import rows
from runtime.cli import main
from spec_lang import SpecError, parse
from spec_lang.lark_path import parse_with_lark

MLP = ("# a residual MLP\ninput 4\nblock head {\n  linear ->8  # widen\n  relu\n}\nhead\n"
       "repeat 2 { residual { linear ->8; tanh } }\nlinear ->1\nbatch 2\nepochs 3\n" + rows(4, 4))


def _spec(tmp_path, text: str = MLP):
    path = tmp_path / "spec.nqa"
    path.write_text(text)
    return path


@pytest.mark.parametrize(("text", "params", "names"), [
    ("input 4\nrepeat 3 { linear ->4; relu }", 3 * 20, ["0.0.weight", "0.0.bias", "0.2.weight", "0.4.bias"]),
    ("input 4\nresidual { linear ->4; relu }\nlinear ->1", 20 + 5, ["0.0.weight", "0.0.bias", "1.weight"]),
    ("input 2\nblock b { linear ->3; relu; linear ->2 }\nb * 2\nb", 3 * (9 + 8),
     ["0.0.weight", "0.2.bias", "0.3.weight", "1.2.weight"]),
    (("input 1x8x8\nconv2d ->4 kernel=3 padding=same\nrepeat 2 { residual { conv2d ->4 kernel=3 padding=same; "
     "batch_norm; relu } }\nglobal_avg_pool\nlinear ->2"), 40 + 2 * (148 + 8) + 10,
     ["0.weight", "1.0.0.weight", "1.0.1.running_mean", "1.1.0.bias", "3.weight"]),
])
def test_blocks_build_the_parameters_torch_counts_and_names(text, params, names):
    program = check(text)
    model = compile_spec(program)
    assert program.spec.parameter_count == params == sum(p.numel() for p in model.parameters())
    state = list(model.state_dict())
    assert all(name in state for name in names), state
    model(torch.zeros(3, *program.spec.input_type.sizes))  # the shapes the check worked out hold


def test_the_model_table_indents_the_layers_inside_a_block(tmp_path, capsys):
    assert main(["compile", str(_spec(tmp_path))]) == 0
    table = capsys.readouterr().out.split(")\n\n", 1)[1]
    assert table.splitlines()[:10] == [
        "      #  layer                 output    params      MACs",
        "         input                 [4]",
        "      0  Sequential: head      [8]           40        32",
        "    0.0    Linear(4, 8)        [8]           40        32",
        "    0.1    ReLU()              [8]            0         0",
        "      1  Sequential: repeat 2  [8]          144       128",
        "    1.0    Residual            [8]           72        64",
        "  1.0.0      Linear(8, 8)      [8]           72        64",
        "  1.0.1      Tanh()            [8]            0         0",
        "    1.1    Residual            [8]           72        64",
    ]
    assert "         total                              193       168" in table  # a block's row is not counted twice


def test_every_command_takes_blocks_and_the_emitted_program_trains_alike(tmp_path, capsys):
    spec = _spec(tmp_path)
    assert main(["run", str(spec), "--json", str(tmp_path / "run.json"), "--quiet"]) == 0
    report = json.loads((tmp_path / "run.json").read_text())
    layers = report["model"]["layers"]
    assert [(row["path"], row["block"]) for row in layers[:4]] == [("0", True), ("0.0", False), ("0.1", False),
                                                                    ("1", True)]
    assert "1.1.0.weight" in report["parameters"]["final"]

    assert main(["compile", str(spec), "--emit", "python", "-o", str(tmp_path / "program.py")]) == 0
    program = (tmp_path / "program.py").read_text()
    assert "class Residual(nn.Sequential):" in program and "            nn.Sequential(\n" in program
    capsys.readouterr()
    runpy.run_path(str(tmp_path / "program.py"), run_name="__main__")
    steps = [float(line.rsplit("= ", 1)[1]) for line in capsys.readouterr().out.splitlines()
             if line.startswith("step ")]
    assert steps == report["losses"]

    assert main(["draw", str(spec), "-o", str(tmp_path / "net.svg")]) == 0
    svg = ET.fromstring((tmp_path / "net.svg").read_text(encoding="utf-8"))
    ids = [g.get("id") for g in svg.iter("{http://www.w3.org/2000/svg}g")]
    drawn = [i for i in ids if i and i.startswith(("block-", "layer-"))]
    assert drawn[:6] == ["block-0", "layer-0-0", "layer-0-1", "block-1", "block-1-0", "layer-1-0-0"]
    texts = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert "Sequential: repeat 2" in texts and "adds its input back" in texts


def test_runs_train_blocks_as_the_single_runs_do(tmp_path):
    from runtime import train
    from runtime.runs import train_runs

    program = check(_spec(tmp_path))
    result = train_runs(program, 0, 3)
    assert result.path == "vmap"
    for n, seed in enumerate(result.seeds):
        single = train(program, seed=seed).report
        final = torch.cat([t.flatten() for t in single.parameters.final.values()])
        assert torch.allclose(final, result.final[n], atol=1e-6), seed


def test_onnx_export_of_a_network_with_blocks_runs(tmp_path):
    onnx = pytest.importorskip("onnx")
    spec = _spec(tmp_path)
    assert main(["export", str(spec), "--onnx", str(tmp_path / "m.onnx"), "--untrained"]) == 0
    graph = onnx.load(str(tmp_path / "m.onnx")).graph
    assert any(node.op_type == "Add" for node in graph.node)  # the residual's `x + body(x)`


def test_fmt_keeps_a_block_layout_and_its_comments():
    text = ("input 1x8x8   # in\nblock stem {   # the stem\n     conv2d ->16 kernel=3 padding=same\n# note\n"
            "  relu;max_pool2d 2 }\nrepeat 2 {residual {stem;batch_norm}}\nstem*2\nresidual {\n  relu\n"
            "  repeat 2 {\n   tanh\n  }\n}; flatten\n")
    formatted = format_spec(text)
    assert formatted == (
        "input 1x8x8  # in\nblock stem {  # the stem\n  conv2d ->16 kernel=3 padding=same\n  # note\n"
        "  relu; max_pool2d 2 }\nrepeat 2 { residual { stem; batch_norm } }\nstem * 2\nresidual {\n  relu\n"
        "  repeat 2 {\n    tanh\n  }\n}; flatten\n")
    assert format_spec(formatted) == formatted
    assert parse(formatted) == parse(text)


@pytest.mark.parametrize("text", [MLP, "residual {\n\n  # a comment\n  relu ; ;\n}\n", "repeat 2 {relu}\nlinear ->1"])
def test_both_parsers_read_blocks_alike(text):
    fast, slow = parse(text), parse_with_lark(text, "x")[0]
    assert fast == slow

    def spans(stmts):
        return [(s.span, s.body_span, spans(s.body or ())) for s in stmts]

    assert spans(fast.statements) == spans(slow.statements)


def _message(text: str) -> str:
    with pytest.raises(SpecError) as caught:
        check(text, filename="s.nqa")
    return caught.value.render()


def test_an_error_in_a_named_block_points_inside_it_once():
    shown = _message("input 4\nblock stem {\n  linear 5->8\n}\nstem\nstem\nlinear ->1")
    assert shown.count("error[") == 1 and "s.nqa:3:10" in shown and "expects 5 inputs" in shown


def test_an_unused_block_is_a_warning(tmp_path, capsys):
    spec = _spec(tmp_path, "input 4\nblock spare { relu }\nlinear ->1\nexample [1, 2, 3, 4] -> [1]\n")
    assert main(["check", str(spec)]) == 0
    err = capsys.readouterr().err
    assert "warning[W0010]: block `spare` is never used" in err and f"{spec}:2:7" in err


@pytest.mark.parametrize(("text", "message"), [
    ("input 4\nrepeat 2 { linear ->4\nlinear ->1", "this `{` is never closed"),
    ("input 4\nrepeat 2 { }", "`repeat` has no layers in its braces"),
    ("input 4\nresidual", "`residual` needs its layers in braces"),
    ("input 4\nlinear ->4 { relu }", "`linear` takes no layers in braces"),
    ("input 4\nblock { relu }", "`block` needs a name"),
    ("input 4\nblock a { relu }\na * 0", "a block is used a whole number of times, at least once, not 0"),
    ("input 4\nblock a { relu }\na { relu }", "block `a` is used here, not defined"),
    ("input 4\nrepeat 2 { block a { relu } }", "a block is defined at the top of the file, not inside braces"),
    ("input 4\nrepeat 0 { relu }", "number of copies must be at least 1"),
    ("input 4\nrepeat 2 { relu } linear ->1", "unexpected `linear`"),
    ("input 4\n{ relu }", "unexpected `{`"),
])
def test_blocks_used_wrongly_get_located_messages(text, message, tmp_path, capsys):
    spec = _spec(tmp_path, text + "\n")
    assert main(["check", str(spec)]) == 2
    err = capsys.readouterr().err
    assert message in err and f"{spec}:" in err and "Traceback" not in err, err


def test_a_huge_repeat_before_the_first_stated_width_is_refused_at_once(tmp_path, capsys):
    spec = _spec(tmp_path, "input 4\nrepeat 1000000000 { relu }\nlinear 1\n")
    assert main(["check", str(spec)]) == 2  # counted, never gone through copy by copy
    assert "1,000,000,001 layers (blocks counted out) is over the limit of 1,000" in capsys.readouterr().err


def test_blocks_nested_too_deep_are_refused_with_a_located_message(tmp_path, capsys):
    deep = _spec(tmp_path, "input 4\n" + "residual { " * 40 + "relu" + " }" * 40 + "\nlinear 1\n")
    assert main(["check", str(deep)]) == 2
    err = capsys.readouterr().err
    assert "blocks nest more than 32 deep here" in err and f"{deep}:2:" in err and "Traceback" not in err
    blocks = "".join(f"block b{i} {{ b{i - 1} }}\n" for i in range(1, 60))
    chain = _spec(tmp_path, "input 4\nblock b0 { relu }\n" + blocks + "b59\nlinear 1\n")
    assert main(["check", str(chain)]) == 2
    err = capsys.readouterr().err
    assert "block `b32` nests blocks more than 32 deep" in err and "Traceback" not in err
    nested = "residual { " * 32 + "relu" + " }" * 32
    ok = _spec(tmp_path, f"input 4\n{nested}\nlinear 1\nepochs 1\nexample [1, 2, 3, 4] -> [1]\n")
    assert main(["run", str(ok), "--quiet"]) == 0  # as deep as allowed: it runs
