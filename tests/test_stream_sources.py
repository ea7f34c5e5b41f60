"""Sets streamed beyond one CSV file: a glob of CSV files, a Parquet file and a glob of Parquet
files, larger than --memory-budget. Every row trained on once an epoch across the files, the
same seed giving the same losses, `validate` and `normalize` across files, and each file's
problems (its columns, a corrupt cell or file halfway) named with the file and its line or row."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from compiler import Limits, check
from compiler.limits import parse_size
from runtime import train
from runtime.cli import main
from runtime.data import dataset
from spec_lang import SpecError

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

SMALL = Limits(memory_budget=parse_size("20kB"))  # CSV pieces of 4 kB; Parquet pieces of 1.25 kB once read
NET = "input 2\nlinear 2->4\nrelu\nlinear 4->1\nbatch 32\n"


def csv_shards(folder, counts=(1500, 1500, 1500), name="x{}.csv"):
    """Files of rows `i, i mod 7, 2i`, `i` counting on across the files: the first input names the row."""
    (folder / "s").mkdir()
    done = 0
    for n, count in enumerate(counts):
        (folder / "s" / name.format(n)).write_text(
            "i,k,y\n" + "".join(f"{i},{i % 7},{2 * i}\n" for i in range(done, done + count)))
        done += count
    return done


def parquet_shards(folder, counts=(1500, 1500), group=60):
    (folder / "s").mkdir()
    done = 0
    for n, count in enumerate(counts):
        i = np.arange(done, done + count, dtype=np.float64)
        pq.write_table(pa.table({"i": i, "k": i % 7, "y": 2 * i}), folder / "s" / f"x{n}.parquet",
                       row_group_size=group)
        done += count
    return done


def spec(folder, data, extra=""):
    path = folder / "s.nqa"
    path.write_text(NET + f'data "{data}"\n' + extra)
    return path


def streamed(path, limits=SMALL) -> bool:
    table = check(path, limits=limits).table
    return table is not None and table.streamed


def rows_of(path, seed=0, limits=SMALL, held=False):
    program = check(path, limits=limits)
    data = dataset(program.spec, seed, program.table, limits.memory_budget)
    batches = data.held_batches() if held else data.batches()
    return program.table, [int(x[0]) for inputs, _ in batches for x in inputs]


def refusal(path, limits=SMALL) -> str:
    with pytest.raises(SpecError) as caught:
        check(path, limits=limits, require_data=True)
    [diagnostic] = caught.value.diagnostics
    return f"{diagnostic.code}: {diagnostic.message}"


@pytest.mark.parametrize("make, data", [(csv_shards, "s/*.csv"), (parquet_shards, "s/*.parquet")])
def test_every_row_of_every_file_once_an_epoch_in_a_seeded_order(tmp_path, make, data):
    total = make(tmp_path)
    path = spec(tmp_path, data, "shuffle buffer=100\n")
    table, first = rows_of(path)
    assert table.streamed and table.rows == total and len({p.file for p in table.pieces}) == len(table.files) > 1
    assert sorted(first) == list(range(total)) and first != list(range(total))
    assert rows_of(path)[1] == first and rows_of(path, seed=1)[1] != first
    assert not streamed(path, Limits())  # the default budget reads them whole


def test_a_parquet_row_group_larger_than_a_piece_is_read_in_slices(tmp_path):
    total = parquet_shards(tmp_path, counts=(3000,), group=100)
    table, order = rows_of(spec(tmp_path, "s/x0.parquet"))
    assert [p.rows for p in table.pieces if p.group == 0] == [10] * 10  # 1.25 kB / (5 x 24 bytes a row)
    assert len(table.pieces) == 30 * 10 and sorted(order) == list(range(total))


def test_a_parquet_row_group_too_large_for_the_budget_is_refused_naming_it(tmp_path):
    parquet_shards(tmp_path, counts=(1000, 3000), group=1000)
    (tmp_path / "s" / "x0.parquet").unlink()
    assert refusal(spec(tmp_path, "s/*.parquet")) == (
        "E0337: `s/x1.parquet` row group 1 (rows 1 to 1,000) holds 30.1 kB in the columns read, more than the "
        "quarter of the memory budget (20.0 kB) that a piece of a streamed set may take: a row group's pages are "
        "read whole")


def test_a_parquet_file_over_max_data_bytes_is_streamed(tmp_path):
    parquet_shards(tmp_path, counts=(500,))
    table: Any = check(spec(tmp_path, "s/x0.parquet"), limits=Limits(max_data_bytes=1000)).table
    assert table.streamed and table.rows == 500


def test_a_problem_in_the_middle_of_the_second_csv_file_names_it_and_its_line(tmp_path):
    csv_shards(tmp_path)
    second = tmp_path / "s" / "x1.csv"
    lines = second.read_text().splitlines()
    lines[900] = "1600,oops,3200"
    second.write_text("\n".join(lines) + "\n")
    assert refusal(spec(tmp_path, "s/*.csv")) == "E0311: `s/x1.csv` line 901, column `k`: `oops` is not a finite number"


def test_columns_that_differ_between_streamed_files_are_named(tmp_path):
    csv_shards(tmp_path)
    third = tmp_path / "s" / "x2.csv"
    third.write_text(third.read_text().replace("i,k,y", "i,q,y", 1))
    assert refusal(spec(tmp_path, "s/*.csv")) == (
        "E0329: `s/x2.csv` has column `q` where `s/x0.csv` has `k` (column 2)")


def test_parquet_files_whose_columns_differ_are_named(tmp_path):
    parquet_shards(tmp_path)
    pq.write_table(pa.table({"i": [1.0] * 900, "z": [1.0] * 900, "y": [1.0] * 900}), tmp_path / "s" / "x2.parquet",
                   row_group_size=60)
    assert refusal(spec(tmp_path, "s/*.parquet")) == (
        "E0329: `s/x2.parquet` has column `z` where `s/x0.parquet` has `k` (column 2)")


def test_a_parquet_file_corrupt_halfway_is_named_with_its_row_group(tmp_path):
    parquet_shards(tmp_path, counts=(1500, 1500, 1500))
    second = tmp_path / "s" / "x1.parquet"
    raw = bytearray(second.read_bytes())
    meta = pq.ParquetFile(second).metadata.row_group(2).column(1)
    at = meta.data_page_offset + 20
    raw[at:at + 200] = b"\xff" * 200
    second.write_bytes(bytes(raw))
    text = refusal(spec(tmp_path, "s/*.parquet"))
    assert text.startswith("E0302: cannot read `s/x1.parquet` row group 3 (rows 121 to 180): "), text


def test_a_missing_cell_of_a_parquet_file_is_named_by_its_row(tmp_path):
    parquet_shards(tmp_path)
    k: list[float | None] = [float(n % 7) for n in range(1500)]
    k[1234] = None
    pq.write_table(pa.table({"i": [1.0] * 1500, "k": k, "y": [1.0] * 1500}), tmp_path / "s" / "x1.parquet",
                   row_group_size=60)
    assert refusal(spec(tmp_path, "s/*.parquet")) == "E0311: `s/x1.parquet` row 1,235, column `k` is empty (null)"


@pytest.mark.parametrize("make, data", [(csv_shards, "s/*.csv"), (parquet_shards, "s/*.parquet")])
def test_validate_holds_out_the_same_rows_of_every_file(tmp_path, make, data):
    total = make(tmp_path)
    path = spec(tmp_path, data, "shuffle\nvalidate 0.1\n")
    table, held = rows_of(path, held=True)
    _, trained = rows_of(path)
    assert sorted(held + trained) == list(range(total))
    assert {n // 1500 for n in held} == set(range(len(table.files)))  # from every file
    assert rows_of(path, held=True)[1] == held


def test_normalize_takes_every_file_s_training_rows(tmp_path):
    total = csv_shards(tmp_path)
    path = tmp_path / "s.nqa"
    path.write_text(NET + 'data "s/*.csv" normalize=standard\n')
    program = check(path, limits=SMALL)
    data = dataset(program.spec, 0, program.table, SMALL.memory_budget)
    i = np.arange(total, dtype=np.float64)
    assert data.normalization is not None
    assert data.normalization.shift.tolist() == pytest.approx([i.mean(), (i % 7).mean()])
    assert data.normalization.scale.tolist() == pytest.approx([i.std(), (i % 7).std()])


def test_text_labels_in_a_streamed_parquet_file_are_refused(tmp_path):
    (tmp_path / "s").mkdir()
    pq.write_table(pa.table({"a": [0.5] * 900, "b": [0.5] * 900, "y": ["cat", "dog"] * 450}),
                   tmp_path / "s" / "x.parquet", row_group_size=30)
    path = tmp_path / "s.nqa"
    path.write_text('input 2\nlinear 2->2\nloss cross_entropy\nbatch 32\ndata "s/x.parquet"\n')
    assert refusal(path, Limits(memory_budget=parse_size("5kB"))).startswith(
        "E0336: `s/x.parquet` holds text class labels such as `cat`")


@pytest.mark.parametrize("make, data", [(csv_shards, "s/*.csv"), (parquet_shards, "s/*.parquet")])
def test_the_same_seed_gives_the_same_losses_and_the_report_names_the_files(tmp_path, capsys, make, data):
    make(tmp_path)
    path = spec(tmp_path, data, "shuffle buffer=100\nvalidate 0.1\nepochs 2\n")
    first, second = (train(path, limits=SMALL).report for _ in range(2))
    assert first.losses == second.losses and first.streamed.files == (3 if data.endswith("csv") else 2)
    assert main(["run", "--memory-budget", "20kB", "--no-log", "--json", str(tmp_path / "r.json"), str(path)]) == 0
    [line] = [line for line in capsys.readouterr().out.splitlines() if line.startswith("data ")]
    streamed = json.loads((tmp_path / "r.json").read_text())["streamed"]
    rows = streamed["rows"]
    assert line.startswith(f"data       streamed: {rows:,} rows from {streamed['files']} files, "
                           f"{streamed['held_out']:,} held out in {streamed['pieces']} pieces")


def test_a_piece_the_fast_reader_doubts_is_read_cell_by_cell_to_the_same_rows(tmp_path):
    total = csv_shards(tmp_path)
    second = tmp_path / "s" / "x1.csv"
    lines = second.read_text().splitlines()
    second.write_text("\n".join(lines[:700] + [",".join(f'"{c}"' for c in line.split(",")) for line in lines[700:]])
                      + "\n")  # quoted cells from line 701: the fast reader leaves those pieces to the careful one
    table, order = rows_of(spec(tmp_path, "s/*.csv"))
    assert table.streamed and sorted(order) == list(range(total))


def test_text_labels_in_the_second_of_streamed_csv_files_are_refused_naming_it(tmp_path):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "a.csv").write_text("a,b,y\n" + "0.5,0.5,1\n0.25,0.5,0\n" * 400)
    (tmp_path / "s" / "b.csv").write_text("a,b,y\n" + "0.5,0.5,dog\n0.25,0.5,cat\n" * 400)
    path = tmp_path / "s.nqa"
    path.write_text('input 2\nlinear 2->2\nloss cross_entropy\nbatch 32\ndata "s/*.csv"\n')
    assert refusal(path) == ("E0336: `s/b.csv` holds text class labels such as `cat`, which a streamed file "
                             "cannot have")


def test_predict_on_a_shard_over_the_budget_is_refused_naming_it_and_a_glob_still_trains(tmp_path, capsys):
    csv_shards(tmp_path)  # each file alone is over the budget: streamed to train, refused to predict
    path = spec(tmp_path, "s/*.csv", "loss mse\nepochs 1\nseed 0\n")
    weights = tmp_path / "w.safetensors"
    assert main(["run", "--memory-budget", "20kB", "--no-log", "-q", "--save", str(weights), str(path)]) == 0
    capsys.readouterr()
    assert main(["predict", str(path), "--load", str(weights), "--memory-budget", "20kB",
                 "--data", str(tmp_path / "s" / "x1.csv"), "-o", str(tmp_path / "p.csv")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and not (tmp_path / "p.csv").exists()
    assert "error[E0614]: `" in err and "x1.csv` (" in err
    assert ("over the memory budget of 20.0 kB: the rows of `test`, `predict` and `evaluate` are read whole, "
            "not streamed") in err
