"""`--save` and `--load` as users meet them: what a checkpoint holds, starting
from one, and every way a weights file can be wrong (other widths, not
safetensors, a pickle that must never be unpickled, missing), plus atomic saving."""

from __future__ import annotations

import json
import os
import pickle
import random

import pytest
import torch
from safetensors.torch import load_file

import runtime
from conftest import ROOT
from runtime.checkpoint import read_metadata
from runtime.cli import main

WIDER = "linear 2->4 bias\nlinear 4->1 bias\nleaky_relu\nexample [1, 1] -> [10]\n"


@pytest.fixture
def saved(tmp_path, monkeypatch, capsys):
    """specs/mlp.nqa trained at seed 3, saved to m.safetensors, its JSON report in first.json."""
    monkeypatch.chdir(ROOT)
    weights, report = tmp_path / "m.safetensors", tmp_path / "first.json"
    assert main(["run", "specs/mlp.nqa", "--seed", "3", "--save", str(weights), "--json", str(report), "-q"]) == 0
    assert capsys.readouterr() == ("", "")
    return weights, json.loads(report.read_text())


def test_save_writes_safetensors_with_the_spec_seed_and_versions(saved):
    weights, report = saved
    meta = read_metadata(weights)
    assert meta["nqa_spec"] == (ROOT / "specs/mlp.nqa").read_text(encoding="utf-8")
    assert meta["nqa_spec_file"] == "specs/mlp.nqa"
    assert meta["nqa_seed"] == "3"
    assert meta["nqa_version"] == runtime.version() != "unknown"
    assert meta["torch_version"] == torch.__version__
    tensors = load_file(str(weights))
    final = report["parameters"]["final"]
    assert sorted(tensors) == sorted(final) == ["0.bias", "0.weight", "1.bias", "1.weight"]
    for name, tensor in tensors.items():
        assert tensor.dtype == torch.float32
        assert tensor.tolist() == final[name], name


def test_load_starts_from_the_saved_weights_exactly(saved, tmp_path, capsys):
    weights, first = saved
    second = tmp_path / "second.json"
    assert main(["run", "specs/mlp.nqa", "--load", str(weights), "--json", str(second), "-q"]) == 0
    report = json.loads(second.read_text())
    assert report["parameters"]["initial"] == first["parameters"]["final"]
    assert report["losses"][0] < first["losses"][0] / 100  # it goes on from a trained network


def test_weights_of_other_widths_are_refused_at_each_layer(saved, tmp_path, monkeypatch, capsys):
    _weights, _ = saved
    (tmp_path / "wide.nqa").write_text(WIDER)
    monkeypatch.chdir(tmp_path)
    assert main(["run", "wide.nqa", "--load", "m.safetensors"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(
        "error[E0909]: `m.safetensors` has `0.weight` of shape [3, 2], but this layer needs [4, 2]\n"
        " --> wide.nqa:1:1\n"
        "  |\n"
        "1 | linear 2->4 bias\n"
        "  | ^^^^^^^^^^^^^^^^ needs 0.weight of shape [4, 2]\n"
        "  = hint: load weights saved from the same network\n")
    assert "`0.bias` of shape [3], but this layer needs [4]\n --> wide.nqa:1:1" in err
    assert "`1.weight` of shape [1, 3], but this layer needs [1, 4]\n --> wide.nqa:2:1" in err
    assert "1.bias" not in err  # [1] fits: only mismatched tensors are reported
    assert err.rstrip().endswith("error: 3 problems found in wide.nqa")
    assert "Traceback" not in err


def _torch_zip(path):
    torch.save(torch.zeros(3, 2), path)


def _torch_pickle(path):
    torch.save(torch.zeros(3, 2), path, _use_new_zipfile_serialization=False)


def _plain_pickle(path):
    path.write_bytes(pickle.dumps(torch.zeros(3, 2)))


def _random_bytes(path):
    path.write_bytes(random.Random(0).randbytes(512))


def _empty(path):
    path.write_bytes(b"")


@pytest.mark.parametrize("make", [_random_bytes, _empty, _torch_zip, _torch_pickle, _plain_pickle],
                         ids=lambda f: f.__name__.strip("_"))
def test_a_file_that_is_not_safetensors_gets_one_clear_error(make, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    bad = tmp_path / "weights.safetensors"
    make(bad)
    assert main(["run", "specs/mlp.nqa", "--load", str(bad)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"error[E0908]: `{bad}` is not a safetensors file")
    assert err.count("error[") == 1 and "Traceback" not in err
    assert "hint: pass a file written by `nqa run --save`" in err


class _Planted:
    """Unpickling this creates the file `path`: the proof that a pickle was run."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_malicious_pickle_is_never_unpickled(tmp_path, monkeypatch, capsys):
    control = tmp_path / "control-marker"
    pickle.loads(pickle.dumps(_Planted(control))).close()
    assert control.exists()  # the payload works when unpickled
    marker = tmp_path / "marker"
    bad = tmp_path / "evil.safetensors"
    bad.write_bytes(pickle.dumps(_Planted(marker)))
    monkeypatch.chdir(ROOT)
    assert main(["run", "specs/mlp.nqa", "--load", str(bad)]) == 2
    assert main(["draw", "specs/mlp.nqa", "--weights", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count(f"error[E0908]: `{bad}` is not a safetensors file") == 2
    assert not marker.exists()


def test_a_missing_weights_file_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    missing = tmp_path / "nothere.safetensors"
    assert main(["run", "specs/mlp.nqa", "--load", str(missing)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(f"error[E0908]: cannot read `{missing}`: no such file\n")
    assert "hint: " in err and "Traceback" not in err


def test_a_missing_weights_file_for_draw_does_not_hint_at_an_option_draw_lacks(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    missing = tmp_path / "nothere.safetensors"
    assert main(["draw", "specs/mlp.nqa", "--weights", str(missing)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(f"error[E0908]: cannot read `{missing}`: no such file\n")
    assert "--load" not in err


def _fail_fsync(_fd):
    raise OSError(28, "No space left on device")


def test_a_failed_save_leaves_the_existing_file_untouched_and_says_why(saved, tmp_path, monkeypatch, capsys):
    weights, _ = saved
    before = weights.read_bytes()
    listing = sorted(p.name for p in tmp_path.iterdir())
    monkeypatch.setattr(os, "fsync", _fail_fsync)
    assert main(["run", "specs/mlp.nqa", "--seed", "4", "--save", str(weights), "-q"]) == 2
    assert capsys.readouterr().err == f"error[E0923]: cannot write `{weights}`: No space left on device\n"
    assert weights.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == listing  # no temporary file left behind


def _never_train(*args, **kwargs):
    pytest.fail("trained although the output could not be written")


@pytest.mark.parametrize("argv", [
    ["run", "specs/mlp.nqa", "-q", "--save"], ["run", "specs/mlp.nqa", "-q", "--json"],
    ["run", "specs/mlp.nqa", "-q", "--draw"], ["run", "specs/mlp.nqa", "-q", "--plot"],
    ["draw", "specs/mlp.nqa", "-o"]],
    ids=["save", "json", "draw", "plot", "draw-o"])
def test_writing_into_a_missing_folder_is_refused_before_training(argv, tmp_path, monkeypatch, capsys):
    import runtime.commands

    monkeypatch.setattr(runtime.commands, "train", _never_train)
    monkeypatch.chdir(ROOT)
    target = tmp_path / "no" / "such" / "out.png"
    assert main(argv + [str(target)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    flag = argv[-1]
    assert err == f"error[E0923]: {flag}: cannot write `{target}`: the folder `{target.parent}` does not exist\n"


def test_the_same_run_saves_the_same_bytes_whatever_the_process(tmp_path):
    """safetensors keeps its header in a hash map, whose order changes from process to process: the
    header is written sorted, so a checksum of the weights of the same run is the same."""
    import subprocess
    import sys

    digests = set()
    for name in ("a", "b", "c"):
        out = tmp_path / f"{name}.safetensors"
        done = subprocess.run([sys.executable, "-m", "runtime", "specs/mlp.nqa", "-q", "--no-log", "--save", str(out)],
                              cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr
        data = out.read_bytes()
        header = json.loads(data[8:8 + int.from_bytes(data[:8], "little")])
        assert list(header) == sorted(header) and list(header["__metadata__"]) == sorted(header["__metadata__"])
        digests.add(data)
    assert len(digests) == 1
    assert load_file(str(out))["0.weight"].shape == (3, 2)
