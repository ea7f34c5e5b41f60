"""Every diagnostic's stable code: the registry, the codes the corpora get, and where they show.

In: spec_lang/codes.py; the specs of tests/bad_specs/, tests/warning_specs/ and
tests/sweep_specs/, hostile text from tests/spec_strategies.py, the bad-spec
goldens, and command lines. Out: a well-formed registry (one code per kind,
`E....` errors and `W....` warnings, each in its area's range), every
diagnostic carrying a code of the registry with its severity, `error[E0201]:`
in the text, `code`, `severity`, `related` and `fix` in the JSON, and the
sweep's dedupe keeping apart what only the code tells apart.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings

from compiler import check
from compiler.sweep_check import _key
from conftest import ROOT, spec_files
from runtime.cli import main, main_run
from spec_lang import Diagnostic, Label, Span, SpecError, codes
from spec_lang.codes import CODES
from spec_lang.errors import Fix
from spec_strategies import hostile_specs

BAD = ROOT / "tests" / "bad_specs"
FOLDERS = [ROOT / "tests" / "bad_specs", ROOT / "tests" / "warning_specs", ROOT / "tests" / "sweep_specs"]
CORPUS = [p for folder in FOLDERS for p in spec_files(folder)]
RANGES = {"E00": "syntax", "E01": "statements", "E02": "shapes", "E03": "data", "E04": "training",
          "E05": "blocks and sweeps", "E06": "limits", "E09": "command line", "W00": "warnings"}


def _found(path: Path) -> tuple[Diagnostic, ...]:
    """What checking a spec file says: its errors, or the warnings of a spec that passes."""
    relative = str(path.relative_to(ROOT))
    try:
        return check(path, filename=relative, require_data=True).warnings
    except SpecError as err:
        return err.diagnostics


def _assert_registered(diagnostics: tuple[Diagnostic, ...] | list[Diagnostic]) -> None:
    for d in diagnostics:
        assert d.code in CODES, f"{d.code!r} is not a registered code: {d.message}"
        assert CODES[d.code].severity == d.severity, (d.code, d.severity, d.message)


# --- the registry --------------------------------------------------------------------

def test_every_code_is_well_formed_named_once_and_in_its_areas_range() -> None:
    assert len(CODES) >= 100
    names = [info.name for info in CODES.values()]
    assert len(names) == len(set(names))
    for code, info in CODES.items():
        assert re.fullmatch(r"[EW]\d{4}", code), code
        assert code[:3] in RANGES, code
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", info.name), info.name
        assert info.severity == ("error" if code.startswith("E") else "warning"), code
        assert info.title and "\n" not in info.title and not info.title.endswith("."), code


def test_every_code_has_one_named_constant_and_every_constant_is_registered() -> None:
    constants = {name: value for name, value in vars(codes).items()
                 if name.isupper() and isinstance(value, str) and name != "CODES"}
    assert sorted(constants.values()) == sorted(CODES)  # one constant per code, none left over
    assert codes.WIDTH_MISMATCH == "E0201" and CODES["E0201"].name == "width-mismatch"
    assert codes.is_code("W0001") and not codes.is_code("E9999") and not codes.is_code("e0201")


# --- every diagnostic of every corpus has a registered code ------------------------------

@pytest.mark.parametrize("path", CORPUS, ids=[f"{p.parent.name}/{p.stem}" for p in CORPUS])
def test_every_diagnostic_of_the_spec_corpora_has_a_registered_code(path: Path) -> None:
    _assert_registered(_found(path))


def test_the_bad_specs_cover_many_codes_and_the_warning_specs_only_warnings() -> None:
    bad = {d.code for p in spec_files(BAD) for d in _found(p)}
    warned = {d.code for p in spec_files(FOLDERS[1]) for d in _found(p)}
    assert len(bad) >= 40, sorted(bad)
    assert warned and all(code.startswith("W") for code in warned), warned


@settings(max_examples=150, deadline=None)
@given(hostile_specs)
def test_hostile_text_gets_registered_codes_only(text: str) -> None:
    try:
        program = check(text, filename="fuzz.nqa")
    except SpecError as err:
        _assert_registered(err.diagnostics)
    else:
        _assert_registered(program.warnings)


def test_every_code_in_the_bad_spec_goldens_is_registered() -> None:
    found = {m for p in (ROOT / "tests" / "golden" / "errors").glob("*.txt")
             for m in re.findall(r"^(?:error|warning)\[([A-Z]\d{4})\]:", p.read_text(), re.M)}
    assert found and found <= set(CODES), found - set(CODES)


# --- where the code shows ------------------------------------------------------------------

def test_the_text_form_names_the_code_in_the_header(capsys, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    assert main_run(["tests/bad_specs/width_mismatch.nqa"]) == 2
    assert capsys.readouterr().err.startswith("error[E0201]: `linear 3->1` expects 3 inputs")
    assert main(["check", "tests/warning_specs/validate_one_row.nqa"]) == 0
    assert "warning[W0005]: `validate` holds out 1 row" in capsys.readouterr().err


def test_a_command_line_mistake_has_a_code_too(capsys, tmp_path) -> None:
    assert main(["check", str(tmp_path / "absent.nqa")]) == 2
    assert capsys.readouterr().err.startswith("error[E0918]: cannot read `")
    with pytest.raises(SystemExit):
        main(["check", "--format", "xml", "x.nqa"])
    assert "error[E0922]: argument --format" in capsys.readouterr().err


def test_check_json_carries_code_severity_related_and_fix(capsys, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["check", "--format", "json", "tests/bad_specs/width_mismatch.nqa",
                 "tests/warning_specs/validate_one_row.nqa"]) == 2
    error, warning = json.loads(capsys.readouterr().out)
    assert (error["code"], error["severity"], error["line"], error["column"]) == ("E0201", "error", 3, 8)
    assert error["related"] == [{"line": 2, "column": 8, "end_line": 2, "end_column": 12, "label": "produces 2"}]
    assert error["fix"] == {"line": 3, "column": 8, "end_line": 3, "end_column": 9, "text": "2",
                            "title": "write `linear 2->1`"}
    assert (warning["code"], warning["severity"], warning["related"], warning["fix"]) == ("W0005", "warning", [], None)


def test_a_fix_is_given_in_the_json_with_its_place(capsys, monkeypatch) -> None:
    from runtime import cli

    span = Span(3, 8, 3, 12, 20, 24)
    diagnostic = Diagnostic("m", span, "expects 3", hint="write `linear 2->1`", code=codes.WIDTH_MISMATCH,
                            fix=Fix(span, "2->1", "write `linear 2->1`"))
    record = cli._record(diagnostic, "s.nqa")
    assert record["fix"] == {"line": 3, "column": 8, "end_line": 3, "end_column": 12, "text": "2->1",
                             "title": "write `linear 2->1`"}
    assert record["code"] == "E0201" and record["related"] == []


def test_run_json_errors_and_the_argument_refusal_carry_codes(capsys, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    assert main_run(["tests/bad_specs/width_mismatch.nqa", "--json", "-"]) == 2
    [record] = json.loads(capsys.readouterr().out)["errors"]
    assert (record["code"], record["severity"], record["related"][0]["label"]) == ("E0201", "error", "produces 2")
    with pytest.raises(SystemExit):
        main_run(["tests/bad_specs/width_mismatch.nqa", "--json", "-", "--epochs", "many"])
    [refusal] = json.loads(capsys.readouterr().out)["errors"]
    assert (refusal["code"], refusal["severity"], refusal["related"], refusal["fix"]) == ("E0922", "error", [], None)


# --- decisions are made on codes, never on wording ------------------------------------------------

def test_the_sweep_dedupe_keeps_apart_the_same_words_under_different_codes() -> None:
    span = Span(1, 1, 1, 7, 0, 6)
    one = Diagnostic("the same words", span, "here", code=codes.UNKNOWN_VALUE)
    other = Diagnostic("the same words", span, "here", code=codes.INVALID_VALUE)
    assert _key(one) != _key(other)
    noted = Diagnostic("the same words", span, "here", (Label(span, "with this value"),), code=codes.UNKNOWN_VALUE)
    assert _key(one) == _key(noted)  # the notes differ between combinations: the problem is the same


def test_a_sweep_says_once_what_every_combination_gets_wrong_with_its_code() -> None:
    with pytest.raises(SpecError) as caught:
        check("linear 2->3\nlinear 4->1\noptimizer sgd lr=choice(0.1, 0.01)\nexample [1, 1] -> [1]\n")
    assert [d.code for d in caught.value.diagnostics] == [codes.WIDTH_MISMATCH]


@pytest.mark.parametrize(("option", "code", "hint"), [
    ("lr=nan", codes.NOT_FINITE_VALUE, "are not allowed"),
    ("lr=1e999", codes.TOO_LARGE_NUMBER, "use a smaller number"),
    ("lr=-1", codes.OUT_OF_RANGE, ""),
    ("momentum=yes", codes.NOT_A_NUMBER, ""),
])
def test_a_value_error_gets_its_code_and_hint_from_its_kind(option: str, code: str, hint: str) -> None:
    with pytest.raises(SpecError) as caught:
        check(f"linear 2->1\noptimizer sgd {option}\nexample [1, 1] -> [1]\n")
    [d] = caught.value.diagnostics
    assert d.code == code and hint in d.hint
