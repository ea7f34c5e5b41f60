"""The language as written: statements, separators, comments, numbers, spans,
the frozen AST, the docs' examples, and the headline spec's compiled network."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from typing import cast

import pytest

from compiler import check, compile_spec
from compiler.layers.linear import Linear
from compiler.registry import layer_classes
from conftest import ROOT
from spec_lang import Arrow, Number, Option, Vector, Word, parse

HEADLINE = "linear 2->3 bias; linear 3->1; leaky_relu"


def test_headline_spec_compiles_to_exactly_the_guides_sequential():
    from torch import nn

    model = compile_spec(HEADLINE)
    expected = nn.Sequential(nn.Linear(2, 3, bias=True), nn.Linear(3, 1, bias=True), nn.LeakyReLU(0.01))
    assert repr(model) == repr(expected)


def test_statements_and_arguments_parse_into_typed_nodes():
    spec = parse("linear 2->3 nobias; linear ->3\nlinear 3\noptimizer sgd lr=1e-2 momentum=.9\n"
                 "example [1, -1.5] -> [10]\n")
    first, inferred, bare, opt, example = spec.statements
    assert first.args == (Arrow(Number(2, "2"), Number(3, "3")), Word("nobias"))
    assert inferred.args == (Arrow(None, Number(3, "3")),)
    assert bare.args == (Number(3, "3"),)
    assert opt.args[1] == Option("lr", Number(0.01, "1e-2"))
    momentum, arrow = opt.args[2], example.args[0]
    assert isinstance(momentum, Option) and isinstance(momentum.value, Number) and momentum.value.value == 0.9
    assert isinstance(arrow, Arrow) and arrow.left == Vector((Number(1, "1"), Number(-1.5, "-1.5")))


@pytest.mark.parametrize("text", [
    "linear 2->3\nrelu\n", "linear 2->3;relu", "linear 2->3 ; relu ;", "\n\n linear 2->3 # c\n\nrelu",
    "\ufefflinear 2->3\r\nrelu\r\n", "linear\t2->3\nrelu", "# ünïcode comment\nlinear 2->3;relu",
    "linear 2->3\rrelu\r",
])
def test_separators_comments_and_layout_do_not_change_the_tree(text):
    assert parse(text) == parse("linear 2->3\nrelu")


def test_nodes_carry_spans_that_equality_ignores():
    spec = parse("# header\nlinear 2->3\n")
    stmt = spec.statements[0]
    assert (stmt.span.line, stmt.span.column, stmt.span.end_column) == (2, 1, 12)
    assert (stmt.args[0].span.line, stmt.args[0].span.column) == (2, 8)
    with pytest.raises(dataclasses.FrozenInstanceError):
        stmt.name = "relu"  # type: ignore[misc]  # read-only: the point


def test_numbers_negative_and_scientific():
    args = cast("tuple[Number, ...]", parse("x -1 +2 3.5 -1.5e3 .25 7E-2").statements[0].args)
    assert [a.value for a in args] == [-1, 2, 3.5, -1500.0, 0.25, 0.07]
    assert isinstance(args[0].value, int) and isinstance(args[2].value, float)


def test_width_is_inferred_from_the_layer_before():
    program = check("input 4\nlinear ->8\nrelu\nlinear 3")
    assert [layer.in_features for layer in program.spec.layers if isinstance(layer, Linear)] == [4, 8]
    assert program.spec.parameter_count == 4 * 8 + 8 + 8 * 3 + 3


def test_empty_and_comment_only_files_parse_to_no_statements():
    assert parse("").statements == () and parse("# only\n# comments").statements == ()


def test_spec_lang_and_check_never_import_torch():
    code = ("import sys; from compiler import check; import spec_lang; "
            "check('linear 2->3; relu; example [1, 1] -> [1]'); "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def _doc_blocks(path):
    return re.findall(r"```nqa\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.S)


LAYER_WORDS = {cls.keyword for cls in layer_classes()}


@pytest.mark.parametrize("doc", ["docs/language.md", "README.md"])
def test_every_example_in_the_docs_parses_and_full_specs_check(doc):
    blocks = _doc_blocks(ROOT / doc)
    assert blocks, f"no nqa examples in {doc}"
    for block in blocks:
        spec = parse(block)
        if LAYER_WORDS & {s.name for s in spec.statements}:
            check(spec)


def test_readme_library_example_runs(tmp_path):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    (code,) = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    script = tmp_path / "example.py"
    script.write_text(code, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "3"
    assert "49" in lines and "100 True" in lines
