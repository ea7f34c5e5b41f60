"""`data "shards/*.csv"` and `data "shards/*.parquet"`: a set of files, sorted by path, read as one.
Training on three CSV shards gives the same losses, bit for bit, as the same rows in one file (and
Parquet shards as CSV ones); text labels are the union over every shard; and the hostile cases —
a glob matching nothing, shards whose columns differ, a shard broken halfway or empty, mixed
formats, a folder among the matches, `../*.csv`, `**`, a link out of the folder, too many
files, too many bytes or rows in total — are located messages naming the file."""

from __future__ import annotations

import io
import os

import pytest

from compiler import Limits, check
from data_writing import files, table
from runtime import train
from spec_lang import SpecError

NET = "linear 2->4\nrelu\nlinear ->1\noptimizer sgd lr=0.05\nepochs 4\nbatch 3\nshuffle\nvalidate 0.25\n"
ROWS = [(0.1, 1.0, 0.2), (-2.5, 0.5, 1.5), (3.0, -1.25, -0.5), (0.75, 2.0, 0.8), (1e-3, 0.0, 0.0),
        (2.0, -0.3, 1.1), (0.4, 0.4, 0.3), (-1.0, 1.5, 0.9)]


def csv(rows, header="a,b,y") -> str:
    return header + "\n" + "".join(",".join(repr(v) for v in row) + "\n" for row in rows)




def refusal(path, limits: Limits | None = None, allow_outside: bool = False) -> str:
    with pytest.raises(SpecError) as caught:
        check(path, limits=limits or Limits(), allow_outside=allow_outside)
    return caught.value.render(filename="s.nqa")


def test_three_csv_shards_train_bit_for_bit_as_one_file(tmp_path):
    shards = files(tmp_path, NET + 'data "shards/*.csv"\n', **{
        "shards/p2.csv": csv(ROWS[3:5]), "shards/p1.csv": csv(ROWS[:3]), "shards/p3.csv": csv(ROWS[5:])})
    one = files(tmp_path / "one", NET + 'data "all.csv"\n', **{"all.csv": csv(ROWS)})
    assert table(shards).rows == 8
    from_shards, from_one = train(shards).report, train(one).report
    assert len(from_one.losses) == 8 and list(from_shards.losses) == list(from_one.losses)
    assert from_shards.validation is not None and from_shards.validation == from_one.validation


def test_parquet_shards_train_bit_for_bit_as_csv_shards(tmp_path):
    pa = pytest.importorskip("pyarrow", reason="Parquet files need pyarrow (the extra `parquet`)")
    import pyarrow.parquet as pq

    def parquet(rows) -> bytes:
        out = io.BytesIO()
        pq.write_table(pa.table({n: [r[i] for r in rows] for i, n in enumerate("aby")}), out)
        return out.getvalue()

    shards = files(tmp_path, NET + 'data "shards/*.parquet"\n', **{
        "shards/p1.parquet": parquet(ROWS[:3]), "shards/p2.parquet": parquet(ROWS[3:])})
    one = files(tmp_path / "one", NET + 'data "all.csv"\n', **{"all.csv": csv(ROWS)})
    assert list(train(shards).report.losses) == list(train(one).report.losses)


def test_files_are_taken_in_the_order_of_their_paths(tmp_path):
    path = files(tmp_path, 'linear 2->1\ndata "s/*/part-?.csv"\n', **{
        "s/b/part-1.csv": csv(ROWS[2:3]), "s/a/part-2.csv": csv(ROWS[1:2]), "s/a/part-1.csv": csv(ROWS[:1])})
    assert list(table(path).targets) == [0.2, 1.5, -0.5]


def test_text_labels_are_the_union_over_every_shard_sorted(tmp_path):
    spec = 'linear 1->3\nloss cross_entropy\ndata "shards/*.csv"\n'
    path = files(tmp_path, spec, **{"shards/1.csv": "x,kind\n1,dog\n2,cat\n", "shards/2.csv": "x,kind\n3,ant\n4,dog\n"})
    read = table(path)
    assert read.classes == ("ant", "cat", "dog") and list(read.targets) == [2, 1, 0, 2]


def test_text_labels_in_one_shard_and_numbers_in_another_are_refused(tmp_path):
    spec = 'linear 1->3\nloss cross_entropy\ndata "shards/*.csv"\n'
    path = files(tmp_path, spec, **{"shards/1.csv": "x,kind\n1,dog\n", "shards/2.csv": "x,kind\n3,1\n"})
    assert refusal(path).startswith("error[E0316]: the target column of `shards/1.csv` holds text labels, but that "
                                    "of `shards/2.csv` holds numbers\n --> s.nqa:3:6\n")


def test_a_glob_that_matches_nothing_says_where_it_looked(tmp_path):
    path = files(tmp_path, 'linear 2->1\ndata "shards/*.csv"\n')
    assert refusal(path).endswith("= hint: there is no folder `shards` beside the spec")
    (tmp_path / "shards").mkdir()
    text = refusal(path)
    assert text == """\
error[E0328]: `shards/*.csv` matches no file
 --> s.nqa:2:6
  |
2 | data "shards/*.csv"
  |      ^^^^^^^^^^^^^^ no file matches
  = hint: it looked in `shards`: check the name and the ending"""


@pytest.mark.parametrize("second, message", [
    ("a,c,y\n1,2,3\n", "`shards/2.csv` has column `c` where `shards/1.csv` has `b` (column 2)"),
    ("a,b\n1,2\n", "`shards/2.csv` has 2 columns, but the network takes 2 inputs"),
    ("a,b,y,z\n1,2,3,4\n", "`shards/2.csv` has a column `z` that `shards/1.csv` does not have (column 4)"),
], ids=["renamed", "missing", "extra"])
def test_shards_whose_columns_differ_name_the_file_and_the_column(tmp_path, second, message):
    path = files(tmp_path, 'linear 2->1\ndata "shards/*.csv"\n',
                 **{"shards/1.csv": "a,b,y\n1,2,3\n", "shards/2.csv": second})
    text = refusal(path)
    assert message in text.splitlines()[0] and "\n --> s.nqa:2:6\n" in text, text


def test_parquet_shards_compare_every_column(tmp_path):
    pa = pytest.importorskip("pyarrow", reason="Parquet files need pyarrow (the extra `parquet`)")
    import pyarrow.parquet as pq

    for name, columns in (("1", {"a": [1.0], "b": [2.0], "y": [0.0]}), ("2", {"a": [1.0], "y": [0.0], "b": [2.0]})):
        (tmp_path / "p").mkdir(exist_ok=True)
        pq.write_table(pa.table(columns), tmp_path / "p" / f"{name}.parquet")
    text = refusal(files(tmp_path, 'linear 2->1\ndata "p/*.parquet" target=y\n'))
    assert text.startswith("error[E0329]: `p/2.parquet` has column `y` where `p/1.parquet` has `b` (column 2)\n"), text
    assert "= hint: give every file the same columns, in the same order" in text


def test_a_shard_broken_halfway_is_named_with_its_line(tmp_path):
    broken = "a,b,y\n" + "1,2,3\n" * 50 + "1,oops,3\n" + "1,2,3\n" * 50
    path = files(tmp_path, 'linear 2->1\ndata "shards/*.csv"\n',
                 **{"shards/1.csv": csv(ROWS), "shards/2.csv": broken, "shards/3.csv": csv(ROWS)})
    assert refusal(path).startswith("error[E0311]: `shards/2.csv` line 52, column `b`: `oops` is not a finite number\n"
                                    " --> s.nqa:2:6\n")


def test_an_empty_shard_is_named(tmp_path):
    path = files(tmp_path, 'linear 2->1\ndata "shards/*.csv"\n', **{"shards/1.csv": csv(ROWS), "shards/2.csv": ""})
    assert refusal(path).startswith("error[E0304]: `shards/2.csv` is empty\n --> s.nqa:2:6\n")


def test_mixed_formats_are_refused(tmp_path):
    path = files(tmp_path, 'linear 2->1\ndata "shards/*"\n', **{"shards/1.csv": csv(ROWS), "shards/2.parquet": b"x"})
    text = refusal(path)
    assert text.startswith("error[E0330]: `shards/*` matches files of different formats: `shards/1.csv` and "
                           "`shards/2.parquet`\n"), text
    assert "= hint: gather files of one format: name the ending, e.g. `shards/*.csv`" in text


def test_a_glob_of_npz_files_is_refused(tmp_path):
    path = files(tmp_path, 'linear 2->1\ndata "*.npz"\n', **{"1.npz": b"PK", "2.npz": b"PK"})
    assert refusal(path).startswith("error[E0330]: `*.npz` matches .npz files, but a glob gathers CSV or Parquet files")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are a POSIX thing")
def test_a_folder_or_a_pipe_among_the_matches_is_named(tmp_path):
    path = files(tmp_path, 'linear 2->1\ndata "shards/*.csv"\n', **{"shards/1.csv": csv(ROWS)})
    (tmp_path / "shards/2.csv").mkdir()
    assert refusal(path).startswith("error[E0302]: `shards/2.csv` is a folder, not a data file\n --> s.nqa:2:6\n")
    (tmp_path / "shards/2.csv").rmdir()
    os.mkfifo(tmp_path / "shards/2.csv")
    assert refusal(path).startswith("error[E0302]: `shards/2.csv` is a named pipe (FIFO), not a data file\n")


def test_a_glob_reaching_out_of_the_folder_is_refused_before_it_is_searched(tmp_path):
    (tmp_path / "secret.csv").write_text(csv(ROWS))
    path = files(tmp_path / "spec", 'linear 2->1\ndata "../*.csv"\n')
    text = refusal(path)
    assert text.startswith("error[E0303]: `../*.csv` is outside the spec's folder\n --> s.nqa:2:6\n"), text
    assert table(path, allow_outside=True).rows == 8


def test_a_symlinked_shard_pointing_outside_is_refused(tmp_path):
    (tmp_path / "secret.csv").write_text(csv(ROWS))
    path = files(tmp_path / "spec", 'linear 2->1\ndata "shards/*.csv"\n', **{"shards/1.csv": csv(ROWS)})
    (tmp_path / "spec/shards/2.csv").symlink_to(tmp_path / "secret.csv")
    assert refusal(path).startswith("error[E0303]: `shards/2.csv` is outside the spec's folder\n --> s.nqa:2:6\n")


def test_double_star_is_refused(tmp_path):
    path = files(tmp_path, 'linear 2->1\ndata "shards/**/*.csv"\n', **{"shards/a/1.csv": csv(ROWS)})
    assert refusal(path) == """\
error[E0331]: `shards/**/*.csv` uses `**`, which would search folders at any depth
 --> s.nqa:2:6
  |
2 | data "shards/**/*.csv"
  |      ^^^^^^^^^^^^^^^^^ `**`
  = hint: name each level of folders: `shards/*.csv`, or `shards/*/*.csv`"""


def test_the_files_are_counted_against_the_row_limit_as_they_are_listed(tmp_path):
    path = files(tmp_path, 'linear 2->1\ndata "shards/*.csv"\n',
                 **{f"shards/{i:03}.csv": "1,2,3\n" for i in range(30)})
    text = refusal(path, Limits(max_examples=20))
    assert text.startswith("error[E0602]: `shards/*.csv` matches more than 20 files, over the limit of 20 rows "
                           "(each file holds at least one)\n"), text


def test_limits_hold_for_the_files_together(tmp_path):
    path = files(tmp_path, 'linear 2->1\ndata "shards/*.csv"\n', **{f"shards/{i}.csv": csv(ROWS) for i in range(3)})
    size = sum(f.stat().st_size for f in (tmp_path / "shards").iterdir())
    text = refusal(path, Limits(max_data_bytes=size - 1))  # over --max-data-bytes together: streamed, not read whole
    assert text.startswith("error[E0335]: `shards/*.csv` is streamed, so it is trained on in batches, but no "
                           "`batch` size is given\n"), text
    rows = refusal(path, Limits(max_examples=20))
    assert rows.startswith("error[E0602]: `shards/*.csv` has more rows than the limit of 20 (reading stopped at "
                           "`shards/2.csv`)\n"), rows


def test_a_hover_on_a_glob_shows_its_files_and_the_first_ones_columns(tmp_path):
    from runtime.lsp.data_hover import data_file_doc

    path = files(tmp_path, 'data "shards/*.csv"\n', **{"shards/1.csv": csv(ROWS), "shards/2.csv": csv(ROWS)})
    assert data_file_doc("shards/*.csv", "data", path, None) == (
        "**`shards/*.csv`**: 2 files, the first `shards/1.csv` of 3 columns\n\ncolumns: `a`, `b`, `y`")
    assert data_file_doc("none/*.csv", "data", path, None) == "**`none/*.csv`**: `none/*.csv` matches no file"


def test_one_shard_reads_alone_with_the_labels_of_the_whole_set(tmp_path):
    """The piece a streamed read takes: one file of the source, its labels' indices those given."""
    from compiler.csv_layout import DataProblem
    from compiler.data_sources import read_shard, source_of
    from compiler.settings import Data

    files(tmp_path, "", **{"shards/1.csv": "x,kind\n1,dog\n2,cat\n", "shards/2.csv": "x,kind\n3,ant\n4,emu\n"})
    data = Data(path="shards/*.csv")
    source = source_of(data, tmp_path, False, Limits())
    assert (source.kind, [s.written for s in source.shards]) == (".csv", ["shards/1.csv", "shards/2.csv"])
    first = read_shard(data, source.kind, source.shards[0], tmp_path, False, 1, True, Limits(),
                       classes=("ant", "cat", "dog"))
    assert list(first.targets) == [2, 1] and first.classes == ("ant", "cat", "dog")
    with pytest.raises(DataProblem) as caught:
        read_shard(data, source.kind, source.shards[1], tmp_path, False, 1, True, Limits(),
                   classes=("ant", "cat", "dog"))
    assert caught.value.message == "`shards/2.csv` holds the class `emu`, which is not one of `ant`, `cat`, `dog`"


def test_a_parquet_shard_broken_halfway_is_named_with_its_rows(tmp_path):
    pa = pytest.importorskip("pyarrow", reason="Parquet files need pyarrow (the extra `parquet`)")
    import pyarrow.parquet as pq

    out = io.BytesIO()
    pq.write_table(pa.table({"a": [float(i) for i in range(100)], "b": [1.0] * 100, "y": [0.5] * 100}), out,
                   row_group_size=40)
    broken = bytearray(out.getvalue())
    start = pq.ParquetFile(pa.BufferReader(bytes(broken))).metadata.row_group(1).column(1).data_page_offset
    broken[start:start + 8] = b"\xff" * 8
    path = files(tmp_path, 'linear 2->1\ndata "p/*.parquet"\n', **{"p/1.parquet": out.getvalue(),
                                                                   "p/2.parquet": bytes(broken)})
    text = refusal(path)
    assert text.startswith("error[E0302]: cannot read `p/2.parquet` row group 2 (rows 41 to 80): "), text
    assert "\n --> s.nqa:2:6\n" in text and "a broken row group" in text


def test_a_file_whose_name_holds_a_glob_character_is_read_as_itself(tmp_path):
    path = files(tmp_path, 'linear 2->1\ndata "rows[1].csv"\n',
                 **{"rows[1].csv": csv(ROWS), "rows1.csv": csv(ROWS[:2])})
    assert table(path).rows == 8
    (tmp_path / "rows[1].csv").unlink()
    assert table(path).rows == 2  # now a glob, matching `rows1.csv`
