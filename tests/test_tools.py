"""The run tools as users see them: help texts, --version, progress in a pipe
and on a terminal, --trace, --plot, `nqa schema`, colour, and --device.
Checkpoints and drawing are in test_checkpoints.py and test_drawing.py."""

from __future__ import annotations

import fcntl
import importlib.util
import json
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time

import pytest
import torch

import runtime
import runtime.commands
from compiler import check
from conftest import ROOT
from runtime.arguments import parser, run_parser
from runtime.cli import main
from spec_lang import SpecError

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _start(*argv: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT, env={**os.environ, **(env or {})})


def _finish(proc: subprocess.Popen) -> subprocess.CompletedProcess:
    out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _pipe(*argv: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return _finish(_start(*argv, env=env))


def _terminal(*argv: str, env: dict | None = None, columns: int = 100) -> tuple[int, str]:
    """Run with stdin, stdout and stderr on a pseudo-terminal of 24 x `columns`; all it printed."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    proc = subprocess.Popen([sys.executable, *argv], stdin=slave, stdout=slave, stderr=slave, cwd=ROOT,
                            env={**os.environ, **(env or {})}, close_fds=True)
    os.close(slave)
    chunks, deadline = [], time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            if select.select([master], [], [], 0.2)[0]:
                try:
                    data = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                break
        return proc.wait(timeout=30), b"".join(chunks).decode("utf-8", "replace")
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()


# help texts and --version

HELP = {"nqa": [], "check": ["check"], "run": ["run"], "compile": ["compile"], "draw": ["draw"],
        "schema": ["schema"], "explain": ["explain"], "predict": ["predict"], "evaluate": ["evaluate"],
        "runs": ["runs"], "runs-show": ["runs", "show"], "runs-compare": ["runs", "compare"],
        "lsp": ["lsp"]}


@pytest.mark.parametrize("name", HELP)
def test_help_matches_golden(name, golden, monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "100")
    with pytest.raises(SystemExit) as done:
        main(HELP[name] + ["--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    if name == "nqa":
        assert out == parser().format_help()
    golden.check(f"help/{name}.txt", out)


def test_python_m_runtime_help_matches_golden(golden, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    golden.check("help/python-m-runtime.txt", run_parser().format_help())


def _subcommands():
    action = next(a for a in parser()._actions if a.dest == "command")
    return action.choices


def test_every_positional_argument_is_explained_in_help():
    unexplained = [f"{name} {a.metavar or a.dest}" for name, sub in _subcommands().items()
                   for a in sub._actions if not a.option_strings and not a.help]
    assert unexplained == []


def test_version_prints_nqa_and_the_installed_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    from importlib.metadata import version

    assert capsys.readouterr().out == f"nqa {version('nqa')}\n" == f"nqa {runtime.version()}\n"


# progress and traces

def test_in_a_pipe_progress_is_only_printed_with_log_every_and_only_on_stderr():
    both = _start("-m", "runtime", "specs/mlp.nqa"), _start("-m", "runtime", "specs/mlp.nqa", "--log-every", "25")
    quiet, logged = map(_finish, both)
    assert quiet.returncode == 0 and quiet.stderr == ""
    assert quiet.stdout.startswith("nqa run specs/mlp.nqa  (seed 0)\n")
    assert logged.returncode == 0 and logged.stdout == quiet.stdout
    lines = logged.stderr.splitlines()
    assert [line.split("  loss ")[0] for line in lines] == [
        f"step {s:>3}/100  epoch {s}/100" for s in (25, 50, 75, 100)]
    assert all(re.fullmatch(r"step +\d+/100  epoch \d+/100  loss [-+.e0-9]+", line) for line in lines), lines
    for text in (quiet.stdout, logged.stdout, logged.stderr):
        assert not ANSI.search(text) and "\r" not in text


def _flat(value) -> list[float]:
    return [x for v in value for x in _flat(v)] if isinstance(value, list) else [value]


def test_trace_grads_are_printed_under_the_progress_lines_and_recorded_for_every_step(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    assert main(["run", "specs/mlp.nqa", "--trace", "grads", "--log-every", "50", "--json", "-"]) == 0
    out, err = capsys.readouterr()
    report = json.loads(out)  # stdout holds only the JSON
    names = ["0.weight", "0.bias", "1.weight", "1.bias"]
    assert [(r["step"], r["kind"], list(r["values"])) for r in report["trace"]] == [
        (s, "grads", names) for s in range(1, 101)]
    lines = err.splitlines()
    assert [line.split("  loss ")[0] for line in lines[::5]] == ["step  50/100  epoch 50/100",
                                                                 "step 100/100  epoch 100/100"]
    for at, step in ((0, 50), (5, 100)):
        for offset, name in enumerate(names, start=1):
            shown = re.fullmatch(r"  grad (\S+) (.+)", lines[at + offset])
            assert shown and shown[1] == name, lines[at + offset]
            recorded = report["trace"][step - 1]["values"][name]
            assert _flat(json.loads(shown[2])) == pytest.approx(_flat(recorded), rel=1e-5, abs=1e-12)


def test_traced_params_after_the_last_step_are_the_final_parameters(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    assert main(["run", "specs/mlp.nqa", "--trace", "params", "--json", "-"]) == 0
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert err == ""  # traced, but not printed without --log-every
    assert [r["step"] for r in report["trace"]] == list(range(1, 101))
    assert {r["kind"] for r in report["trace"]} == {"params"}
    assert report["trace"][-1]["values"] == report["parameters"]["final"]
    assert report["trace"][0]["values"] != report["parameters"]["initial"]  # recorded after the step


def test_on_a_terminal_a_long_run_shows_a_progress_bar():
    code, shown = _terminal("-m", "runtime", "specs/mlp.nqa", "--epochs", "5000")
    assert code == 0, shown
    bar = shown.split("nqa run specs/mlp.nqa")[0]
    assert re.search(r"epoch \d+/5000: +\d+%\|.*\| \d+/5000 \[.*step/s, loss ", bar), shown[:2000]
    assert "final loss" in shown


def test_on_a_terminal_a_short_run_shows_no_bar():
    code, shown = _terminal("-m", "runtime", "specs/mlp.nqa")
    assert code == 0 and shown.startswith("nqa run specs/mlp.nqa  (seed 0)"), shown[:500]
    assert "step/s" not in shown and "%|" not in shown


# --plot

def test_plot_writes_a_png(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    png = tmp_path / "loss.png"
    assert main(["run", "specs/mlp.nqa", "-q", "--plot", str(png)]) == 0
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_plot_to_an_unknown_format_is_a_clear_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    assert main(["run", "specs/mlp.nqa", "-q", "--plot", str(tmp_path / "loss.txt")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error[E0906]:") and "txt" in err and "png" in err
    assert "Traceback" not in err and "internal error" not in err


def test_plot_without_matplotlib_is_refused_before_training(tmp_path, monkeypatch, capsys):
    real = importlib.util.find_spec  # as runtime.commands looks it up
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *rest: None if name == "matplotlib" else real(name, *rest))
    monkeypatch.setattr(runtime.commands, "train", lambda *a, **k: pytest.fail("trained without matplotlib"))
    monkeypatch.chdir(ROOT)
    png = tmp_path / "loss.png"
    assert main(["run", "specs/mlp.nqa", "--plot", str(png)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("error[E0904]: --plot needs matplotlib, which is not installed\n")
    assert "hint: install it with `pip install 'nqa[plot]'`" in err
    assert not png.exists()


# nqa schema

def test_schema_prints_the_spec_and_report_schemas(capsys):
    assert main(["schema"]) == 0
    both = json.loads(capsys.readouterr().out)
    assert sorted(both) == ["evaluate", "predict", "report", "spec", "sweep"]
    assert main(["schema", "report"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report == both["report"]
    assert {"losses", "parameters", "diagnostics", "trace"} <= set(report["properties"])
    assert main(["schema", "spec"]) == 0
    assert json.loads(capsys.readouterr().out) == both["spec"]


# colour

def _error() -> SpecError:
    with pytest.raises(SpecError) as caught:
        check("lienar 2->3\n", filename="bad.nqa")
    return caught.value


def test_colour_render_adds_ansi_escapes_and_only_them():
    error = _error()
    plain, coloured = error.render(), error.render(colour=True)
    assert ANSI.search(coloured) and "\x1b" not in plain
    assert ANSI.sub("", coloured) == plain


def _check_bad(tmp_path, run, **env):
    bad = tmp_path / "bad.nqa"
    bad.write_text("lienar 2->3\n")
    code = "import sys; from runtime.cli import main; sys.exit(main(['check', sys.argv[1]]))"
    return run("-c", code, str(bad), env=env)


def test_check_in_a_pipe_prints_no_colour(tmp_path):
    done = _check_bad(tmp_path, _pipe)
    assert done.returncode == 2 and done.stderr.startswith("error[E0101]: unknown statement `lienar`")
    assert "\x1b" not in done.stderr + done.stdout


@pytest.mark.parametrize("env, coloured", [({}, True), ({"NO_COLOR": "1"}, False), ({"TERM": "dumb"}, False)],
                         ids=["terminal", "NO_COLOR", "TERM=dumb"])
def test_check_on_a_terminal_is_coloured_unless_no_color(tmp_path, env, coloured, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    code, shown = _check_bad(tmp_path, _terminal, **env)
    assert code == 2 and "unknown statement `lienar`" in shown
    assert bool(ANSI.search(shown)) == coloured


# --device

def test_device_cpu_and_auto_give_exactly_the_default_losses(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    reports = {}
    for device in (None, "cpu", "auto"):
        path = tmp_path / f"{device}.json"
        assert main(["run", "specs/mlp.nqa", "-q", "--json", str(path)] + (["--device", device] if device else [])) == 0
        reports[device] = json.loads(path.read_text())
    if torch.cuda.is_available():
        del reports["auto"]
    assert all(r["losses"] == reports[None]["losses"] for r in reports.values())
    assert all(r["parameters"] == reports[None]["parameters"] for r in reports.values())


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA device")
def test_device_cuda_without_a_gpu_is_refused(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    assert main(["run", "specs/mlp.nqa", "--device", "cuda"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("error[E0916]: --device cuda was asked for, but no CUDA device is available\n")
    assert "hint: use --device cpu, or --device auto to use a GPU when there is one" in err
