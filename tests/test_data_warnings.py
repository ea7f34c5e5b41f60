"""Warnings, data cells and characters that are not what they seem, as users meet them.

Warnings: each spec in tests/warning_specs/ is accepted (exit 0) with the
warnings in tests/golden/warnings/<name>.txt on stderr (rewrite with
`pytest --update-goldens`, then read the diff); they reach `--format json`,
the JSON run report and every command that runs, and stop nothing. Data: a
cell beyond float32, a `;` file, `delimiter=`, and weights that are not
finite. Characters: look-alikes and invisible ones named by code point, and
no control character from a spec, a comment or a CSV file reaching the
terminal raw.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from compiler import check
from conftest import ROOT
from runtime import train
from runtime.cli import main
from spec_lang import Diagnostic, Span, SpecError, render_diagnostic

WARNING_SPECS = ROOT / "tests" / "warning_specs"
WARNING_NAMES = sorted(p.stem for p in WARNING_SPECS.glob("*.nqa"))
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _errors_in(text: str, **options) -> SpecError:
    with pytest.raises(SpecError) as caught:
        check(text, filename="s.nqa", **options)
    return caught.value


def _write(folder: Path, spec: str, csv: str | bytes | None = None, name: str = "x.csv") -> Path:
    if csv is not None:
        (folder / name).write_bytes(csv if isinstance(csv, bytes) else csv.encode())
    path = folder / "s.nqa"
    path.write_text(spec, encoding="utf-8")
    return path


def _span(diagnostic: Diagnostic) -> Span:
    """Where a diagnostic points: every one these tests read points somewhere."""
    assert diagnostic.span is not None
    return diagnostic.span


def _data_error(folder: Path, spec: str, csv: str | bytes) -> Diagnostic:
    with pytest.raises(SpecError) as caught:
        check(_write(folder, spec, csv))
    [diagnostic] = caught.value.diagnostics
    return diagnostic


# --- the warning specs: accepted, with their warnings on stderr -------------------------

def test_there_is_a_warning_spec_for_each_kind() -> None:
    assert len(WARNING_NAMES) >= 8


@pytest.mark.parametrize("name", WARNING_NAMES)
def test_warning_spec_is_accepted_with_its_golden_warnings(name, capsys, monkeypatch, golden) -> None:
    monkeypatch.chdir(ROOT)
    relative = f"tests/warning_specs/{name}.nqa"
    assert main(["check", relative]) == 0
    out, err = capsys.readouterr()
    assert out == f"{relative}: ok\n"
    blocks = err.split("\n\n")
    assert all(re.match(r"warning\[W\d{4}\]: ", block) for block in blocks) and "error" not in err
    assert not RAW_CONTROL.search(err)
    golden.check(f"warnings/{name}.txt", err)
    program = check(ROOT / relative, filename=relative)
    assert program.warnings and all(w.severity == "warning" for w in program.warnings)


@pytest.mark.parametrize(("name", "where", "message"), [
    ("softmax_before_cross_entropy", (4, 1),
     "the network ends with `softmax`, and `loss cross_entropy` applies a softmax again"),
    ("sigmoid_before_bce_logits", (4, 1),
     "the network ends with `sigmoid`, and `loss bce_logits` applies a sigmoid again"),
    ("one_class_labels", (4, 6),
     "every training row is of class `setosa`: `loss cross_entropy` has nothing to tell apart"),
    ("same_class_index", (4, 19), "every training row is of class 1: `loss cross_entropy` has nothing to tell apart"),
    ("header_yes_on_numbers", (3, 20),
     "`numbers.csv` line 1 holds only numbers, but `header=yes` reads it as column names"),
    ("duplicate_header", (3, 6), "`duplicate_header.csv` names 2 columns `x` (columns 1, 2)"),
    ("validate_one_row", (3, 1), "`validate` holds out 1 row of 4: its loss measures a single example"),
])
def test_each_warning_says_what_and_where(name, where, message) -> None:
    [warning] = check(WARNING_SPECS / f"{name}.nqa").warnings
    assert warning.span is not None
    assert ((warning.span.line, warning.span.column), warning.message) == (where, message)


def test_bidi_controls_warn_at_each_character_even_in_comments() -> None:
    warnings = check(WARNING_SPECS / "bidi_comment.nqa").warnings
    assert [(_span(w).line, _span(w).column, w.message.split(" (")[0]) for w in warnings] == [
        (2, 15, "bidirectional control character U+202E"), (2, 24, "bidirectional control character U+202C"),
        (3, 26, "bidirectional control character U+2067"), (3, 35, "bidirectional control character U+2069")]
    assert "(right-to-left override)" in warnings[0].message


def test_bidi_in_a_string_warns_too(tmp_path) -> None:
    name = "a\u202eb.csv"
    spec = _write(tmp_path, f'linear 2->1\ndata "{name}"\n', "1,2,3\n", name)
    [warning] = check(spec).warnings
    assert warning.span is not None
    assert (warning.span.line, warning.span.column) == (2, 8)


def test_no_warning_where_the_spec_is_right() -> None:
    for text in ("linear 2->2\nloss cross_entropy\nexample [1, 0] -> [0]\nexample [0, 1] -> [1]\n",
                 "linear 2->1\nsigmoid\nloss bce\nexample [1, 0] -> [0]\n",
                 "linear 2->1\nloss bce_logits\nexample [1, 0] -> [0]\n",
                 "linear 2->1\nvalidate 0.5\n" + "example [1, 0] -> [0]\n" * 4):
        assert check(text).warnings == ()


def test_a_spec_with_an_error_shows_its_errors_alone() -> None:
    error = _errors_in("linear 2->3\nsoftmax\nloss cross_entropy\nexample [1, 0, 0] -> [0]\n")
    assert [d.severity for d in error.diagnostics] == ["error"]
    assert "softmax" not in error.render()


def test_validate_over_the_one_row_warning_uses_the_same_rounding_as_training() -> None:
    text = "linear 2->1\nvalidate 0.3\n" + "example [1, 0] -> [0]\n" * 5  # round(1.5) = 2 rows held out
    assert check(text).warnings == ()
    run = train(text, seed=0, epochs=1)
    assert run.report.validation.rows == 2


# --- warnings everywhere they are due -------------------------------------------------

SOFTMAX = "tests/warning_specs/softmax_before_cross_entropy.nqa"


def test_check_json_lists_warnings_with_their_severity(capsys, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["check", "--format", "json", SOFTMAX]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    [record] = json.loads(out)
    assert record == {"file": SOFTMAX, "line": 4, "column": 1, "end_line": 4, "end_column": 19,
                      "code": "W0002", "severity": "warning",
                      "message": "the network ends with `softmax`, and `loss cross_entropy` applies a softmax again",
                      "label": "this loss",
                      "hint": "remove the last `softmax`: `loss cross_entropy` takes the raw outputs and applies a "
                              "softmax itself",
                      "related": [{"line": 3, "column": 1, "end_line": 3, "end_column": 8, "label": "`softmax` here"}],
                      "fix": None}


def test_the_json_run_report_holds_the_warnings(capsys, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["run", SOFTMAX, "--epochs", "2", "--json", "-"]) == 0
    out, err = capsys.readouterr()
    assert err.startswith("warning[W0002]: the network ends with `softmax`")
    assert json.loads(out)["warnings"] == [{
        "message": "the network ends with `softmax`, and `loss cross_entropy` applies a softmax again",
        "line": 4, "column": 1, "end_line": 4, "end_column": 19,
        "hint": "remove the last `softmax`: `loss cross_entropy` takes the raw outputs and applies a softmax itself"}]
    assert train(ROOT / "specs/mlp.nqa", seed=0, epochs=1).report.warnings == ()


@pytest.mark.parametrize("command", [
    ["run", SOFTMAX, "--epochs", "1", "--quiet"], ["run", SOFTMAX, "--runs", "2", "--epochs", "1", "--quiet"],
    ["compile", SOFTMAX], ["compile", SOFTMAX, "--emit", "python"], ["draw", SOFTMAX, "-o", "-"]],
    ids=["run", "runs", "compile", "emit", "draw"])
def test_every_command_prints_the_warnings_and_goes_on(command, capsys, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    assert main(command) == 0
    err = capsys.readouterr().err
    assert err.startswith("warning[W0002]: the network ends with `softmax`") and err.count("warning[") == 1


def test_warnings_are_yellow_and_errors_red() -> None:
    span = Span(1, 1, 1, 7, 0, 6)
    warning = render_diagnostic(Diagnostic("w", span, "here", severity="warning", code="W0002"), "linear 2->1",
                                "s.nqa", True)
    error = render_diagnostic(Diagnostic("e", span, "here", code="E0201"), "linear 2->1", "s.nqa", True)
    assert warning.startswith("\x1b[1;33mwarning[W0002]:\x1b[0m") and "\x1b[1;33m^^^^^^ here" in warning
    assert error.startswith("\x1b[1;31merror[E0201]:\x1b[0m") and "\x1b[1;31m^^^^^^ here" in error


# --- data cells and weights ----------------------------------------------------------

@pytest.mark.parametrize(("csv", "message"), [
    ("a,b,y\n1,2,3\n4,1e300,6\n", "`x.csv` line 3, column `b`: `1e300` is too large for float32"),
    ("1,2,-4e38\n", "`x.csv` line 1, column 3: `-4e38` is too large for float32"),
])
def test_a_cell_beyond_float32_is_refused_where_it_is(tmp_path, csv, message) -> None:
    d = _data_error(tmp_path, 'linear 2->1\ndata "x.csv"\n', csv)
    assert d.span is not None
    assert (d.message, d.span.line, d.span.column) == (message, 2, 6)
    assert "float32" in d.hint


def test_the_largest_float32_cell_is_accepted(tmp_path) -> None:
    table = check(_write(tmp_path, 'linear 2->1\ndata "x.csv"\n', "3.4e38,1,2\n")).table
    assert table is not None
    assert list(table.inputs) == [3.4e38, 1]


@pytest.mark.parametrize(("statement", "csv"), [
    ('data "x.csv" delimiter=";"', "a;b;y\n1;2;3\n4;5;6\n"),
    ('data "x.csv" delimiter=tab', "a\tb\ty\n1\t2\t3\n4\t5\t6\n"),
    ('data "x.csv" delimiter="|"', "a|b|y\n1|2|3\n4|5|6\n"),
], ids=["semicolon", "tab", "bar"])
def test_delimiter_reads_the_same_rows_as_commas(tmp_path, statement, csv) -> None:
    table = check(_write(tmp_path, f"linear 2->1\n{statement}\n", csv)).table
    assert table is not None
    assert (list(table.inputs), list(table.targets), table.input_names) == ([1, 2, 4, 5], [3, 6], ("a", "b"))


@pytest.mark.parametrize("value", ['""', '"ab"', '"1"', '"."', "e", "tabs"])
def test_a_delimiter_that_cannot_be_one_is_refused_at_the_option(value) -> None:
    [d] = _errors_in(f'linear 2->1\ndata "x.csv" delimiter={value}\n').diagnostics
    assert d.span is not None
    assert (d.span.line, d.span.column) == (2, 14) and "delimiter" in d.message


@pytest.mark.parametrize(("statement", "csv", "message", "hint"), [
    ('data "x.csv"', "a;b;y\n1;2;3\n", "`x.csv` separates its columns with `;`, not `,`",
     'write `data "x.csv" delimiter=";"`'),
    ('data "x.csv"', "a;b;y\n1,5;2;3\n",
     "`x.csv` separates its columns with `;`, not `,`, and writes numbers with a decimal comma (`1,5`)",
     'save it with a decimal point (`1.5`), then read it with `delimiter=";"`'),
    ('data "x.csv"', "1\t2\t3\n", "`x.csv` separates its columns with tabs, not `,`",
     'write `data "x.csv" delimiter=tab`'),
    ('data "x.csv" delimiter=";"', "a,b,y\n1,2,3\n", "`x.csv` separates its columns with `,`, not `;`",
     "leave out `delimiter=`: this file separates its columns with commas"),
    ('data "x.csv" delimiter=";"', "a;b;y\n1;2,5;3\n",
     "`x.csv` line 2, column `b`: `2,5` is written with a decimal comma",
     "write the decimal point as `.`, e.g. `2.5`"),
    ('data "x.csv"', "1,2,3,\n4,5,6,\n", "`x.csv` ends its lines with a comma: its column 4 is empty",
     "remove the comma at the end of each line"),
    ('data "x.csv"', "a,b,y\n1,2,3\n4,5,6,\n",
     "`x.csv` line 3 ends with a comma: it has an empty column 4, but the file has 3 columns",
     "remove the comma at the end of line 3"),
    ('data "x.csv"', "a,b,y\n1,,3\n", "`x.csv` line 2, column `b` is empty", "fill in every cell"),
    ('data "x.csv"', "x1,x2,2019\n1,2,3\n",
     "`x.csv` line 1 looks like a header, but `2019` in it is a number, so it was read as data",
     "write `header=yes` to read line 1 as column names"),
    ('data "x.csv"', 'a,b,y\n\n1,"2\n",3\n', "`x.csv` line 3: a quoted cell runs onto line 4",
     "keep each row on one line: remove the line break inside the quotes, or escape it as `\\n`"),
    ('data "x.csv"', 'a,b,y\n1,"2,3\n4,5,6\n', "`x.csv` line 2: a quote opened in this row is never closed",
     'close the quote (`"`) on line 2'),
], ids=["semicolons", "decimal comma", "tabs", "commas read as `;`", "decimal comma in a cell", "trailing commas",
        "one trailing comma", "empty cell", "numeric header name", "quoted line break", "unclosed quote"])
def test_a_file_laid_out_otherwise_says_how(tmp_path, statement, csv, message, hint) -> None:
    d = _data_error(tmp_path, f"linear 2->1\n{statement}\n", csv)
    assert d.span is not None
    assert (d.message, d.hint, d.span.line) == (message, hint, 2)


def test_a_class_column_mixing_labels_and_indices_names_both(tmp_path) -> None:
    d = _data_error(tmp_path, 'linear 2->2\nloss cross_entropy\ndata "x.csv"\n', "a,b,y\n1,2,dog\n4,5,cat\n3,3,1\n")
    assert d.message == "column `y` of `x.csv` mixes text labels and numbers: line 2 holds `dog`, line 4 holds `1`"


def test_weights_that_are_not_finite_are_refused_naming_the_tensor(tmp_path, capsys) -> None:
    import torch
    from safetensors.torch import save_file

    spec = _write(tmp_path, "linear 2->3\nrelu\nlinear 3->1\nexample [1, 1] -> [5]\nepochs 2\n")
    saved = tmp_path / "w.safetensors"
    assert main(["run", str(spec), "--save", str(saved), "--quiet"]) == 0
    from safetensors.torch import load_file

    tensors = load_file(str(saved))
    tensors["2.bias"] = torch.tensor([float("nan")])
    save_file(tensors, str(saved))
    before = saved.read_bytes()
    assert main(["run", str(spec), "--load", str(saved)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error[E0910]: `{saved}` holds NaN values in `2.bias`\n --> {spec}:3:1\n")
    assert "^^^^^^^^^^^ `2.bias` is not finite" in err and "learning rate" not in err
    tensors["2.bias"] = torch.tensor([float("inf")])
    save_file(tensors, str(saved))
    assert main(["draw", str(spec), "--weights", str(saved), "-o", "-"]) == 2
    assert "holds infinite values in `2.bias`" in capsys.readouterr().err
    assert before != saved.read_bytes()


# --- characters that are not what they seem ------------------------------------------

@pytest.mark.parametrize(("text", "message", "column"), [
    ("l\u0456near 2->1", "unexpected character: Cyrillic `\u0456` (U+0456) looks like Latin `i`", 2),
    ("linear 2->1 n\u03bfbias", "unexpected character: Greek `\u03bf` (U+03BF) looks like Latin `o`", 14),
    ("linear\u00a02->1", "unexpected no-break space (U+00A0)", 7),
    ("linear 2->1\u200b", "unexpected invisible character U+200B (zero width space)", 12),
    ("linear 2->1\u200f", "unexpected invisible character U+200F (right-to-left mark)", 12),
    ("linear 2->1\u202e", "unexpected invisible character U+202E (right-to-left override)", 12),
    ("linear 2->1 \x1b[2J", "unexpected control character U+001B (escape)", 13),
], ids=["cyrillic", "greek", "nbsp", "zero width", "rlm", "rlo", "escape"])
def test_look_alike_and_invisible_characters_are_named(text, message, column) -> None:
    [d] = _errors_in(text + "\nexample [1, 1] -> [5]\n").diagnostics
    assert d.span is not None
    assert (d.message, d.span.line, d.span.column) == (message, 1, column)


@pytest.mark.parametrize(("text", "hint"), [
    ("Dense 2->3\nlinear 3->1", "`Dense` is called `linear` here: write `linear 2->3`"),
    ("linear 2->1\nloss binary_crossentropy", "`binary_crossentropy` is called `bce` here"),
    ("linear 2->2\nloss sparse_categorical_crossentropy",
     "`sparse_categorical_crossentropy` is called `cross_entropy` here"),
    ("linear 2->2\nSparseCategoricalCrossentropy",
     "`SparseCategoricalCrossentropy` is a loss: write `loss cross_entropy`"),
])
def test_keras_names_are_answered_with_nqas(text, hint) -> None:
    [d] = _errors_in(text + "\nexample [1, 1] -> [1]\n").diagnostics
    assert d.hint == hint


@pytest.mark.parametrize(("name", "what"), [("conv3d", "3-d convolutions"), ("SimpleRNN", "plain recurrent layers")])
def test_a_layer_nqa_lacks_is_said_to_be_missing_not_misspelt(name, what) -> None:
    [d] = _errors_in(f"linear 2->3\n{name}\nlinear 3->1\n").diagnostics
    assert d.message == f"`{name}` is not available in nqa yet"
    assert d.hint.startswith(f"nqa has no {what} yet; its layers are ") and "`conv2d`" in d.hint


@pytest.mark.parametrize(("name", "ours"), [("batchnorm", "batch_norm"), ("BatchNorm2d", "batch_norm"),
                                            ("LayerNorm", "layer_norm"), ("MaxPooling2D", "max_pool2d")])
def test_other_libraries_layer_names_are_answered_with_nqas(name, ours) -> None:
    [d] = _errors_in(f"linear 2->3\n{name}\nlinear 3->1\n").diagnostics
    assert (d.message, d.hint) == (f"unknown statement `{name}`", f"`{name}` is called `{ours}` here: write `{ours}`")


# --- no control character reaches the terminal raw -----------------------------------

def test_controls_in_messages_excerpts_and_hints_are_spelt_out_and_underlines_follow() -> None:
    source = "linear 2->1 # \x1b]0;title\x07\x9b \u202e x\n"
    diag = Diagnostic("a \x1b[2J message", Span(1, 27, 1, 28, 26, 27), "label \x07", hint="hint \x9b", code="E0001")
    text = render_diagnostic(diag, source, "f\x1b.nqa")
    assert text.split("\n") == [
        "error[E0001]: a \\x1b[2J message",
        " --> f\\x1b.nqa:1:27",
        "  |",
        "1 | linear 2->1 # \\x1b]0;title\\x07\\x9b \\u202e x",
        "  | " + " " * len("linear 2->1 # \\x1b]0;title\\x07\\x9b ") + "^^^^^^ label \\x07",
        "  = hint: hint \\x9b",
    ]


def test_a_tab_in_an_excerpt_is_still_a_space() -> None:
    text = render_diagnostic(Diagnostic("m", Span(1, 2, 1, 8, 1, 7), "x", code="E0001"), "\tlinear", "f.nqa")
    assert "1 |  linear\n  |  ^^^^^^ x" in text


def test_csv_header_names_and_cells_are_quoted_escaped(tmp_path, capsys) -> None:
    spec = _write(tmp_path, 'linear 1->1\ndata "x.csv" inputs=b target=y\n', "a\x1b[2J,y\n1,2\n")
    assert main(["check", str(spec)]) == 2
    err = capsys.readouterr().err
    assert not RAW_CONTROL.search(err) and "`a\\x1b[2J`" in err
    spec = _write(tmp_path, 'linear 1->1\ndata "x.csv"\n', "a,y\n1,2\n3,\x1b]0;t\x07\n")
    assert main(["check", str(spec)]) == 2
    err = capsys.readouterr().err
    assert not RAW_CONTROL.search(err) and "`\\x1b]0;t\\x07` is not a finite number" in err


def test_check_json_carries_no_raw_control_either(tmp_path, capsys) -> None:
    spec = _write(tmp_path, 'linear 1->1\ndata "x.csv"\n', "a,y\n1,\x9b2J\u202e\x7f\n")
    assert main(["check", "--format", "json", str(spec)]) == 2
    out = capsys.readouterr().out
    assert not RAW_CONTROL.search(out)
    assert "\\x9b2J\\u202e\\x7f" in json.loads(out)[0]["message"]


def test_fmt_diff_spells_out_controls_and_keeps_tabs(tmp_path, capsys) -> None:
    spec = _write(tmp_path, "linear  2->1 # \x1b]0;title\x07\ttab\nexample [1, 1] -> [5]\n")
    before = spec.read_bytes()
    assert main(["fmt", "--diff", str(spec)]) == 1
    out = capsys.readouterr().out
    assert not RAW_CONTROL.search(out)
    assert "-linear  2->1 # \\x1b]0;title\\x07\ttab\n+linear 2->1  # \\x1b]0;title\\x07\ttab\n" in out
    assert spec.read_bytes() == before
