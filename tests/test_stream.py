"""A data file larger than --memory-budget, streamed: what `check` finds in it, the batches
training gets (every row once an epoch, the held-out rows the same each time), the report,
and what streaming refuses."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import torch

from compiler import Limits, check
from compiler.limits import parse_size
from runtime import train
from runtime.cli import main
from runtime.data import dataset
from runtime.training import TrainOptions
from spec_lang import SpecError

SMALL = Limits(memory_budget=parse_size("20kB"))  # pieces of 4 kB: a file of 5,000 rows is read in about 25
NET = "input 2\nlinear 2->4\nrelu\nlinear 4->1\nbatch 32\n"


def rows_csv(count: int = 5000) -> str:
    """A header, then rows `i, i mod 7, 2i`: the first input names the row."""
    return "i,k,y\n" + "".join(f"{i},{i % 7},{2 * i}\n" for i in range(count))


def write(folder, spec: str, csv: str, name: str = "x.csv"):
    (folder / name).write_text(csv)
    path = folder / "s.nqa"
    path.write_text(spec)
    return path


def streamed(path, limits=SMALL) -> Any:
    """The table `check` reads: a `StreamedTable` when the file is streamed."""
    return check(path, limits=limits).table


def errors(path, limits=SMALL):
    with pytest.raises(SpecError) as caught:
        check(path, limits=limits, require_data=True)
    return caught.value.diagnostics


def test_a_file_larger_than_the_budget_is_streamed_and_checked_whole(tmp_path):
    table = streamed(write(tmp_path, NET + 'data "x.csv"\n', rows_csv()))
    assert table.streamed and table.rows == 5000 and len(table.pieces) > 10
    assert sum(p.rows for p in table.pieces) == 5000 and table.input_names == ("i", "k")
    assert not streamed(tmp_path / "s.nqa", Limits()).streamed  # the default budget reads it whole


def test_a_file_over_max_data_bytes_is_streamed_not_refused(tmp_path):
    path = write(tmp_path, NET + 'data "x.csv"\n', rows_csv())
    assert streamed(path, Limits(max_data_bytes=1000)).streamed


@pytest.mark.parametrize("line", [2, 1234, 2500, 4999])
def test_an_error_in_the_middle_names_the_line_of_the_whole_file(tmp_path, line):
    lines = rows_csv().splitlines(keepends=True)
    lines[line - 1] = "7,x7,3\n"
    path = write(tmp_path, NET + 'data "x.csv"\n', "".join(lines))
    [streamed] = errors(path)
    [whole] = errors(path, Limits())
    assert streamed.message == whole.message == f"`x.csv` line {line}, column `k`: `x7` is not a finite number"


def test_a_short_row_at_the_start_of_a_piece_names_its_line(tmp_path):
    path = write(tmp_path, NET + 'data "x.csv"\n', rows_csv())
    third = streamed(path).pieces[3].first_line
    lines = rows_csv().splitlines(keepends=True)
    lines[third - 1] = "1,2\n"
    path = write(tmp_path, NET + 'data "x.csv"\n', "".join(lines))
    [d] = errors(path)
    assert d.message == f"`x.csv` line {third} has 2 columns, but the file has 3"


def test_every_training_row_once_an_epoch_and_the_same_held_out_rows(tmp_path):
    path = write(tmp_path, NET + 'data "x.csv"\nshuffle buffer=100\nvalidate 0.2\n', rows_csv())
    program = check(path, limits=SMALL)
    data = dataset(program.spec, 5, program.table, SMALL.memory_budget)
    held = sorted(int(x[0]) for inputs, _ in data.held_batches() for x in inputs)
    assert 800 < len(held) < 1200 and data.held_rows == len(held)
    orders = []
    for _ in range(2):
        batches = list(data.batches())
        assert len(batches) == data.batches_per_epoch() == -(-data.size // 32)
        assert all(len(b[0]) == 32 for b in batches[:-1])
        seen = [int(x[0]) for inputs, _ in batches for x in inputs]
        assert sorted(seen + held) == list(range(5000))  # each row once, trained on or held out
        pairs = [(x, t) for inputs, targets in batches for x, t in zip(inputs, targets, strict=True)]
        assert all(float(t) == 2 * int(x[0]) for x, t in pairs)  # each row's target came with it
        orders.append(seen)
        assert sorted(int(x[0]) for inputs, _ in data.held_batches() for x in inputs) == held
    assert orders[0] != orders[1] and orders[0] != sorted(orders[0])  # shuffled, differently each epoch
    again = dataset(program.spec, 5, program.table, SMALL.memory_budget)
    assert [int(x[0]) for inputs, _ in again.batches() for x in inputs] == orders[0]
    other = dataset(program.spec, 6, program.table, SMALL.memory_budget)
    assert sorted(int(x[0]) for inputs, _ in other.held_batches() for x in inputs) != held


def test_without_shuffle_the_rows_come_in_the_file_order(tmp_path):
    program = check(write(tmp_path, NET + 'data "x.csv"\n', rows_csv()), limits=SMALL)
    data = dataset(program.spec, 0, program.table, SMALL.memory_budget)
    assert [int(x[0]) for inputs, _ in data.batches() for x in inputs] == list(range(5000))


def test_the_same_seed_gives_the_same_losses_and_the_report_says_it_streamed(tmp_path):
    csv = "a,b,y\n" + "".join(f"{i % 10 / 10},{i % 3 / 3},{(i % 10 + i % 3) / 10}\n" for i in range(3000))
    path = write(tmp_path, NET + 'data "x.csv"\nshuffle\nvalidate 0.1\nepochs 2\n', csv)
    first, second = (train(path, limits=SMALL).report for _ in range(2))
    assert first.losses == second.losses and first.validation.losses == second.validation.losses
    assert train(path, seed=1, limits=SMALL).report.losses != first.losses
    assert first.streamed.rows == 3000 and first.streamed.trained + first.streamed.held_out == 3000
    assert first.training.examples == first.streamed.trained
    assert "streamed" not in json.loads(train(path).report.model_dump_json())


def test_the_command_line_reports_a_streamed_run(tmp_path, capsys):
    path = write(tmp_path, NET + 'data "x.csv"\nshuffle buffer=100\nepochs 1\n', rows_csv(2000))
    assert main(["run", "--memory-budget", "20kB", "--no-log", "--json", str(tmp_path / "r.json"), str(path)]) == 0
    out = capsys.readouterr().out
    [line] = [line for line in out.splitlines() if line.startswith("data ")]
    pieces = json.loads((tmp_path / "r.json").read_text())["streamed"]["pieces"]
    assert line == (f"data       streamed: 2,000 rows in {pieces} pieces of up to 4.1 kB, buffer 100 rows "
                    "(memory budget 20.0 kB)")


@pytest.mark.parametrize("spec, csv, code, message", [
    ("input 2\nlinear 2->1\n", None, "E0335",
     "`x.csv` is streamed, so it is trained on in batches, but no `batch` size is given"),
    (NET + "example [1, 2] -> [3]\n", None, "E0614", "`example` rows cannot be trained on with a streamed data file"),
    ("input 2\nlinear 2->3\nloss cross_entropy\nbatch 8\n", "a,b,y\n" + "1,2,cat\n" * 2000, "E0336",
     "`x.csv` holds text class labels such as `cat`, which a streamed file cannot have"),
    (NET, "a,b,y\n" + "1,2,3\n" * 680 + '1,"2' + "\n" * 20 + '",3\n' + "1,2,3\n" * 2000, "E0338",
     "`x.csv` line 682 has a quoted cell holding a line break, which a streamed file cannot have"),
    ("input 2\nlinear 2->1\nbatch 2000\n", None, "E0613",
     "a batch of 2,000 rows holds 24.0 kB, more than the quarter of the memory budget (20.0 kB)"),
])
def test_what_streaming_cannot_do_is_refused_where_it_is_written(tmp_path, spec, csv, code, message):
    path = write(tmp_path, spec + 'data "x.csv"\n', csv or rows_csv())
    d = errors(path)[0]
    assert d.code == code and d.message.startswith(message)


def test_a_sweep_runs_and_checkpoints_refuse_a_streamed_file(tmp_path, capsys):
    path = write(tmp_path, NET.replace("batch 32", "batch choice(16, 32)") + 'data "x.csv"\n', rows_csv())
    assert errors(path)[0].code == "E0614"
    path = write(tmp_path, NET + 'data "x.csv"\n', rows_csv())
    for extra in (["--runs", "2"], ["--checkpoint-every", "1"]):
        assert main(["run", "--memory-budget", "20kB", "--no-log", *extra, str(path)]) == 2
        err = capsys.readouterr().err
        assert "error[E0614]" in err and "which is streamed" in err and "Traceback" not in err
    with pytest.raises(SpecError):
        train(path, options=TrainOptions(limits=SMALL, checkpoint_every=1, checkpoint_dir=tmp_path / "c"))


def test_a_shuffle_buffer_on_data_read_whole_is_a_warning(tmp_path):
    program = check(write(tmp_path, NET + 'data "x.csv"\nshuffle buffer=10\n', rows_csv(100)))
    assert [w.code for w in program.warnings] == ["W0012"]
    assert not check(write(tmp_path, NET + 'data "x.csv"\nshuffle buffer=10\n', rows_csv()), limits=SMALL).warnings


def test_sizes_are_read_in_decimal_and_binary_units(capsys, tmp_path):
    assert [parse_size(t) for t in ("1000", "500MB", "2GiB", "1.5kB", "3 mib")] == [
        1000, 500_000_000, 2 * 2**30, 1500, 3 * 2**20]
    assert Limits(memory_budget="1MB").memory_budget == 10**6  # type: ignore[arg-type]  # a str is read as a size
    with pytest.raises(SystemExit):
        main(["check", "--memory-budget", "lots", str(tmp_path / "s.nqa")])
    assert "expected a size such as 500MB or 2GiB, not 'lots'" in capsys.readouterr().err


def test_a_streamed_run_learns(tmp_path):
    csv = "a,b,y\n" + "".join(f"{i % 10 / 10},{i % 3 / 3},{(i % 10 / 10 + i % 3 / 3)}\n" for i in range(3000))
    path = write(tmp_path, 'input 2\nlinear 2->1\nbatch 16\nshuffle\noptimizer adam lr=0.05\nepochs 5\ndata "x.csv"\n',
                 csv)
    report = train(path, limits=SMALL).report
    assert report.epoch_losses[-1] < report.epoch_losses[0] / 10
    assert torch.allclose(report.parameters.final["0.weight"].flatten(), torch.tensor([1.0, 1.0]),
                          atol=0.05)


def test_the_streaming_example_of_the_language_doc_streams(tmp_path):
    text = (Path(__file__).resolve().parent.parent / "docs/language.md").read_text(encoding="utf-8")
    section = text.split("#### Larger than memory: streaming")[1]
    [block] = re.findall(r"```nqa\n(.*?)```", section.split("####")[0], flags=re.S)
    csv = "".join(",".join(str((i * j) % 10) for j in range(21)) + "\n" for i in range(3000))
    path = write(tmp_path, "input 20\nlinear 20->1\n" + block, csv, "big.csv")
    limits = Limits(max_data_bytes=10_000, memory_budget=parse_size("2GB"))  # over 10 kB: streamed
    assert streamed(path, limits).streamed
    report = train(path, epochs=1, limits=limits).report
    assert report.streamed is not None and report.streamed.buffer == 100_000 and report.streamed.rows == 3000


@pytest.mark.parametrize("method", ["standard", "minmax"])
def test_normalize_takes_the_training_rows_statistics_in_a_first_pass(tmp_path, method):
    csv = "a,b,y\n" + "".join(f"{(i * 37) % 101 / 7},{i % 5 or 1},{i % 3}\n" for i in range(4000))
    path = write(tmp_path, NET + f'data "x.csv" normalize={method}\n', csv)
    program = check(path, limits=SMALL)
    data = dataset(program.spec, 0, program.table, SMALL.memory_budget)
    whole = dataset(program.spec, 0, check(path).table)  # the same rows read whole (no `validate`: all rows)
    ours, theirs = data.normalization, whole.normalization
    assert ours is not None and theirs is not None and ours.rows == theirs.rows == 4000
    assert torch.allclose(ours.shift, theirs.shift, rtol=1e-12, atol=0)
    assert torch.allclose(ours.scale, theirs.scale, rtol=1e-12, atol=0)
    scaled = torch.cat([inputs for inputs, _ in data.batches()])
    assert torch.allclose(scaled, whole.inputs, atol=1e-6)  # every piece scaled as the rows read whole are
    assert train(path, epochs=1, limits=SMALL).report.normalization.rows == 4000


def test_a_test_file_or_data_to_evaluate_over_the_budget_is_refused_not_read(tmp_path, capsys):
    (tmp_path / "t.csv").write_text(rows_csv())
    path = write(tmp_path, NET + 'data "x.csv"\ntest "t.csv"\n', rows_csv(100))
    [d] = errors(path)
    assert d.code == "E0614" and d.message.startswith("`t.csv` (") and d.message.endswith(
        "over the memory budget of 20.0 kB: the rows of `test`, `predict` and `evaluate` are read whole, not streamed")
    path = write(tmp_path, NET + 'data "x.csv"\n', rows_csv(100))
    assert main(["run", "--no-log", "-q", "--save", str(tmp_path / "w.safetensors"), str(path)]) == 0
    assert main(["evaluate", "--memory-budget", "20kB", str(path), "--load", str(tmp_path / "w.safetensors"),
                 "--data", str(tmp_path / "t.csv")]) == 2
    assert "error[E0614]" in capsys.readouterr().err


@pytest.mark.parametrize("spec, target, wrong", [
    ("input 2\nlinear 2->3\nloss cross_entropy\nbatch 8\n", lambda i: str(i % 3), "7"),  # few distinct values
    ("input 2\nlinear 2->1\nsigmoid\nloss bce\nbatch 8\n", lambda i: f"{i / 5000:.6f}", "1.5"),  # many: the extremes
])
def test_a_target_the_loss_refuses_is_found_at_its_row(tmp_path, spec, target, wrong):
    rows = [f"{i % 10},{i % 7},{target(i)}\n" for i in range(5000)]
    rows[3210] = f"1,2,{wrong}\n"
    path = write(tmp_path, spec + 'data "x.csv"\n', "a,b,y\n" + "".join(rows))
    [streamed] = errors(path)
    [whole] = errors(path, Limits())
    assert streamed.code == whole.code
    assert streamed.message == whole.message and streamed.message.startswith("`x.csv` row 3211: ")
