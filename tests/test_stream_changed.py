"""A streamed data file changed while a spec trains on it (it is read again every epoch): the run stops
with a located error naming the file (exit code 2, no traceback), and the report so far is written,
marked stopped — never a silent success over other rows than those checked."""

from __future__ import annotations

import json

import pytest

from compiler import Limits
from compiler.limits import parse_size
from runtime import commands, train
from runtime.cli import main
from runtime.progress import plain_lines
from runtime.training import DataStopped, TrainOptions

SMALL = Limits(memory_budget=parse_size("20kB"))  # pieces of 4 kB: the file below is read in about 25
SPEC = "input 2\nlinear 2->1\ndata \"x.csv\" target=y\nloss mse\nepochs 3\nbatch 250\nseed 0\nshuffle\n"
ROWS = "i,k,y\n" + "".join(f"{i / 1000},{i % 7},{i % 3}\n" for i in range(5000))
EDITS = {
    "shortened": lambda path: path.write_text(ROWS[:len(ROWS) // 2]),
    "grown": lambda path: path.write_text(ROWS + "1,2,3\n"),
    "a cell edited in place": lambda path: path.write_bytes(path.read_bytes().replace(b"\n4.0,", b"\n4.x,")),
}


def _editing(path, edit, at_step: int = 3):
    def hook(tick) -> None:
        if tick.step == at_step:
            edit(path)
    return hook


@pytest.mark.parametrize("edit", EDITS)
def test_train_stops_with_the_file_named(tmp_path, edit):
    (tmp_path / "x.csv").write_text(ROWS)
    spec = tmp_path / "s.nqa"
    spec.write_text(SPEC)
    options = TrainOptions(limits=SMALL, progress=_editing(tmp_path / "x.csv", EDITS[edit]), every=1)
    with pytest.raises(DataStopped) as caught:
        train(spec, options=options)
    assert caught.value.message == ("`x.csv` changed since it was checked (its size or modification time "
                                    "differs): a streamed file is read again every epoch, and must stay as it was")
    assert "s.nqa:3:" in str(caught.value)  # the `data` statement, underlined
    stopped = caught.value.run
    assert stopped is not None and (stopped.report.stopped or "").startswith("stopped after 3 steps: `x.csv` changed")
    assert stopped.report.training.steps == 3


def test_the_command_line_exits_2_with_the_report_marked_stopped(tmp_path, capsys, monkeypatch):
    (tmp_path / "x.csv").write_text(ROWS)
    spec = tmp_path / "s.nqa"
    spec.write_text(SPEC)
    edit = _editing(tmp_path / "x.csv", EDITS["shortened"], at_step=4)

    def lines(stream):
        shown = plain_lines(stream)
        return lambda tick: (shown(tick), edit(tick))

    monkeypatch.setattr(commands, "plain_lines", lines)  # the user's edit, made while step 4 is shown
    out = tmp_path / "r.json"
    code = main(["run", str(spec), "--no-log", "--memory-budget", "20kB", "--log-every", "1", "--json", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and "internal error" not in err
    assert "error[E0302]: `x.csv` changed since it was checked" in err
    assert "= hint: leave the data files as they are while a spec trains on them, then run it again" in err
    report = json.loads(out.read_text())
    assert report["stopped"].startswith("stopped after 4 steps: `x.csv` changed since it was checked")
    assert report["training"]["steps"] == 4
