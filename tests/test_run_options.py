"""What a run may be given beyond its spec, on the command line and in Python:
limits, seeds, epochs and `--runs` are checked before anything is allocated, a
repeated option is a mistake, SIGTERM stops a run as Ctrl-C does, `--json -`
reports errors as JSON, and the library checks its arguments in its own words."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from compiler import Limits, check
from conftest import ROOT
from runtime import TrainOptions, train
from runtime.arguments import parser
from runtime.cli import main
from spec_lang import SpecError, parse

MLP = str(ROOT / "specs/mlp.nqa")
STAGE_7 = "linear 2->3; linear 3->1; leaky_relu\noptimizer sgd lr=0.01 momentum=0.9\nexample [1, 1] -> [10]\n"


def _err(argv, capsys) -> tuple[int, str]:
    code = main(argv)
    return code, capsys.readouterr().err


@pytest.mark.parametrize("flag", [f"--{name.replace('_', '-')}" for name in Limits.model_fields])
@pytest.mark.parametrize("value", ["0", "-5"])
def test_every_limit_below_1_is_refused_by_the_command_line(flag, value, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["run", MLP, f"{flag}={value}"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {flag}: expected a number of at least 1, not {value}" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("argv, expected", [
    (["--seed", "18446744073709551616"],
     ("error[E0901]: --seed must be below 2**63 = 9,223,372,036,854,775,808, not 18,446,744,073,709,551,616\n"
     "  = hint: pick a smaller seed, e.g. `--seed 0`\n")),
    (["--seed", "-1"], "error[E0901]: --seed must be at least 0, not -1\n  = hint: e.g. `--seed 0`\n"),
    (["--runs", "3", "--seed", "9223372036854775806"],
     ("error[E0901]: 3 runs from seed 9,223,372,036,854,775,806 would reach seed 9,223,372,036,854,775,808, "
     "past the largest seed, 2**63 - 1\n  = hint: start from a smaller seed, or train fewer runs\n")),
    (["--runs", "3", "--epochs", "0"],
     "error[E0901]: --epochs must be from 1 to 1,000,000, not 0\n  = hint: train for at least 1 epoch\n"),
    (["--runs", "2", "--epochs", "5000000"],
     ("error[E0901]: --epochs must be from 1 to 1,000,000, not 5,000,000\n"
      "  = hint: raise the limit with --max-epochs\n")),
])
def test_seeds_and_epochs_out_of_range_are_refused_with_a_hint(argv, expected, capsys):
    assert _err(["run", MLP, *argv], capsys) == (2, expected)


def test_runs_honour_epochs_from_the_command_line(capsys):
    assert main(["run", MLP, "--runs", "2", "--epochs", "5", "--json", "-"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["steps"] == 5


def test_runs_times_parameters_and_rows_are_bounded_before_allocating(tmp_path, capsys):
    wide = tmp_path / "wide.nqa"
    wide.write_text("input 1000\nlinear ->1000\nlinear ->1\nexample [" + ", ".join(["1"] * 1000) + "] -> [1]\n")
    assert _err(["run", str(wide), "--runs", "100000"], capsys) == (2, (
        "error[E0611]: --runs 100,000 on this spec means 100,200,100,000 parameters at once (100,000 x 1,002,001), "
        "over the limit of 100,000,000\n  = hint: train fewer runs at once, or raise the limit with --max-params\n"))
    iris = str(ROOT / "specs/examples/iris.nqa")
    code, err = _err(["run", iris, "--runs", "10000", "--max-examples", "1000000"], capsys)
    assert code == 2 and err.startswith(
        "error[E0611]: --runs 10,000 on this spec means 1,500,000 rows at once (10,000 x 150), "
        "over the limit of 1,000,000")


@pytest.mark.parametrize("argv", [["run", MLP, "--seed", "1", "--seed", "2"],
                                  ["check", MLP, "--max-params", "5", "--max-params", "7"],
                                  ["compile", MLP, "-o", "a.txt", "--output", "b.txt"]])
def test_an_option_given_twice_is_a_mistake_not_last_wins(argv, capsys):
    with pytest.raises(SystemExit) as stop:
        parser().parse_args(argv)
    assert stop.value.code == 2
    assert "given twice; give it once" in capsys.readouterr().err


def test_sigterm_stops_a_run_as_ctrl_c_does_and_writes_the_report(tmp_path):
    spec = tmp_path / "long.nqa"
    spec.write_text("linear 2->3\nlinear 3->1\nexample [1, 1] -> [1]\nepochs 1000000\n")
    report = tmp_path / "report.json"
    proc = subprocess.Popen([sys.executable, "-m", "runtime", str(spec), "--json", str(report), "--quiet",
                             "--log-every", "100"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    first = proc.stderr.readline()
    assert first.startswith("step "), first
    proc.send_signal(signal.SIGTERM)
    _, rest = proc.communicate(timeout=30)
    assert proc.returncode == 143, rest
    assert "Traceback" not in rest and "terminated after" in rest
    data = json.loads(report.read_text())
    assert data["stopped"].startswith("terminated after") and 0 < len(data["losses"]) < 1000000


def test_json_dash_gives_errors_as_json_on_stdout(tmp_path, capsys):
    bad = tmp_path / "bad.nqa"
    bad.write_text("lienar 2->3\nexample [1, 1] -> [1]\n")
    assert main(["run", str(bad), "--json", "-"]) == 2
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {"errors": [{
        "file": str(bad), "line": 1, "column": 1, "end_line": 1, "end_column": 7, "code": "E0101", "severity": "error",
        "message": "unknown statement `lienar`", "label": "not a statement", "hint": "did you mean `linear`?",
        "related": [], "fix": {"line": 1, "column": 1, "end_line": 1, "end_column": 7, "text": "linear",
                               "title": "write `linear`"}}]}
    assert captured.err.startswith("error[E0101]: unknown statement `lienar`")


@pytest.mark.parametrize("call, expected", [
    (lambda: train(STAGE_7, seed=-1), "error[E0901]: seed must be at least 0, not -1\n  = hint: e.g. `seed=0`"),
    (lambda: train(STAGE_7, seed=2**70),
     ("error[E0901]: seed must be below 2**63 = 9,223,372,036,854,775,808, not 1,180,591,620,717,411,303,424\n"
      "  = hint: pick a smaller seed, e.g. `seed=0`")),
    (lambda: train(STAGE_7, epochs=2.5),
     "error[E0901]: epochs must be a whole number, not 2.5\n  = hint: e.g. `epochs=100`"),
    (lambda: train(STAGE_7, epochs=10**7), ("error[E0901]: epochs must be from 1 to 1,000,000, not 10,000,000\n"
                                           "  = hint: raise the limit with Limits(max_epochs=...)")),
    (lambda: TrainOptions(device="tpu"),
     ("error[E0901]: device must be one of auto, cpu, cuda, not 'tpu'\n"
      "  = hint: e.g. `device='cpu'`, or `device='auto'` to use a GPU when there is one")),
    (lambda: TrainOptions(trace="grads"), ("error[E0901]: trace takes a set of grads and params, not 'grads'\n"
                                          "  = hint: e.g. `trace=frozenset({'grads'})`")),
    (lambda: parse(None),  # type: ignore[arg-type]
     ("error[E0921]: parse() takes the text of a spec as a str, not NoneType\n"
      "  = hint: to read a file, pass `spec_lang.read_source(path)`, or a `pathlib.Path` to `check()`")),
    (lambda: check(3),  # type: ignore[arg-type]
     ("error[E0921]: a spec is its text (str), a pathlib.Path or a parsed Spec, not int\n"
      "  = hint: e.g. `check(Path('specs/mlp.nqa'))` or `check('linear 2->1')`")),
])
def test_the_library_checks_its_arguments_in_its_own_words(call, expected):
    with pytest.raises(SpecError) as raised:
        call()
    assert raised.value.render() == expected


def test_a_file_name_given_as_spec_text_says_to_pass_a_path(monkeypatch):
    monkeypatch.chdir(ROOT)
    with pytest.raises(SpecError) as raised:
        check("specs/mlp.nqa")
    assert raised.value.render() == ("error[E0921]: `specs/mlp.nqa` was given as spec text, but it names a spec file\n"
                                     "  = hint: pass a path to read the file: `Path('specs/mlp.nqa')`")
    assert check(Path("specs/mlp.nqa")).spec.parameter_count == 13


def _check_stdin(text: bytes, *options: str) -> subprocess.CompletedProcess[bytes]:
    code = "import sys; from runtime.cli import main; sys.exit(main())"
    return subprocess.run([sys.executable, "-c", code, "check", "-", *options], input=text, capture_output=True,
                          cwd=ROOT, timeout=60)


def test_check_dash_reads_the_spec_from_standard_input():
    good = _check_stdin(b"linear 2->1\nexample [1, 1] -> [1]\n")
    assert (good.returncode, good.stdout) == (0, b"<stdin>: ok\n")
    bad = _check_stdin(b"lienar 2->1\n", "--format", "json")
    assert bad.returncode == 2
    assert [(r["file"], r["line"], r["message"]) for r in json.loads(bad.stdout)] == [
        ("<stdin>", 1, "unknown statement `lienar`")]
    huge = _check_stdin(b"#" * 2_000_000)
    assert huge.returncode == 2
    assert huge.stderr.decode().startswith(
        "error[E0610]: <stdin> holds more than 1,000,000 bytes, over the limit for a spec")


def test_the_library_takes_numpy_integers_and_refuses_what_is_not_its_own_type():
    import numpy as np

    assert train(STAGE_7, seed=np.int64(3), epochs=np.int32(2)).report.seed == 3
    wrong: Any = "x"
    checked: Any = check(STAGE_7)
    cases = [(lambda: train(STAGE_7, options=wrong), "error[E0921]: options must be a runtime.TrainOptions, not str"),
             (lambda: check(STAGE_7, limits=wrong), "error[E0921]: limits must be a compiler.Limits, not str"),
             (lambda: check(checked), ("error[E0921]: a spec is its text (str), a pathlib.Path or a parsed Spec, not "
                                       "Program\n  = hint: it is checked already: `compile_spec` and `train` "
                                       "take it as it is"))]
    for call, expected in cases:
        with pytest.raises(SpecError) as raised:
            call()
        assert raised.value.render().startswith(expected)


def test_json_dash_gives_the_command_lines_own_refusals_as_json_too(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["run", MLP, "--json", "-", "--seed", "abc"])
    assert stop.value.code == 2
    captured = capsys.readouterr()
    assert [e["message"] for e in json.loads(captured.out)["errors"]] == [
        "argument --seed: expected a whole number written with the digits 0 to 9, not 'abc'"]
    assert "error[E0922]: argument --seed" in captured.err
