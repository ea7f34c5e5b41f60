"""nqa never destroys a user's file and never hangs or blows up reading one: no
output is written over an input or another output, symbolic links are written
through, FIFOs, devices and sockets are refused, `--save` keeps the last
finished run's weights, and every read is bounded before it starts."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys

import pytest

from conftest import ROOT
from runtime.checkpoint import read_metadata
from runtime.cli import main

SPEC = "linear 2->1\nexample [1, 1] -> [2]\nepochs 3\n"
DATA_SPEC = 'linear 2->1\ndata "x.csv"\nepochs 3\n'
CSV = "a,b,y\n1,2,3\n4,5,6\n"
HOT = "linear 1->1\noptimizer sgd lr=100\nexample [1] -> [5]\nepochs 200\n"  # diverges: exit 3
HINT = "nqa never writes over its inputs"


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A folder holding spec.nqa, d.nqa (reading x.csv) and w.safetensors (spec.nqa's weights), as the cwd."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "spec.nqa").write_text(SPEC)
    (tmp_path / "d.nqa").write_text(DATA_SPEC)
    (tmp_path / "x.csv").write_text(CSV)
    assert main(["run", "spec.nqa", "--save", "w.safetensors", "-q"]) == 0
    return tmp_path


def _never_train(*args, **kwargs):
    pytest.fail("trained although an output was refused")


@pytest.fixture
def no_training(monkeypatch):
    import runtime.commands
    import runtime.training

    monkeypatch.setattr(runtime.commands, "train", _never_train)
    monkeypatch.setattr(runtime.training, "train", _never_train)


# --- 1. no output over an input, nor over another output -----------------------------------

OVER = [  # id, argv, the file written over, the message
    ("run --json", ["run", "spec.nqa", "--json", "spec.nqa"], "spec.nqa",
     "--json `spec.nqa` would write over the spec `spec.nqa`"),
    ("run --save", ["run", "spec.nqa", "--save", "./spec.nqa"], "spec.nqa",
     "--save `./spec.nqa` would write over the spec `spec.nqa`"),
    ("run --draw", ["run", "spec.nqa", "--draw", "spec.nqa"], "spec.nqa",
     "--draw `spec.nqa` would write over the spec `spec.nqa`"),
    ("run --plot", ["run", "net.png", "--plot", "net.png"], "net.png",
     "--plot `net.png` would write over the spec `net.png`"),
    ("compile -o", ["compile", "spec.nqa", "-o", "spec.nqa"], "spec.nqa",
     "-o `spec.nqa` would write over the spec `spec.nqa`"),
    ("compile --emit python", ["compile", "spec.nqa", "--emit", "python", "-o", "spec.nqa"], "spec.nqa",
     "-o `spec.nqa` would write over the spec `spec.nqa`"),
    ("draw -o", ["draw", "spec.nqa", "-o", "spec.nqa"], "spec.nqa",
     "-o `spec.nqa` would write over the spec `spec.nqa`"),
    ("export --onnx", ["export", "spec.nqa", "--onnx", "spec.nqa"], "spec.nqa",
     "--onnx `spec.nqa` would write over the spec `spec.nqa`"),
    ("json over data", ["run", "d.nqa", "--json", "x.csv"], "x.csv",
     "--json `x.csv` would write over the data file `x.csv`"),
    ("emit over data", ["compile", "d.nqa", "--emit", "python", "-o", "x.csv"], "x.csv",
     "-o `x.csv` would write over the data file `x.csv`"),
    ("runs --json over data", ["run", "d.nqa", "--runs", "2", "--json", "x.csv"], "x.csv",
     "--json `x.csv` would write over the data file `x.csv`"),
    ("save over load", ["run", "spec.nqa", "--load", "w.safetensors", "--save", "w.safetensors"], "w.safetensors",
     "--save `w.safetensors` would write over the --load file `w.safetensors`"),
    ("draw over weights", ["draw", "spec.nqa", "--weights", "w.safetensors", "-o", "w.safetensors"],
     "w.safetensors", "-o `w.safetensors` would write over the --weights file `w.safetensors`"),
    ("through a link", ["run", "spec.nqa", "--json", "link.json"], "spec.nqa",
     "--json `link.json` would write over the spec `spec.nqa`"),
]


@pytest.mark.parametrize("argv, victim, message", [o[1:] for o in OVER], ids=[o[0] for o in OVER])
def test_an_output_over_an_input_is_refused_before_training(argv, victim, message, folder, no_training, capsys):
    (folder / "net.png").write_text(SPEC)
    (folder / "link.json").symlink_to("spec.nqa")
    before = (folder / victim).read_bytes()
    capsys.readouterr()
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", (f"error[E0905]: {message}\n  = hint: give {message.split()[0]} "
                               f"another file name: {HINT}\n"))
    assert (folder / victim).read_bytes() == before


def test_two_outputs_on_one_file_are_refused(folder, no_training, capsys):
    capsys.readouterr()
    assert main(["run", "spec.nqa", "--save", "out", "--json", "./out"]) == 2
    assert capsys.readouterr().err == ("error[E0905]: --save and --json both write `./out`\n"
                                       "  = hint: give each output its own file name\n")
    assert not (folder / "out").exists()


# --- 2. symbolic links are written through; FIFOs, sockets and loops are refused -------------

def test_an_output_through_a_symlink_replaces_its_target_and_keeps_the_link(folder, capsys):
    (folder / "real.json").write_text("old")
    os.chmod(folder / "real.json", 0o600)
    (folder / "link.json").symlink_to("real.json")
    assert main(["run", "spec.nqa", "--json", "link.json", "-q"]) == 0
    assert (folder / "link.json").is_symlink() and os.readlink(folder / "link.json") == "real.json"
    assert (folder / "real.json").read_text().startswith('{\n  "schema_version": 2,\n  "spec": "spec.nqa"')
    assert stat.S_IMODE((folder / "real.json").stat().st_mode) == 0o600


def test_fmt_through_a_symlink_formats_the_real_spec(folder, capsys):
    (folder / "real.nqa").write_text("linear   2->1\nexample [1,2]->[3]\n")
    (folder / "link.nqa").symlink_to("real.nqa")
    assert main(["fmt", "link.nqa"]) == 0
    assert capsys.readouterr().err == "link.nqa: reformatted\n"
    assert (folder / "link.nqa").is_symlink()
    assert (folder / "real.nqa").read_text() == "linear 2->1\nexample [1, 2] -> [3]\n"


def test_a_dangling_symlink_is_written_where_it_points_when_its_folder_exists(folder, capsys):
    (folder / "new.json").symlink_to("made.json")
    (folder / "lost.json").symlink_to("nowhere/made.json")
    assert main(["run", "spec.nqa", "--json", "new.json", "-q"]) == 0
    assert (folder / "new.json").is_symlink() and (folder / "made.json").read_text().startswith("{")
    assert main(["run", "spec.nqa", "--json", "lost.json", "-q"]) == 2
    assert capsys.readouterr().err == ("error[E0923]: --json: cannot write `lost.json`: it is a symbolic link to "
                                       "`nowhere/made.json`, whose folder does not exist\n")


def _fifo(path):
    os.mkfifo(path)


def _socket(path):
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    return server


def test_outputs_that_are_fifos_sockets_or_loops_are_refused(folder, no_training, capsys):
    _fifo(folder / "pipe")
    server = _socket(folder / "sock")
    (folder / "loop1").symlink_to("loop2")
    (folder / "loop2").symlink_to("loop1")
    cases = [(["run", "spec.nqa", "--json", "pipe"], ("--json: cannot write `pipe`: it is a named pipe (FIFO), and nqa "
               "writes only regular files (use `-` for standard output where the option takes it)")),
             (["draw", "spec.nqa", "-o", "sock"], ("-o: cannot write `sock`: it is a socket, and nqa "
               "writes only regular files (use `-` for standard output where the option takes it)")),
             (["run", "spec.nqa", "--save", "loop1"], "--save: cannot write `loop1`: it is a symbolic link that loops")]
    for argv, message in cases:
        assert main(argv) == 2
        assert capsys.readouterr().err == f"error[E0923]: {message}\n"
    server.close()
    assert stat.S_ISFIFO(os.lstat(folder / "pipe").st_mode) and stat.S_ISSOCK(os.lstat(folder / "sock").st_mode)


# --- 3. --save holds only a finished run's weights ---------------------------------------------

def test_a_diverging_run_keeps_the_saved_weights_and_writes_them_beside(folder, capsys):
    (folder / "hot.nqa").write_text(HOT)
    before = (folder / "w.safetensors").read_bytes()
    assert main(["run", "hot.nqa", "--save", "w.safetensors", "-q"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("nqa: the run did not finish, so `w.safetensors` keeps the weights it held; "
                          "the run's weights so far are in `w.partial.safetensors`\nerror[E0407]: the loss became inf")
    assert (folder / "w.safetensors").read_bytes() == before
    assert read_metadata(folder / "w.partial.safetensors")["nqa_spec"] == HOT


def test_a_diverging_run_never_writes_the_save_path_even_when_it_is_new(folder, capsys):
    (folder / "hot.nqa").write_text(HOT)
    assert main(["run", "hot.nqa", "--save", "model", "-q"]) == 3
    assert capsys.readouterr().err.startswith("nqa: the run did not finish, so nothing was written to `model`; "
                                              "the run's weights so far are in `model.partial.safetensors`\n")
    assert not (folder / "model").exists() and (folder / "model.partial.safetensors").is_file()


def test_an_interrupted_run_keeps_the_saved_weights(folder, monkeypatch, capsys):
    import runtime.commands

    def stop_at_step_2(tick):
        if tick.step == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(runtime.commands, "plain_lines", lambda stream: stop_at_step_2)
    before = (folder / "w.safetensors").read_bytes()
    assert main(["run", "spec.nqa", "--save", "w.safetensors", "--log-every", "1", "-q"]) == 130
    assert "the run's weights so far are in `w.partial.safetensors`" in capsys.readouterr().err
    assert (folder / "w.safetensors").read_bytes() == before
    assert (folder / "w.partial.safetensors").is_file()


def test_partial_weights_never_replace_the_file_the_run_started_from(folder, capsys):
    (folder / "hot.nqa").write_text(HOT)
    assert main(["run", "hot.nqa", "--epochs", "1", "--save", "w.partial.safetensors", "-q"]) == 0
    before = (folder / "w.partial.safetensors").read_bytes()
    assert main(["run", "hot.nqa", "--load", "w.partial.safetensors", "--save", "w.safetensors", "-q"]) == 3
    assert capsys.readouterr().err.startswith(
        "nqa: the run did not finish, so `w.safetensors` keeps the weights it held; the run's weights were "
        "not saved, as `w.partial.safetensors` is the --load file\n")
    assert (folder / "w.partial.safetensors").read_bytes() == before


# --- 4, 8. inputs: loops, FIFOs and devices are refused, reads are bounded -------------------------

def test_a_data_file_that_is_a_looping_symlink_is_a_located_error(folder, capsys):
    (folder / "x.csv").unlink()
    (folder / "x.csv").symlink_to("y.csv")
    (folder / "y.csv").symlink_to("x.csv")
    assert main(["check", "d.nqa"]) == 2
    assert capsys.readouterr().err == (
        "error[E0302]: cannot read `x.csv`: it is a symbolic link that loops\n --> d.nqa:2:6\n  |\n2 | data \"x.csv\"\n"
        "  |      ^^^^^^^ a link that loops\n  = hint: point the link at a .csv file\n")


def _nqa(folder, *argv):
    """Run nqa in a fresh process, which must finish within 30 s (a FIFO must not block it)."""
    code = "import sys; from runtime.cli import main; sys.exit(main(sys.argv[1:]))"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, cwd=folder,
                          env=env, timeout=30)
    return done.returncode, done.stderr


INPUTS = [  # id, argv, the first line of stderr
    ("spec fifo", ["check", "pipe"], "error[E0918]: `pipe` is a named pipe (FIFO), not a regular file"),
    ("spec zero", ["check", "/dev/zero"], "error[E0918]: `/dev/zero` is a character device, not a regular file"),
    ("spec socket", ["check", "sock"], "error[E0918]: `sock` is a socket, not a regular file"),
    ("data fifo", ["check", "pipe-data.nqa"], "error[E0302]: `pipe` is a named pipe (FIFO), not a regular file"),
    ("data zero", ["check", "zero-data.nqa", "--allow-outside-data"],
     "error[E0302]: `/dev/zero` is a character device, not a regular file"),
    ("load fifo", ["run", "spec.nqa", "--load", "pipe"],
     "error[E0908]: `pipe` is a named pipe (FIFO), not a regular file"),
    ("load zero", ["run", "spec.nqa", "--load", "/dev/zero"],
     "error[E0908]: `/dev/zero` is a character device, not a regular file"),
    ("weights fifo", ["draw", "spec.nqa", "--weights", "pipe"],
     "error[E0908]: `pipe` is a named pipe (FIFO), not a regular file"),
    ("fmt fifo", ["fmt", "pipe"], "error[E0918]: `pipe` is a named pipe (FIFO), not a regular file"),
]


@pytest.mark.parametrize("argv, first", [i[1:] for i in INPUTS], ids=[i[0] for i in INPUTS])
def test_an_input_that_is_not_a_regular_file_is_refused_at_once(argv, first, folder):
    _fifo(folder / "pipe")
    server = _socket(folder / "sock")
    (folder / "pipe-data.nqa").write_text('linear 2->1\ndata "pipe"\n')
    (folder / "zero-data.nqa").write_text('linear 2->1\ndata "/dev/zero"\n')
    code, err = _nqa(folder, *argv)
    server.close()
    assert code == 2 and err.split("\n")[0] == first and "Traceback" not in err
    assert stat.S_ISFIFO(os.lstat(folder / "pipe").st_mode)


def test_a_data_file_over_the_row_limit_is_refused_as_soon_as_the_count_passes_it(folder, capsys):
    (folder / "x.csv").write_text("1,2,3\n" * 100_000)
    assert main(["check", "--max-examples", "10", "d.nqa"]) == 2
    assert capsys.readouterr().err == (
        "error[E0602]: `x.csv` has more rows than the limit of 10 (reading stopped at line 13)\n --> d.nqa:2:6\n  |\n"
        "2 | data \"x.csv\"\n  |      ^^^^^^^ too many rows\n"
        "  = hint: use fewer rows, or raise the limit with --max-examples\n")


def test_weights_too_large_for_the_spec_are_refused_unread(folder, capsys):
    with open(folder / "huge.safetensors", "wb") as handle:
        handle.truncate(500_000_000)  # sparse: no disk used
    assert main(["run", "spec.nqa", "--load", "huge.safetensors"]) == 2
    assert capsys.readouterr().err == (
        "error[E0909]: `huge.safetensors` is larger than the weights of this spec can be: they are 3 values, "
        "at most 16,000,012 bytes with their header\n"
        "  = hint: load weights saved from this spec with `nqa run --save`\n")


def test_a_safetensors_header_too_large_is_refused_before_it_is_parsed(folder, capsys):
    (folder / "big-header.safetensors").write_bytes((1 << 30).to_bytes(8, "little") + b"{}")
    assert main(["run", "spec.nqa", "--load", "big-header.safetensors"]) == 2
    assert capsys.readouterr().err.startswith(
        "error[E0908]: `big-header.safetensors` is not a safetensors file "
        "(its header would be 1,073,741,824 bytes, over the limit of 16,000,000)\n")
