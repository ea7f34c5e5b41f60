"""The command line as users meet it: `check --format json`, Ctrl-C during a run,
atomic report files, and `nqa compile`."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

from conftest import ROOT
from runtime.cli import main
from runtime.files import write_atomic


def test_check_json_lists_every_error_as_an_object(tmp_path, capsys):
    bad = tmp_path / "two.nqa"
    bad.write_text("lienar 2->3\nlinear 2->3\nlinear 4->1\n")
    assert main(["check", "--format", "json", str(bad), str(ROOT / "specs/mlp.nqa")]) == 2
    records = json.loads(capsys.readouterr().out)
    assert [(r["line"], r["column"], r["end_line"], r["end_column"]) for r in records] == [(1, 1, 1, 7), (3, 8, 3, 9)]
    assert records[0] == {"file": str(bad), "line": 1, "column": 1, "end_line": 1, "end_column": 7,
                          "code": "E0101", "severity": "error", "message": "unknown statement `lienar`",
                          "label": "not a statement", "hint": "did you mean `linear`?", "related": [],
                          "fix": {"line": 1, "column": 1, "end_line": 1, "end_column": 7, "text": "linear",
                                  "title": "write `linear`"}}


def test_check_text_says_ok_for_each_good_file(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["check", "specs/mlp.nqa", "specs/neuron.nqa"]) == 0
    assert capsys.readouterr().out == "specs/mlp.nqa: ok\nspecs/neuron.nqa: ok\n"


def test_compile_prints_the_network_and_its_summary(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["compile", "specs/sequential.nqa"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Sequential(\n  (0): Linear(in_features=2, out_features=3, bias=True)")
    assert out.endswith(
        "   #  layer                           output    params      MACs\n"
        "      input                           [2]\n"
        "   0  Linear(2, 3)                    [3]            9         6\n"
        "   1  Linear(3, 1)                    [1]            4         3\n"
        "   2  LeakyReLU(negative_slope=0.01)  [1]            0         0\n"
        "      total                                         13         9\n"
        "  13 parameters, 52 bytes as float32\n"
        "  per example: 9 multiply-accumulates (MACs), 7 activation values (the input and every layer's output)\n")


def test_ctrl_c_stops_cleanly_writes_the_partial_report_and_exits_130(tmp_path):
    spec = tmp_path / "long.nqa"
    spec.write_text("linear 2->3\nlinear 3->1\nexample [1, 1] -> [1]\nepochs 1000000\n")
    report = tmp_path / "report.json"
    proc = subprocess.Popen([sys.executable, "-m", "runtime", str(spec), "--json", str(report), "--quiet",
                             "--log-every", "100"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    first = proc.stderr.readline()
    assert first.startswith("step     100/1000000  epoch 100/1000000  loss "), first
    proc.send_signal(signal.SIGINT)
    _, rest = proc.communicate(timeout=30)
    err = first + rest
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted after" in err
    data = json.loads(report.read_text())
    assert data["stopped"].startswith("interrupted after") and 0 < len(data["losses"]) < 1000000
    assert data["training"]["steps"] == len(data["losses"])


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    import os

    import pytest

    target = tmp_path / "report.json"
    target.write_text("good")

    def fail(_fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError):
        write_atomic(target, "new and partial")
    assert target.read_text() == "good"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]
    monkeypatch.undo()
    write_atomic(target, "new")
    assert target.read_text() == "new"


def _run_file(path, capsys) -> tuple[int, str]:
    code = main(["run", str(path)])
    return code, capsys.readouterr().err


def test_a_folder_a_binary_file_and_an_empty_file_each_get_one_clear_line(tmp_path, capsys):
    binary = tmp_path / "model.nqa"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    empty = tmp_path / "empty.nqa"
    empty.write_text("")
    assert _run_file(tmp_path, capsys) == (2, (f"error[E0918]: `{tmp_path}` is a folder, not a spec file\n"
                                               f" --> {tmp_path}\n  = hint: pass a .nqa file, e.g. specs/mlp.nqa\n"))
    code, err = _run_file(binary, capsys)
    assert code == 2 and err.startswith(f"error[E0919]: `{binary}` is a binary file, not a spec")
    code, err = _run_file(empty, capsys)
    assert code == 2 and err.startswith("error[E0205]: this spec has no layers")


def test_an_enormous_network_is_refused_before_torch_is_imported(tmp_path):
    spec = tmp_path / "huge.nqa"
    spec.write_text("linear 100000000->100000000\nexample [1] -> [1]\n")
    code = ("import sys; from runtime.cli import main; rc = main(['check', sys.argv[1]]); "
            "assert 'torch' not in sys.modules; sys.exit(rc)")
    done = subprocess.run([sys.executable, "-c", code, str(spec)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2
    assert "width 100,000,000 is over the limit of 100,000" in done.stderr


def test_raising_the_width_limit_reports_parameters_and_bytes(tmp_path, capsys):
    spec = tmp_path / "huge.nqa"
    spec.write_text("linear 100000000->100000000\nexample [1] -> [1]\n")
    assert main(["check", "--max-width", "1000000000", str(spec)]) == 2
    err = capsys.readouterr().err
    assert "the network would have 10,000,000,100,000,000 parameters (40.0 PB), over the limit of 100,000,000" in err


def test_a_million_separators_and_a_long_line_are_handled(tmp_path, capsys):
    spec = tmp_path / "semis.nqa"
    spec.write_text(";" * 999_000 + "\nlinear 1->1\nexample [1] -> [1]\n")
    assert main(["check", str(spec)]) == 0
    big = tmp_path / "big.nqa"
    big.write_text("x" * 2_000_000)
    assert main(["check", str(big)]) == 2
    assert "is 2,000,000 bytes, over the limit of 1,000,000" in capsys.readouterr().err


def test_a_huge_layer_says_what_it_would_cost_with_the_default_limits(tmp_path, capsys):
    spec = tmp_path / "huge.nqa"
    spec.write_text("linear 100000000->100000000\n")
    assert main(["check", str(spec)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error[E0605]: width 100,000,000 is over the limit of 100,000: `linear 100000000->100000000` "
                          "alone would have 10,000,000,100,000,000 parameters (40.0 PB)\n")
    assert err.count("error[") == 1


def test_runs_refuses_options_it_cannot_honour(capsys):
    assert main(["run", str(ROOT / "specs/mlp.nqa"), "--runs", "3", "--save", "x.safetensors", "--trace", "grads"]) == 2
    assert capsys.readouterr().err.startswith("error[E0902]: --save, --trace cannot be used with --runs")
    assert main(["run", str(ROOT / "specs/mlp.nqa"), "--runs", "3", "--tolerance", "-1"]) == 2
    assert "--tolerance must be a loss of at least 0" in capsys.readouterr().err


def test_export_and_emit_python_need_training_data(tmp_path, capsys):
    spec = tmp_path / "v.nqa"
    spec.write_text("input 4\nlinear ->8\nrelu\nlinear 3\n")
    for argv in (["export", str(spec), "--onnx", str(tmp_path / "m.onnx")], ["compile", str(spec), "--emit", "python"]):
        assert main(argv) == 2
        assert capsys.readouterr().err.startswith("error[E0322]: nothing to train on")


def test_mistakes_on_the_command_line_are_not_placed_in_the_spec(monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(ROOT)
    missing = tmp_path / "missing.safetensors"
    cases = [(["--load", str(missing)], (f"error[E0908]: cannot read `{missing}`: no such file\n"
                                         "  = hint: check the path to the weights file\n")),
             (["--epochs", "0"], ("error[E0901]: --epochs must be from 1 to 1,000,000, not 0\n"
                                  "  = hint: train for at least 1 epoch\n")),
             (["--runs", "4", "--save", str(tmp_path / "w.safetensors")],
              ("error[E0902]: --save cannot be used with --runs\n"
               "  = hint: train one seed with `nqa run SPEC --seed N` to save, load, plot, draw or trace it\n"))]
    for options, expected in cases:
        assert main(["run", "specs/mlp.nqa", *options]) == 2
        assert capsys.readouterr().err == expected
