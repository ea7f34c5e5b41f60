"""Data with a per-example shape, as users meet it: `shape=` on a CSV file, .npz arrays of any
rank, integer ids for an `embedding`; training on them, the emitted program, and every
refusal as the located message a user reads."""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pytest

from compiler import Limits, check
from compiler.emit_python import emit_python
from conftest import ROOT
from runtime import train
from runtime.data import dataset
from spec_lang import SpecError

RNG = np.random.default_rng(7)
X = RNG.normal(size=(6, 2, 3)).astype("float32")  # six examples of shape [2, 3]
Y = RNG.normal(size=(6, 2, 1)).astype("float32")  # a target of shape [2, 1] each
NET = "input 2x3\nlinear ->1\noptimizer sgd lr=0.1\nepochs 4\n"


def npz(**arrays) -> bytes:
    out = io.BytesIO()
    np.savez(out, **arrays)
    return out.getvalue()


def csv_rows(x, y) -> str:
    """One row per example: its inputs flat (row-major), then its targets."""
    rows = zip(x, y, strict=True)
    return "".join(",".join(repr(float(v)) for v in [*xi.ravel(), *yi.ravel()]) + "\n" for xi, yi in rows)


def write(folder, spec, **files):
    for name, content in files.items():
        name = name.replace("_", ".")
        (folder / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    path = folder / "s.nqa"
    path.write_text(spec)
    return path


def refusal(folder, spec, **files) -> str:
    """What a user reads for this spec and these files."""
    with pytest.raises(SpecError) as caught:
        check(write(folder, spec, **files))
    return caught.value.render(filename="s.nqa")


# --- training on shaped data ----------------------------------------------------------

def test_npz_arrays_train_with_their_shapes_and_equal_the_same_rows_from_a_csv(tmp_path):
    from_npz = write(tmp_path, NET + 'data "d.npz"\n', d_npz=npz(x=X, y=Y))
    program = check(from_npz)
    data = dataset(program.spec, 0, program.table)
    assert (str(program.spec.input_type), str(program.spec.output_type)) == ("[2, 3]", "[2, 1]")
    assert tuple(data.inputs.shape) == (6, 2, 3) and tuple(data.targets.shape) == (6, 2, 1)
    assert np.array_equal(data.inputs.numpy(), X) and np.array_equal(data.targets.numpy(), Y)
    npz_losses = train(from_npz).report.losses
    (tmp_path / "s.nqa").unlink()
    spec = "linear ->1\noptimizer sgd lr=0.1\nepochs 4\n" + 'data "d.csv" shape=2x3\n'  # the shape from the data
    from_csv = train(write(tmp_path, spec, d_csv=csv_rows(X, Y[:, :, 0]))).report
    assert len(npz_losses) == 4 and from_csv.losses == npz_losses


def test_without_input_the_npz_array_gives_the_input_type(tmp_path):
    program = check(write(tmp_path, 'linear 3->1\ndata "d.npz"\n', d_npz=npz(x=X, y=Y)))
    assert str(program.spec.input_type) == "[2, 3]" and program.table is not None and program.table.rows == 6


def test_shape_reshapes_npz_inputs_and_a_flat_csv_is_picked_by_the_value_count(tmp_path):
    program = check(write(tmp_path, 'linear ->1\ndata "d.npz" shape=6\n', d_npz=npz(x=X, y=Y[:, 0, 0])))
    assert str(program.spec.input_type) == "[6]"
    rows = "1,2,3,4,5,6,7\n8,9,10,11,12,13,14\n"
    picked = check(write(tmp_path, 'input 2x3\nlinear ->1\ndata "d.csv"\n', d_csv=rows))
    data = dataset(picked.spec, 0, picked.table)
    assert data.inputs.tolist() == [[[1, 2, 3], [4, 5, 6]], [[8, 9, 10], [11, 12, 13]]]
    assert data.targets.tolist() == [[[7], [7]], [[14], [14]]] and data.broadcast


def test_integer_class_targets_from_npz(tmp_path):
    x, y = RNG.normal(size=(8, 4)).astype("float32"), np.array([0, 1, 2, 1, 0, 2, 1, 0])
    spec = "linear 4->3\nloss cross_entropy\nepochs 2\n" + 'data "c.npz" inputs=features target=label\n'
    program = check(write(tmp_path, spec, c_npz=npz(features=x, label=y)))
    targets = dataset(program.spec, 0, program.table).targets
    assert targets.dtype.is_floating_point is False and targets.tolist() == y.tolist()


def test_the_emitted_program_reproduces_a_run_on_npz_data(tmp_path):
    path = write(tmp_path, NET + 'data "d.npz"\nbatch 4\nshuffle\n', d_npz=npz(x=X, y=Y))
    script = tmp_path / "program.py"
    script.write_text(emit_python(check(path)))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    printed = [float(line.split(" = ")[1]) for line in done.stdout.splitlines() if line.startswith("step ")]
    assert printed == list(train(path).report.losses) and len(printed) == 8


def test_checking_an_npz_spec_does_not_import_torch(tmp_path):
    path = write(tmp_path, NET + 'data "d.npz"\n', d_npz=npz(x=X, y=Y))
    code = ("import sys, pathlib; from compiler import check; check(pathlib.Path(sys.argv[1])); "
            "print('torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, cwd=ROOT)
    assert (done.returncode, done.stdout) == (0, "False\n"), done.stderr


# --- refusals ----------------------------------------------------------------------------

def test_shape_must_hold_as_many_values_as_the_input_columns(tmp_path):
    header = ",".join(f"p{i}" for i in range(63)) + ",digit\n"
    text = refusal(tmp_path, 'linear ->10\ndata "digits.csv" target=digit shape=1x8x8\n',
                   digits_csv=header + ",".join(["0"] * 63) + ",3\n")
    assert text == """\
error[E0310]: `shape=1x8x8` holds 64 values, but `digits.csv` has 63 input columns
 --> s.nqa:2:32
  |
2 | data "digits.csv" target=digit shape=1x8x8
  |                                ^^^^^^^^^^^ wrong count
  = hint: give a shape of as many values as there are input columns, or name the input columns with `inputs=`"""


def test_input_and_the_data_shape_must_agree(tmp_path):
    text = refusal(tmp_path, 'input 3x2\nlinear ->1\ndata "d.csv" shape=2x3\n', d_csv="1,2,3,4,5,6,7\n")
    assert text == """\
error[E0310]: `d.csv` gives inputs of shape [2, 3], but the network takes [3, 2]
 --> s.nqa:3:14
  |
1 | input 3x2
  | --------- takes [3, 2]
...
3 | data "d.csv" shape=2x3
  |              ^^^^^^^^^ gives [2, 3]
  = hint: make them agree: `input 2x3`, or `shape=3x2` on the `data` statement"""


NPZ_REFUSALS = [
    ("objects", 'data "d.npz"', {"x": np.array([1, "a"], dtype=object), "y": np.zeros(2)},
     "error[E0311]: array `x` of `d.npz` holds Python objects, which are never loaded (that would run pickle)",
     '  |      ^^^^^^^ array `x`', "save the arrays with NumPy"),
    ("text targets", 'data "d.npz"', {"x": np.zeros((2, 3)), "y": np.array(["cat", "dog"])},
     "error[E0311]: array `y` of `d.npz` holds values of type str96, not numbers",
     '  |      ^^^^^^^ array `y`', "store class indices as integers from 0"),
    ("missing key", 'data "d.npz"', {"a": X, "b": Y},
     "error[E0307]: `d.npz` has no array `x`", '  |      ^^^^^^^ no array `x`',
     "its arrays are `a`, `b`: name the arrays with `inputs=` and `target=` (by default `x`)"),
    ("missing named key", 'data "d.npz" inputs=a target=c', {"a": X, "b": Y},
     "error[E0307]: `d.npz` has no array `c`", '  |                       ^^^^^^^^ no array `c`',
     "its arrays are `a`, `b`: name it"),
    ("two arrays", 'data "d.npz" inputs=a,b', {"a": X, "b": Y},
     "error[E0318]: `inputs=` names 2 arrays, but an .npz file's inputs are one array",
     '  |              ^^^^^^^^^^ one array', "name one array, e.g. `inputs=a`"),
    ("row counts", 'data "d.npz"', {"x": X, "y": Y[:5]},
     "error[E0319]: `d.npz` has 6 rows in `x` but 5 in `y`", '  |      ^^^^^^^ rows differ',
     "give the inputs and the targets one row each per example"),
    ("nan", 'data "d.npz"', {"x": np.where(np.arange(36).reshape(6, 2, 3) == 17, np.nan, X), "y": Y},
     "error[E0311]: `d.npz`, `x[2, 1, 2]`: nan is not a finite number", '  |      ^^^^^^^ array `x`',
     "every value must be a finite number"),
    ("float32", 'data "d.npz"', {"x": np.where(np.arange(36).reshape(6, 2, 3) == 5, -1e39, X.astype("f8")), "y": Y},
     "error[E0312]: `d.npz`, `x[0, 1, 2]`: -1e+39 is too large for float32",
     '  |      ^^^^^^^ array `x`', "float32, which holds values up to about 3.4e38"),
    ("no rows", 'data "d.npz"', {"x": X[:0], "y": Y[:0]},
     "error[E0304]: array `x` of `d.npz` has no rows", '  |      ^^^^^^^ array `x`', "give it at least one row"),
    ("csv option", 'data "d.npz" header=yes', {"x": X, "y": Y},
     "error[E0318]: `header=` is for CSV files, not for `d.npz`", '  |              ^^^^^^^^^^ not a CSV option',
     "leave out `header=`"),
    ("shape count", 'data "d.npz" shape=7', {"x": X, "y": Y},
     "error[E0310]: `shape=7` holds 7 values, but a row of `x` in `d.npz` holds 6 ([2, 3])",
     '  |              ^^^^^^^ wrong count', "give a shape of as many values as a row holds"),
    ("input width", 'input 4\nlinear ->1\ndata "d.npz"', {"x": X.reshape(6, 6), "y": Y[:, 0, 0]},
     "error[E0309]: `d.npz` has 6 input values a row, but the network takes 4", '  |      ^^^^^^^ 6 inputs',
     "give `x` rows of 4 values, or change the network's input width"),
    ("target width", 'data "d.npz" shape=6', {"x": X, "y": Y},
     "error[E0314]: `d.npz` has 2 target values a row, but the network has 1 output", '  |      ^^^^^^^ 2 targets',
     "give each row of `y` 1 value, or give the network 2 outputs"),
]


@pytest.mark.parametrize("statement, arrays, message, underline, hint", [r[1:] for r in NPZ_REFUSALS],
                         ids=[r[0] for r in NPZ_REFUSALS])
def test_npz_refusals_are_located_messages(tmp_path, statement, arrays, message, underline, hint):
    text = refusal(tmp_path, "linear ->1\n" + statement + "\n", d_npz=npz(**arrays))
    lines = text.splitlines()
    assert lines[0] == message and lines[1].startswith(" --> s.nqa:"), text
    assert underline in lines and lines[-1].startswith("  = hint: ") and hint in lines[-1], text


@pytest.mark.parametrize("content, message, hint", [
    (b"just text", "`d.npz` is not an .npz file (a zip archive of NumPy arrays)", "save the arrays with NumPy"),
    (b"PK\x03\x04 broken", "cannot read `d.npz`: it is not a valid .npz file", "save the arrays with NumPy"),
], ids=["not a zip", "corrupt zip"])
def test_a_file_that_is_not_npz_is_refused(tmp_path, content, message, hint):
    text = refusal(tmp_path, 'linear ->1\ndata "d.npz"\n', d_npz=content)
    assert text.startswith(f"error[E0302]: {message}\n --> s.nqa:2:6\n") and f"= hint: {hint}" in text


def test_a_single_npy_array_is_refused_with_how_to_save_both(tmp_path):
    out = io.BytesIO()
    np.save(out, X)
    text = refusal(tmp_path, 'linear ->1\ndata "d.npy"\n', d_npy=out.getvalue())
    assert text == """\
error[E0317]: `d.npy` holds a single array, so it has no targets
 --> s.nqa:2:6
  |
2 | data "d.npy"
  |      ^^^^^^^ a single array
  = hint: save the inputs and the targets together: `np.savez("data.npz", x=inputs, y=targets)`"""


def test_npz_limits_count_rows_and_uncompressed_bytes(tmp_path):
    path = write(tmp_path, NET + 'data "d.npz"\n', d_npz=npz(x=X, y=Y))
    with pytest.raises(SpecError) as caught:
        check(path, limits=Limits(max_examples=5))
    assert caught.value.diagnostics[0].message == (
        "6 rows of training data (examples and `d.npz`) is over the limit of 5")
    zeros = io.BytesIO()
    np.savez_compressed(zeros, x=np.zeros((1000, 2, 3)), y=np.zeros((1000, 2, 1)))
    path = write(tmp_path, NET + 'data "z.npz"\n', z_npz=zeros.getvalue())
    assert path.with_name("z.npz").stat().st_size < 5000
    with pytest.raises(SpecError) as caught:
        check(path, limits=Limits(max_data_bytes=5000))
    [d] = caught.value.diagnostics
    assert (d.message, d.hint) == (
        "the arrays `x` and `y` of `z.npz` hold 64,000 bytes once uncompressed, over the limit of 5,000",
        "use a smaller file, or raise the limit with --max-data-bytes")


def test_example_and_eval_are_refused_for_a_shaped_input(tmp_path):
    text = refusal(tmp_path, "input 2x3\nlinear ->1\nexample [1, 2, 3, 4, 5, 6] -> [1]\n")
    assert text == """\
error[E0321]: `example` gives a flat vector, but the network takes [2, 3]
 --> s.nqa:3:9
  |
1 | input 2x3
  | --------- takes [2, 3]
...
3 | example [1, 2, 3, 4, 5, 6] -> [1]
  |         ^^^^^^^^^^^^^^^^^^ a flat vector
  = hint: give shaped inputs in a data file: `data "file.npz"`, or `data "file.csv" shape=2x3`"""


# --- ids for an embedding ------------------------------------------------------------------

TOKENS = "t0,t1,t2,t3,t4,t5,t6,t7,t8,t9,label\n" + "".join(
    ",".join(str((7 * row + 3 * col) % 50) for col in range(10)) + f",{row % 2}\n" for row in range(6))
EMBED = "input 10\nembedding 50->8\nlinear ->1\nepochs 3\n"  # [10] ids -> [10, 8] -> [10, 1]


def test_whole_number_csv_cells_into_an_embedding_are_int64_ids(tmp_path):
    program = check(write(tmp_path, EMBED + 'data "tokens.csv" target=label\n', tokens_csv=TOKENS))
    assert str(program.spec.input_type) == "[10] int64"
    data = dataset(program.spec, 0, program.table)
    assert str(data.inputs.dtype) == "torch.int64" and tuple(data.inputs.shape) == (6, 10)
    assert data.inputs[1].tolist() == [(7 + 3 * col) % 50 for col in range(10)]
    assert tuple(data.targets.shape) == (6, 10, 1) and data.targets[1].unique().tolist() == [1.0]
    assert len(train(program).report.losses) == 3


def test_input_then_embedding_is_an_int64_input(tmp_path):
    assert str(check("input 10\nembedding 50->8\n").spec.input_type) == "[10] int64"


@pytest.mark.parametrize("cell, message", [
    ("50", "error[E0320]: `tokens.csv` line 4, column `t4`: id `50` is outside 0 to 49"),
    ("2.5", "error[E0320]: `tokens.csv` line 4, column `t4`: `2.5` is not a whole-number id"),
    ("-1", "error[E0320]: `tokens.csv` line 4, column `t4`: id `-1` is outside 0 to 49"),
])
def test_ids_outside_the_embedding_are_refused_at_their_line(tmp_path, cell, message):
    lines = TOKENS.splitlines(keepends=True)
    cells = lines[3].split(",")
    cells[4] = cell
    lines[3] = ",".join(cells)
    text = refusal(tmp_path, EMBED + 'data "tokens.csv" target=label\n', tokens_csv="".join(lines))
    assert text == f"""\
{message}
 --> s.nqa:5:6
  |
5 | data "tokens.csv" target=label
  |      ^^^^^^^^^^^^ line 4 of this file
  = hint: `embedding 50->8` takes ids 0 to 49"""


def test_npz_ids_are_refused_at_their_index(tmp_path):
    ids = np.arange(60).reshape(6, 10) % 50
    ids[4, 7] = 50
    text = refusal(tmp_path, EMBED.replace("input 10\n", "") + 'data "t.npz"\n', t_npz=npz(x=ids, y=ids[:, 0] % 2))
    assert text.splitlines()[0] == "error[E0320]: `t.npz`, `x[4, 7]`: id 50 is outside 0 to 49"
    program = check(write(tmp_path, EMBED + 'data "t.npz"\n', t_npz=npz(x=ids % 50, y=ids[:, 0] % 2)))
    assert str(dataset(program.spec, 0, program.table).inputs.dtype) == "torch.int64"


def test_example_and_eval_ids_are_whole_numbers_in_range(tmp_path):
    text = refusal(tmp_path, "input 3\nembedding 5->2\nlinear ->1\nexample [1, 2, 5] -> [1]\neval [0, 1.5, 2]\n")
    assert text == """\
error[E0320]: `example` value 3: id 5 is outside 0 to 4
 --> s.nqa:4:9
  |
2 | embedding 5->2
  | -------------- takes ids 0 to 4
...
4 | example [1, 2, 5] -> [1]
  |         ^^^^^^^^^ not an id
  = hint: `embedding 5->2` takes ids 0 to 4

error[E0320]: `eval` value 2: 1.5 is not a whole-number id
 --> s.nqa:5:6
  |
2 | embedding 5->2
  | -------------- takes ids 0 to 4
...
5 | eval [0, 1.5, 2]
  |      ^^^^^^^^^^^ not an id
  = hint: `embedding 5->2` takes ids 0 to 4

error: 2 problems found in s.nqa"""


def test_the_emitted_program_feeds_ids_as_int64(tmp_path):
    path = write(tmp_path, EMBED + 'data "tokens.csv" target=label\n', tokens_csv=TOKENS)
    script = tmp_path / "program.py"
    script.write_text(emit_python(check(path)))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    printed = [float(line.split(" = ")[1]) for line in done.stdout.splitlines() if line.startswith("step ")]
    assert printed == list(train(path).report.losses)


@pytest.mark.parametrize("statements, input_type, rows", [
    ('data "digits.csv" target=digit shape=1x8x8\nconv2d ->8 kernel=3\nflatten\nlinear ->10\nloss cross_entropy',
     "[1, 8, 8]", 1797),
    ('data "sine.npz"\nlstm ->16\nlinear ->1', "[20, 1]", 1500),
    ('input 10\nembedding 50->8\nflatten\nlinear ->2\nloss cross_entropy\ndata "tokens.csv" target=label',
     "[10] int64", 2000),
], ids=["digits", "sine", "tokens"])
def test_the_example_data_gives_each_network_its_input(statements, input_type, rows):
    spec = ROOT / "specs" / "examples" / "probe.nqa"
    program = check(statements, filename=str(spec), folder=spec.parent)
    assert program.table is not None and (str(program.spec.input_type), program.table.rows) == (input_type, rows)
