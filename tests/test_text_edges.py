"""Text at its edges: line endings (LF, CRLF, a CR alone, mixed) read the same by
`check`, error excerpts and `nqa fmt`, which never loses a statement or a
comment; byte-order marks; look-alike characters named; numbers too small to
hold; wording; user text in an emitted program."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler import check
from compiler.format import format_spec
from runtime.cli import main
from spec_lang import SpecError, parse
from spec_lang.parser import normalized
from spec_strategies import mutated_specs

BREAKS = {"LF": "\n", "CRLF": "\r\n", "CR": "\r"}


def statements(text: str) -> list[tuple[str, Counter]]:
    return [(s.name, Counter(s.args)) for s in parse(text).statements]


def comments(text: str) -> list[str]:
    """Each comment's text, on lines as `parse` reads them (a `#` outside a string starts one)."""
    found = []
    for line in normalized(text).split("\n"):
        outside = re.sub(r'"[^"]*"', lambda m: "x" * len(m[0]), line)
        if "#" in outside:
            found.append(line[outside.index("#"):].rstrip())
    return found


@pytest.mark.parametrize("ending", BREAKS)
def test_every_line_ending_reads_four_statements(ending):
    text = BREAKS[ending].join(["linear 2->3", "relu", "softmax", "example [1,1]->[1]"])
    for written in (text, text + BREAKS[ending]):
        assert [s.name for s in parse(written).statements] == ["linear", "relu", "softmax", "example"]
        assert check(written).spec.layers.__len__() == 3


def test_a_cr_alone_is_a_line_break_in_a_file_with_newlines_too():
    assert [s.name for s in parse("linear 2->3\rrelu\n").statements] == ["linear", "relu"]
    assert [s.name for s in parse("linear 2->3\rrelu\r\nsoftmax\n").statements] == ["linear", "relu", "softmax"]


def test_a_cr_ends_a_comment_and_what_follows_is_read():
    with pytest.raises(SpecError) as err:
        check("linear 2->3 # c\roptimizer sgd lr=-1\n", filename="a.nqa")
    assert err.value.render() == (
        "error[E0112]: learning rate `lr` must be greater than 0, not `-1`\n"
        " --> a.nqa:2:15\n"
        "  |\n"
        "2 | optimizer sgd lr=-1\n"
        "  |               ^^^^^ too small\n"
        "  = hint: use a positive learning rate, e.g. `lr=0.01`")


@pytest.mark.parametrize(("text", "formatted"), [
    ("linear 2->3\rrelu\rsoftmax\rexample [1,1]->[1]", "linear 2->3\nrelu\nsoftmax\nexample [1, 1] -> [1]\n"),
    ("linear 2->3\rlinear 3->1\rleaky_relu\r# comment\r", "linear 2->3\nlinear 3->1\nleaky_relu\n# comment\n"),
    ("linear 2 ->3\r\nrelu # r\r\n\r\n\r\n# end\r\n", "linear 2->3\r\nrelu  # r\r\n\r\n# end\r\n"),
    ("linear 2 ->3\r\nrelu\rsoftmax\n", "linear 2->3\r\nrelu\r\nsoftmax\r\n"),
    ("linear 2 ->3\nrelu\r\nsoftmax\r", "linear 2->3\nrelu\nsoftmax\n"),
    ("\ufefflinear 2 ->3\r\n", "\ufefflinear 2->3\r\n"),
])
def test_fmt_keeps_every_statement_and_comment_and_a_windows_file_s_line_ends(text, formatted):
    assert format_spec(text) == formatted
    assert format_spec(formatted) == formatted


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                    HealthCheck.filter_too_much])
@given(mutated_specs(), st.lists(st.sampled_from(list(BREAKS.values())), min_size=1, max_size=4))
def test_fmt_output_parses_to_the_input_s_statements_whatever_the_line_ends(spec, breaks):
    lines = spec.split("\n")
    text = "".join(line + breaks[i % len(breaks)] for i, line in enumerate(lines))
    try:
        once = format_spec(text)
    except SpecError:
        return
    assert statements(once) == statements(text)
    assert comments(once) == comments(text)
    assert format_spec(once) == once


@pytest.mark.parametrize("before, diff, after", [
    (b"linear 2->3\rrelu # r\rsoftmax",
     "-linear 2->3\\x0d\n-relu # r\\x0d\n-softmax\n+linear 2->3\n+relu  # r\n+softmax\n",
     b"linear 2->3\nrelu  # r\nsoftmax\n"),
    (b"linear 2 ->3\r\nrelu\r\n", "-linear 2 ->3\n+linear 2->3\n relu\n", b"linear 2->3\r\nrelu\r\n"),
], ids=["lone CR: spelt out, written as LF", "CRLF: shown as line ends, kept"])
def test_fmt_diff_never_prints_a_cr_and_fmt_writes_the_file(before, diff, after, tmp_path, capsys):
    spec = tmp_path / "a.nqa"
    spec.write_bytes(before)
    assert main(["fmt", "--diff", str(spec)]) == 1
    out = capsys.readouterr().out
    assert "\r" not in out
    assert diff in out
    assert main(["fmt", str(spec)]) == 0
    assert spec.read_bytes() == after


def test_one_leading_byte_order_mark_is_one_and_a_second_is_refused(tmp_path, capsys):
    spec = tmp_path / "a.nqa"
    spec.write_bytes(b"\xef\xbb\xbflinear 2->3\n")
    assert main(["check", str(spec)]) == 0
    assert main(["fmt", "--check", str(spec)]) == 0
    spec.write_bytes(b"\xef\xbb\xbf\xef\xbb\xbflinear 2->3\n")
    capsys.readouterr()
    assert main(["check", str(spec)]) == 2
    err = capsys.readouterr().err
    assert "error[E0001]: unexpected invisible character U+FEFF (zero width no-break space)\n" in err


@pytest.mark.parametrize(("text", "formatted"), [
    ("epochs 1e2", "epochs 100\n"),
    ("optimizer sgd lr=1e-400", "optimizer sgd lr=1e-400\n"),
    ("example [1e-400, -0, -0.0, 0e5, 100.0, 1.5e1, 1e20, 2E3] -> [2.50]",
     "example [1e-400, 0, -0.0, 0.0, 100.0, 15.0, 1e20, 2000] -> [2.5]\n"),
])
def test_fmt_writes_whole_numbers_without_a_point_and_never_a_number_that_underflowed(text, formatted):
    assert format_spec(text) == formatted
    assert format_spec(formatted) == formatted


def test_fmt_refuses_a_read_only_file_and_one_with_other_hard_links(tmp_path, capsys):
    spec, other = tmp_path / "a.nqa", tmp_path / "b.nqa"
    spec.write_text("linear 2 ->3\n")
    spec.chmod(0o444)
    assert main(["fmt", str(spec)]) == 2
    assert capsys.readouterr().err == (
        f"error[E0917]: cannot reformat `{spec}`: it is read-only\n --> {spec}\n"
        "  = hint: make it writable first (`chmod u+w`), or see the changes with `nqa fmt --diff`\n")
    assert spec.read_text() == "linear 2 ->3\n"
    spec.chmod(0o644)
    other.hardlink_to(spec)
    assert main(["fmt", str(spec)]) == 2
    assert capsys.readouterr().err == (
        f"error[E0917]: cannot reformat `{spec}`: it has 1 other hard link, which would keep the old text\n"
        f" --> {spec}\n"
        "  = hint: format a copy, then copy it over the file (`cp` keeps the links), or see the changes with "
        "`nqa fmt --diff`\n")
    assert spec.read_text() == other.read_text() == "linear 2 ->3\n"
    assert main(["fmt", "--check", str(spec)]) == 1  # only a rewrite is refused
    other.unlink()
    assert main(["fmt", str(spec)]) == 0
    assert spec.read_text() == "linear 2->3\n"


@pytest.mark.parametrize(("char", "name", "ascii_"), [
    ("\u2212", "minus sign", "-"), ("\u2010", "hyphen", "-"), ("\u2011", "non-breaking hyphen", "-"),
    ("\u2012", "figure dash", "-"), ("\u2013", "en dash", "-"), ("\u2014", "em dash", "-"),
    ("\u2015", "horizontal bar", "-"), ("\ufe63", "small hyphen-minus", "-"),
    ("\uff0d", "fullwidth hyphen-minus", "-"), ("\uff1d", "fullwidth equals sign", "="),
    ("\ufe65", "small greater-than sign", ">"), ("\uff1e", "fullwidth greater-than sign", ">"),
    ("\u2024", "one dot leader", "."), ("\uff0c", "fullwidth comma", ","), ("\uff1b", "fullwidth semicolon", ";"),
])
@pytest.mark.parametrize("where", ["optimizer sgd lr{}0.1", "linear 2-{}3", "example [1{} 1] -> [1]"])
def test_a_look_alike_of_ascii_punctuation_is_named_where_it_is(char, name, ascii_, where):
    text = where.format(char)
    with pytest.raises(SpecError) as err:
        check(text, filename="a.nqa")
    first = err.value.diagnostics[0]
    code = f"U+{ord(char):04X}"
    assert first.message == f"unexpected character `{char}` ({code} {name}), which looks like `{ascii_}`"
    assert first.span is not None and text[first.span.start] == char
    assert first.hint == f"type `{ascii_}` again: a spec's digits and punctuation are ASCII"


def test_one_input_and_one_run_are_singular(tmp_path, capsys):
    (tmp_path / "one.csv").write_text("y\n1\n2\n")
    spec = tmp_path / "a.nqa"
    spec.write_text('linear 1->1\ndata "one.csv"\n')
    assert main(["check", str(spec)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error[E0309]: `one.csv` has 1 column, but the network takes 1 input and needs a "
                          "target column "
                          "after them\n")
    assert err.endswith("  = hint: give each row 1 input and then the target\n")
    spec.write_text("linear 1->1\nexample [1] -> [1]\n")
    assert main(["run", str(spec), "--runs", "1", "--epochs", "2"]) == 0
    assert capsys.readouterr().out.startswith(f"nqa run {spec}  (seed 0: 1 run)\n")
    assert main(["run", str(spec), "--runs", "2", "--epochs", "2", "--seed", "3"]) == 0
    assert capsys.readouterr().out.startswith(f"nqa run {spec}  (seeds 3 to 4: 2 runs at once)\n")


@pytest.mark.parametrize(("text", "message"), [
    ("optimizer sgd lr=1e-400", "`1e-400` is too small for float32: it would be 0"),
    ("optimizer adam eps=-1e-50", "`-1e-50` is too small for float32: it would be 0"),
    ("optimizer adam eps=1e-40",
     "`1e-40` is too small for float32: it would be a subnormal number, with less precision"),
    ("example [1e-400] -> [1]", "`1e-400` is too small for float32: it would be 0"),
    ("example [1] -> [0.5e-320]", "`0.5e-320` is too small for float32: it would be 0"),
])
def test_a_number_too_small_for_float32_says_so(text, message):
    with pytest.raises(SpecError) as err:
        check(f"linear 1->1\n{text}\n", filename="a.nqa")
    (first,) = err.value.diagnostics
    assert first.message == message
    assert first.label == "too small" and first.span is not None
    assert first.hint == ("networks compute in float32, whose smallest normal number is about 1.2e-38: write 0, "
                          "or a larger number")


def test_zero_written_any_way_and_the_smallest_normal_float32_are_taken():
    spec = check("linear 3->1\nexample [0e-400, -0.0, 1.2e-38] -> [0]\nleaky_relu slope=0e-9\n").spec
    assert spec.examples[0].input == (0.0, -0.0, 1.2e-38)


HOSTILE_NAMES = [
    'x\nimport os;os.system("touch PWNED")\n#.nqa',
    'q"""\rimport os;os.system(\'touch PWNED\')\x0c\u2028#\'.nqa',
    "c coding:utf-7 +AAo-import os;os.system(+ACI-touch PWNED+ACI-)+AAo-#.nqa",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=["newline", "quotes", "coding"])
def test_the_emitted_program_holds_user_text_inertly(name, tmp_path):
    (tmp_path / "rows.csv").write_text('a,label\n1,"x"""""" \'; import os;os.system(""touch PWNED"") #"\n2,b\n')
    spec = tmp_path / name
    spec.write_text('# """ \' \\ import os;os.system("touch PWNED")\n'
                    'linear 1->2\ndata "rows.csv"\nloss cross_entropy\nepochs 1\n')
    script = tmp_path / "program.py"
    assert main(["compile", str(spec), "--emit", "python", "-o", str(script)]) == 0
    text = script.read_text(encoding="utf-8")
    assert "coding" not in "".join(text.splitlines(True)[:2])
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "final 0.weight = " in done.stdout
    assert not (tmp_path / "PWNED").exists()
