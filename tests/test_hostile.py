"""Hostile command lines, each run on a folder of the user's files: every one
must exit 0 when its input is fine and 2 otherwise, never with a traceback,
never hang, and leave every file of the user's as it was (only the outputs it
was asked for may appear). Inputs that could hang a reader (FIFOs, devices)
run in a subprocess with a time limit."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from runtime.cli import main

SPEC = "linear 2->3\nlinear 3->1\nleaky_relu\noptimizer sgd lr=0.01 momentum=0.9\nepochs 5\ndata \"rows.csv\"\n"
ROWS = "a,b,y\n1,1,10\n0,1,5\n"
DIVERGES = "linear 1->1\noptimizer sgd lr=1e30\nexample [1e10] -> [1e10]\nepochs 50\n"
SWEEP = SPEC.replace("lr=0.01 momentum=0.9", "lr=choice(0.01, 0.001) momentum=choice(0, 0.9)")


def _folder(tmp: Path) -> Path:
    (tmp / "net.nqa").write_text(SPEC)
    (tmp / "rows.csv").write_text(ROWS)
    (tmp / "wild.nqa").write_text(DIVERGES)
    (tmp / "sweep.nqa").write_text(SWEEP)
    assert main(["run", str(tmp / "net.nqa"), "--save", str(tmp / "w.safetensors"), "--quiet"]) == 0
    (tmp / "link.nqa").symlink_to("net.nqa")
    return tmp


def _state(tmp: Path) -> dict[str, tuple[str, object]]:
    """Every entry of the folder: a link's target, a file's hash, or its kind."""
    found: dict[str, tuple[str, object]] = {}
    for entry in sorted(tmp.iterdir()):
        mode = entry.lstat().st_mode
        if stat.S_ISLNK(mode):
            found[entry.name] = ("link", os.readlink(entry))
        elif stat.S_ISREG(mode):
            found[entry.name] = ("file", hashlib.sha256(entry.read_bytes()).hexdigest())
        else:
            found[entry.name] = ("other", stat.S_IFMT(mode))
    return found


# (argv with {d} for the folder, expected exit code, the outputs it may write or change)
CASES = {
    "json over the spec": (["run", "{d}/net.nqa", "--json", "{d}/net.nqa"], 2, ()),
    "json over a link to the spec": (["run", "{d}/net.nqa", "--json", "{d}/link.nqa"], 2, ()),
    "save over the spec": (["run", "{d}/net.nqa", "--save", "{d}/net.nqa"], 2, ()),
    "draw over the spec": (["run", "{d}/net.nqa", "--draw", "{d}/net.nqa"], 2, ()),
    "json over the data": (["run", "{d}/net.nqa", "--json", "{d}/rows.csv"], 2, ()),
    "save over the weights it loads": (["run", "{d}/net.nqa", "--load", "{d}/w.safetensors",
                                        "--save", "{d}/w.safetensors"], 2, ()),
    "json where a stopped run's weights go": (["run", "{d}/net.nqa", "--save", "{d}/w.safetensors",
                                                "--json", "{d}/w.partial.safetensors"], 2, ()),
    "weights to standard output": (["run", "{d}/net.nqa", "--save", "-"], 2, ()),
    "a drawing to standard output from run": (["run", "{d}/net.nqa", "--draw", "-"], 2, ()),
    "onnx to standard output": (["export", "{d}/net.nqa", "--onnx", "-"], 2, ()),
    "a report named like a folder": (["run", "{d}/net.nqa", "--json", "{d}/newdir/"], 2, ()),
    "an empty report name": (["run", "{d}/net.nqa", "--json", ""], 2, ()),
    "an empty drawing name": (["draw", "{d}/net.nqa", "-o", ""], 2, ()),
    "a drawing named as a PNG": (["run", "{d}/net.nqa", "--draw", "{d}/net.png"], 2, ()),
    "draw -o named as a PDF": (["draw", "{d}/net.nqa", "-o", "{d}/net.pdf"], 2, ()),
    "--runs 0": (["run", "{d}/net.nqa", "--runs", "0"], 2, ()),
    "--tolerance without --runs": (["run", "{d}/net.nqa", "--tolerance", "0.1"], 2, ()),
    "a seed written with an underscore": (["run", "{d}/net.nqa", "--seed", "1_000"], 2, ()),
    "export untrained with epochs": (["export", "{d}/net.nqa", "--untrained", "--epochs", "3",
                                      "--onnx", "{d}/m.onnx"], 2, ()),
    "runs with full parameters": (["run", "{d}/net.nqa", "--runs", "2", "--full-parameters"], 2, ()),
    "two outputs on one path": (["run", "{d}/net.nqa", "--save", "{d}/out", "--json", "{d}/out"], 2, ()),
    "compile over the spec": (["compile", "{d}/net.nqa", "-o", "{d}/net.nqa"], 2, ()),
    "emit python over the data": (["compile", "{d}/net.nqa", "--emit", "python", "-o", "{d}/rows.csv"], 2, ()),
    "draw -o over the spec": (["draw", "{d}/net.nqa", "-o", "{d}/net.nqa"], 2, ()),
    "draw over its weights": (["draw", "{d}/net.nqa", "--weights", "{d}/w.safetensors", "-o", "{d}/w.safetensors"],
                              2, ()),
    "export over the spec": (["export", "{d}/net.nqa", "--onnx", "{d}/net.nqa"], 2, ()),
    "a diverging run keeps the old weights": (["run", "{d}/wild.nqa", "--save", "{d}/w.safetensors", "--quiet"], 3,
                                              ("w.partial.safetensors",)),
    "fmt through a link formats its target": (["fmt", "{d}/link.nqa"], 0, ("net.nqa",)),
    "a good run writes what it was asked": (["run", "{d}/net.nqa", "--json", "{d}/r.json", "--quiet"], 0, ("r.json",)),
    "weights that are not safetensors": (["run", "{d}/net.nqa", "--load", "{d}/rows.csv", "--quiet"], 2, ()),
    "a max limit of 0": (["check", "{d}/net.nqa", "--max-width", "0"], 2, ()),
    "a seed past 64 bits": (["run", "{d}/net.nqa", "--seed", "18446744073709551616"], 2, ()),
    "runs with epochs 0": (["run", "{d}/net.nqa", "--runs", "3", "--epochs", "0"], 2, ()),
    "a sweep's best over the spec": (["run", "{d}/sweep.nqa", "--best", "{d}/sweep.nqa"], 2, ()),
    "a sweep's best over its data": (["run", "{d}/sweep.nqa", "--best", "{d}/rows.csv"], 2, ()),
    "a sweep's best and its report on one path": (["run", "{d}/sweep.nqa", "--best", "{d}/o", "--json", "{d}/o"],
                                                  2, ()),
    "best of a spec that is no sweep": (["run", "{d}/net.nqa", "--best", "{d}/best.nqa"], 2, ()),
    "a sweep saving weights": (["run", "{d}/sweep.nqa", "--save", "{d}/w.safetensors"], 2, ()),
    "a sweep over its combinations limit": (["check", "{d}/sweep.nqa", "--max-combinations", "3"], 2, ()),
    "a max-combinations of 0": (["check", "{d}/sweep.nqa", "--max-combinations", "0"], 2, ()),
    "a sweep writes its best": (["run", "{d}/sweep.nqa", "--runs", "2", "--best", "{d}/best.nqa", "--quiet"], 0,
                                ("best.nqa",)),
}


@pytest.mark.parametrize("name", CASES)
def test_a_hostile_command_changes_nothing_of_the_users(name, tmp_path, capsys):
    argv, expected, outputs = CASES[name]
    folder = _folder(tmp_path)
    before = _state(folder)
    try:
        code: object = main([arg.format(d=folder) for arg in argv])
    except SystemExit as stop:  # the command line's own grammar (argparse) exits 2
        code = stop.code
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err, err
    assert code == expected, err
    after = _state(folder)
    changed = {n for n in before.keys() | after.keys() if before.get(n) != after.get(n)}
    assert changed <= set(outputs), f"changed: {sorted(changed)}\n{err}"
    assert after["link.nqa"] == ("link", "net.nqa")


def _run_limited(argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    code = "import sys; from runtime.cli import main; sys.exit(main())"
    return subprocess.run([sys.executable, "-c", code, *argv], cwd=cwd, capture_output=True, text=True, timeout=20,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.mark.parametrize("where", ["spec", "data", "load", "output"])
def test_a_fifo_is_refused_at_once_never_waited_on(where, tmp_path):
    folder = _folder(tmp_path)
    os.mkfifo(folder / "pipe")
    argv = {"spec": ["check", "pipe"],
            "data": ["check", "piped.nqa"],
            "load": ["run", "net.nqa", "--load", "pipe"],
            "output": ["run", "net.nqa", "--json", "pipe"]}[where]
    (folder / "piped.nqa").write_text(SPEC.replace("rows.csv", "pipe"))
    before = _state(folder)
    done = _run_limited(argv, folder)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "named pipe (FIFO)" in done.stderr, done.stderr
    assert _state(folder) == before


@pytest.mark.parametrize("argv", [["check", "/dev/zero"], ["run", "net.nqa", "--load", "/dev/zero"],
                                  ["check", "zero.nqa", "--allow-outside-data"]])
def test_dev_zero_is_refused_without_reading_it(argv, tmp_path):
    folder = _folder(tmp_path)
    (folder / "zero.nqa").write_text(SPEC.replace("rows.csv", "/dev/zero"))
    done = _run_limited(argv, folder)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "`/dev/zero` is a character device, not a regular file" in done.stderr


def test_a_device_node_given_as_output_is_left_alone(tmp_path):
    folder = _folder(tmp_path)
    node = folder / "full"
    try:
        os.mknod(node, stat.S_IFCHR | 0o600, os.makedev(1, 7))  # what /dev/full is
    except PermissionError:
        pytest.skip("making a device node needs root")
    done = _run_limited(["run", "net.nqa", "--save", "full", "--quiet"], folder)
    assert done.returncode == 2, done.stderr
    assert stat.S_ISCHR(node.lstat().st_mode)
