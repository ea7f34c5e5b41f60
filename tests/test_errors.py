"""The errors a user sees for a bad spec: golden files, key messages, the CLI's exit codes.

In: the files in tests/bad_specs/ (one mistake each, named for it, its first
line a `#` comment saying which). Out: their rendered errors, compared with
tests/golden/errors/<name>.txt (rewrite with `pytest --update-goldens`, then
read the diff), plus assertions on the text that matters most for each kind
of mistake.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from compiler import Limits, check
from conftest import spec_files
from runtime.cli import main_run
from spec_lang import Diagnostic, Span, SpecError

ROOT = Path(__file__).resolve().parent.parent
BAD = ROOT / "tests" / "bad_specs"
BAD_NAMES = sorted(p.stem for p in BAD.glob("*.nqa"))
GOOD_SPECS = sorted(str(p.relative_to(ROOT)) for p in spec_files(ROOT / "specs", deep=True))


def _errors(name: str) -> SpecError:
    """The `SpecError` that checking tests/bad_specs/<name>.nqa raises."""
    relative = f"tests/bad_specs/{name}.nqa"
    with pytest.raises(SpecError) as caught:
        check(ROOT / relative, filename=relative, require_data=True)
    return caught.value


def _errors_in(source: str, filename: str = "spec.nqa", limits: Limits | None = None) -> SpecError:
    with pytest.raises(SpecError) as caught:
        check(source, filename=filename, limits=limits)
    return caught.value


def _span(diagnostic: Diagnostic) -> Span:
    """Where a diagnostic points: every one these tests read points somewhere."""
    assert diagnostic.span is not None
    return diagnostic.span


# --- (a) every bad spec: exit 2, a located error on stderr, the golden text ---------

def test_there_are_enough_bad_specs() -> None:
    assert len(BAD_NAMES) >= 20


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_spec_starts_with_a_comment_saying_what_is_wrong(name: str) -> None:
    first = (BAD / f"{name}.nqa").read_bytes().splitlines()[0]
    assert first.startswith(b"# ")


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_spec_error_matches_golden(name: str, capsys, monkeypatch, golden) -> None:
    monkeypatch.chdir(ROOT)
    relative = f"tests/bad_specs/{name}.nqa"
    code = main_run([relative])
    out, err = capsys.readouterr()
    assert code == 2, err
    assert out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert re.match(r"error\[E\d{4}\]: ", lines[0])
    assert lines[1].startswith(" ") and lines[1].lstrip().startswith(f"--> {relative}")
    golden.check(f"errors/{name}.txt", err)


# --- (b) the text users see for the most important mistakes -------------------------

def test_width_mismatch_renders_as_designed() -> None:
    """The exact target shape from the architecture notes."""
    error = _errors_in("# bad\nlinear 2->2\nlinear 3->1\n", "specs/bad.nqa")
    assert error.render() == "\n".join([
        "error[E0201]: `linear 3->1` expects 3 inputs, but the layer before it produces 2",
        " --> specs/bad.nqa:3:8",
        "  |",
        "2 | linear 2->2",
        "  |        ---- produces 2",
        "3 | linear 3->1",
        "  |        ^ expects 3",
        "  = hint: write `linear 2->1`, or `linear ->1` to infer the width",
    ])


def test_width_mismatch_file_shows_both_layers_and_the_hint() -> None:
    error = _errors("width_mismatch")
    [diag] = error.diagnostics
    assert diag.span is not None
    assert (diag.span.line, diag.span.column) == (3, 8)
    text = error.render()
    assert "2 | linear 2->2\n  |        ---- produces 2\n" in text
    assert "3 | linear 3->1\n  |        ^ expects 3\n" in text
    assert "= hint: write `linear 2->1`, or `linear ->1` to infer the width" in text


def test_guide_stage2_eval_points_at_the_eval() -> None:
    error = _errors("guide_stage2_eval")
    [diag] = error.diagnostics
    assert diag.message == "`eval` has 2 input values, but the network takes 1"
    assert diag.span is not None
    assert (diag.span.line, diag.span.column) == (9, 6)
    assert "9 | eval [1, 1]\n  |      ^^^^^^ 2 values" in error.render()
    assert diag.hint == "give 1 input value, e.g. `eval [1]`"


@pytest.mark.parametrize(("source", "line", "column", "hint"), [
    ("lienar 2->1\n", 1, 1, "did you mean `linear`?"),
    ("linear 2->1\noptimizer sgd lr=0.1 momentun=0.9\n", 2, 22, "did you mean `momentum=`?"),
    ("linear 2->1\nleakyrelu\n", 2, 1, "did you mean `leaky_relu`?"),
    ("linear 2->1\noptimizer adm\n", 2, 11, "did you mean `adam`?"),
    ("linear 2->1 biass\n", 1, 13, "did you mean `bias`?"),
], ids=["lienar", "momentun", "leakyrelu", "adm", "biass"])
def test_near_misses_suggest_the_right_word(source: str, line: int, column: int, hint: str) -> None:
    [diag] = _errors_in(source).diagnostics
    assert diag.span is not None
    assert (diag.span.line, diag.span.column) == (line, column)
    assert diag.hint == hint


def test_setting_twice_shows_both_places() -> None:
    text = _errors("setting_twice").render()
    assert "7 | epochs 100\n  | ---------- first given here\n" in text
    assert "9 | epochs 50\n  | ^^^^^^^^^ given again here\n" in text


def test_five_mistakes_are_five_errors_in_source_order() -> None:
    error = _errors("several_mistakes")
    found = [(_span(d).line, _span(d).column, d.message) for d in error.diagnostics]
    assert found == [
        (3, 1, "unknown statement `lienar`"),
        (4, 12, "negative slope must be at least 0, not `-1`"),
        (6, 22, "`optimizer sgd` has no option `momentun`"),
        (8, 8, "number of epochs must be at least 1, not `0`"),
        (10, 6, "`eval` has 3 input values, but the network takes 2"),
    ]
    assert error.render().endswith("error: 5 problems found in tests/bad_specs/several_mistakes.nqa")


def test_cascade_is_reported_once_at_its_cause() -> None:
    error = _errors("cascade")
    [diag] = error.diagnostics
    assert diag.span is not None
    assert (diag.span.line, diag.span.column) == (5, 8)
    assert diag.message == "`linear 3->1` expects 3 inputs, but it receives 4 from `linear 2->4`"
    assert "2 | linear 2->4\n  |        ---- produces 4\n" in error.render()


def test_no_training_data_passes_check_but_not_run() -> None:
    relative = "tests/bad_specs/no_training_data.nqa"
    check(ROOT / relative, filename=relative)
    [diag] = _errors("no_training_data").diagnostics
    assert diag.message == "nothing to train on: this spec has no `example` and no `data`"


def test_not_finite_target_is_one_error_at_the_number() -> None:
    [diag] = _errors("not_finite").diagnostics
    assert diag.span is not None
    assert (diag.span.line, diag.span.column, diag.span.end_column) == (8, 20, 25)


def test_example_without_target_is_one_error() -> None:
    [diag] = _errors("example_without_target").diagnostics
    assert diag.message == "`example` needs a target"


@pytest.mark.parametrize("width", ["99999999999999999999999999", "10000000000", "100000"])
def test_enormous_stated_width_is_one_error_and_no_huge_hint(width) -> None:
    error = _errors_in(f"linear {width}->1\nexample [1, 1] -> [5]\neval [1]\n", limits=Limits(max_width=10**12))
    text = error.render()
    assert len(text) < 2000
    assert ("over the limit" in text) == (int(width) > 10**8)


# --- (c) the real command line --------------------------------------------------------

def test_python_m_runtime_exits_2_without_traceback() -> None:
    done = subprocess.run([sys.executable, "-m", "runtime", "tests/bad_specs/width_mismatch.nqa"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("error[E0201]: `linear 3->1` expects 3 inputs")
    assert " --> tests/bad_specs/width_mismatch.nqa:3:8" in done.stderr


def test_check_accepts_every_spec_without_importing_torch() -> None:
    assert GOOD_SPECS
    program = ("import sys; from runtime.cli import main; import runtime.cli; "
               "rc = main(['check', *sys.argv[1:]]); assert 'torch' not in sys.modules; sys.exit(rc)")
    done = subprocess.run([sys.executable, "-c", program, *GOOD_SPECS],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.splitlines() == [f"{name}: ok" for name in GOOD_SPECS]


@pytest.mark.parametrize("text, messages", [
    ("linear ->3\nexample [nan, 1] -> [1, 1, 1]", ["numbers must be finite, not `nan`"]),
    ("linear ->3\nexample [1, 1] -> [1] foo=1", ["`example` has no option `foo`"]),
    ("linear 2->3 [nan]\nlinear 3->1\nexample [1, 1] -> [1]", ["numbers must be finite, not `nan`"]),
    ("linear 2->3 foo=1\nlinear 3->1\nexample [1, 1] -> [1]", ["`linear` has no option `foo`"]),
    ("linear 2->3\nlienar 3->1\nlinear 4->1\nexample [1, 1] -> [1, 1]",
     ["unknown statement `lienar`", "the target has 2 values, but the network has 1 output"]),
    ("linear 2->3\nrelu x=1\nlinear 4->1", ["`relu` has no option `x`",
                                           "`linear 4->1` expects 4 inputs, but the layer before it produces 3"]),
    ("linear 2->3\nlienar 3->4\nlinear ->5\nlinear 4->1",
     ["unknown statement `lienar`", "`linear 4->1` expects 4 inputs, but the layer before it produces 5"]),
    ("epoch 100\nlinear 2->1\nexample [1, 1, 1] -> [1]",
     ["unknown statement `epoch`", "`example` has 3 input values, but the network takes 2"]),
    ("linear 2->3 bais\nlinear ->1", ["unknown word `bais` in `linear`"]),
    ("linear 2->3\nlinear 3->1 foo=2\nexample [1, 1, 1] -> [1]",
     ["`linear` has no option `foo`", "`example` has 3 input values, but the network takes 2"]),
], ids=["width only in a bad example", "width only in an example that fails", "first layer left out",
        "first layer fails", "misspelt layer", "a layer that keeps the width", "a width stated after the gap",
        "misspelt setting", "width only in a failed layer", "input side still checked"])
def test_a_statement_left_out_causes_no_second_error(text, messages):
    assert [d.message for d in _errors_in(text).diagnostics] == messages


@pytest.mark.parametrize("text, messages", [
    ("linear 2->3 @ # see a;b\nlinear 3->1", ["unexpected character `@`"]),
    ('linear 2->1\ndata "a;b.csv" @', ["unexpected character `@`"]),
    ("linear 2->3 @ # x; epochs 5\nepochs 6\nlinear 3->1", ["unexpected character `@`"]),
], ids=["`;` in a comment", "`;` in a string", "a setting in a comment"])
def test_a_statement_with_a_syntax_error_ends_at_a_real_separator(text, messages):
    assert [d.message for d in _errors_in(text).diagnostics] == messages


def test_a_misspelt_example_is_not_also_nothing_to_train_on():
    with pytest.raises(SpecError) as caught:
        check("linear 1->1\nexmaple [1] -> [1]", require_data=True)
    assert [d.message for d in caught.value.diagnostics] == ["unknown statement `exmaple`"]


def test_an_error_at_a_line_end_is_in_the_same_column_with_windows_line_ends():
    spans = [_span(_errors_in(f"linear 2->1{end}example [1,1] ->{end}").diagnostics[0]) for end in ("\n", "\r\n")]
    assert [(s.line, s.column) for s in spans] == [(2, 17), (2, 17)]


@pytest.mark.parametrize("text, message", [
    ("linear 2->1 *\n", "unexpected end of the line"),
    ("linear 2->1 *", "unexpected end of the line"),
    ("linear 2->1 *; relu\n", "unexpected `;`"),
])
def test_a_statement_cut_short_says_where_it_ended(text, message):
    [diagnostic] = _errors_in(text).diagnostics
    assert (diagnostic.message, diagnostic.code) == (message, "E0003")


def test_a_name_equally_close_to_two_is_answered_with_both_and_no_edit():
    [diagnostic] = _errors_in("linear 2->1\noptimizer adam betaa=0.9\nexample [1, 1] -> [1]\n").diagnostics
    assert (diagnostic.code, diagnostic.hint) == ("E0103", "did you mean `beta1=` or `beta2=`?")
    assert diagnostic.fix is None  # applying one of them unasked could change what trains


def test_a_name_close_to_one_is_answered_with_it_and_its_edit():
    [diagnostic] = _errors_in("linear 2->1\noptimizer adam betas1=0.9\nexample [1, 1] -> [1]\n").diagnostics
    assert (diagnostic.hint, diagnostic.fix and diagnostic.fix.text) == ("did you mean `beta1=`?", "beta1")


@pytest.mark.parametrize("text, codes", [
    ("block b { relu }\nlinear 2->2\nb * x\nlinear ->1\nexample [1, 1] -> [1]\n", ["E0003"]),
    ("block b { relu }\n", ["E0205"]),
], ids=["a syntax error in the block's use", "only a block"])
def test_a_spec_that_fails_is_shown_its_errors_without_warnings(text, codes):
    assert [d.code for d in _errors_in(text).diagnostics] == codes


@pytest.mark.parametrize("vector, column", [("[[1], 1]", 10), ("[1, [1]]", 13), ("[[1, 2]]", 10)])
def test_a_vector_inside_a_vector_is_one_mistake_wherever_it_stands(vector, column):
    [diagnostic] = _errors_in(f"linear 2->1\nexample {vector} -> [1]\n").diagnostics
    assert (diagnostic.code, diagnostic.span and diagnostic.span.column) == ("E0007", column)
