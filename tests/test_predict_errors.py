"""`nqa predict` and `nqa evaluate` refuse what does not fit — a cell that is not a number, an
empty file, missing or extra columns, an output over an input, weights that are not safetensors or
belong to another network — with the located message shown here, exit 2 and no traceback."""

from __future__ import annotations

import json
import shutil

import pytest
from safetensors.torch import load_file, save_file

from conftest import ROOT
from runtime.cli import main

IRIS = "specs/examples/iris.nqa"
HEADER = "sepal_length,sepal_width,petal_length,petal_width"
DATA_LINE = ("8 | data \"iris.csv\" inputs=sepal_length,sepal_width,petal_length,petal_width target=species\n"
             "  | " + "^" * 80 + " read with the options of this `data` statement\n")


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    path = tmp_path_factory.mktemp("w") / "iris.safetensors"
    assert main(["run", str(ROOT / IRIS), "--epochs", "2", "--save", str(path), "--quiet"]) == 0
    return path


def _refused(capsys, *argv: str) -> str:
    assert main(list(argv)) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return captured.err


def _predict(capsys, weights, data, *more: str) -> str:
    return _refused(capsys, "predict", IRIS, "--load", str(weights), "--data", str(data), *more)


@pytest.fixture(autouse=True)
def _at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def test_a_text_cell_in_a_numeric_column_is_named_by_file_line_and_column(weights, tmp_path, capsys):
    rows = tmp_path / "new.csv"
    rows.write_text(f"{HEADER}\n5.1,3.5,1.4,0.2\n4.9,3.0,abc,0.2\n")
    assert _predict(capsys, weights, rows) == (
        f"error[E0311]: `{rows}` line 3, column `petal_length`: `abc` is not a finite number\n"
        " --> specs/examples/iris.nqa:8:1\n  |\n" + DATA_LINE +
        "  = hint: every input cell must be a finite number\n")


def test_an_empty_file(weights, tmp_path, capsys):
    rows = tmp_path / "empty.csv"
    rows.write_text("")
    assert _predict(capsys, weights, rows).startswith(f"error[E0304]: `{rows}` is empty\n")
    rows.write_text(HEADER + "\n")
    assert _predict(capsys, weights, rows).startswith(f"error[E0304]: `{rows}` has a header but no rows\n")


def test_missing_and_extra_columns(weights, tmp_path, capsys):
    rows = tmp_path / "new.csv"
    rows.write_text("sepal_length,sepal_width,petal_length\n5.1,3.5,1.4\n")
    assert _predict(capsys, weights, rows).startswith(f"error[E0307]: `{rows}` has no column `petal_width`\n")
    rows.write_text(f"{HEADER},id\n5.1,3.5,1.4,0.2,7\n")
    err = _predict(capsys, weights, rows)
    assert err.startswith(f"error[E0309]: `{rows}` has a column `id` that the network does not take\n")
    assert "hint: remove it: the file must hold the input columns, and the target columns if any" in err


def test_a_file_without_names_needs_the_network_s_width(tmp_path, capsys):
    spec = tmp_path / "net.nqa"
    spec.write_text("linear 2->1\ndata \"train.csv\"\nepochs 2\n")
    (tmp_path / "train.csv").write_text("1,2,3\n2,3,5\n")
    saved = tmp_path / "w.safetensors"
    assert main(["run", str(spec), "--save", str(saved), "--quiet"]) == 0
    rows = tmp_path / "new.csv"
    rows.write_text("1,2,3,4\n")
    assert _refused(capsys, "predict", str(spec), "--load", str(saved), "--data", str(rows)).startswith(
        f"error[E0309]: `{rows}` has 4 columns, but the network takes 2 input columns (then 1 target column, if any)\n")
    rows.write_text("1,2\n3,4\n")
    assert main(["predict", str(spec), "--load", str(saved), "--data", str(rows)]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "input_0,input_1,output_0"


@pytest.mark.parametrize("flag", ["--data", "--load", "spec"])
def test_an_output_over_an_input_is_refused(weights, tmp_path, capsys, flag):
    rows = tmp_path / "new.csv"
    rows.write_text(f"{HEADER}\n5.1,3.5,1.4,0.2\n")
    before = {path: path.read_bytes() for path in (rows, weights)}
    target = {"--data": rows, "--load": weights, "spec": ROOT / IRIS}[flag]
    err = _predict(capsys, weights, rows, "-o", str(target))
    what = {"--data": "the --data file", "--load": "the --load file", "spec": "the spec"}[flag]
    assert err.startswith(f"error[E0905]: -o `{target}` would write over {what} ")
    assert {path: path.read_bytes() for path in before} == before


def test_the_training_data_is_an_input_too(weights, capsys):
    data = ROOT / "specs/examples/iris.csv"
    err = _predict(capsys, weights, data, "-o", "specs/examples/iris.csv")
    assert err.startswith("error[E0905]: -o `specs/examples/iris.csv` would write over the --data file")


@pytest.mark.parametrize("content", [b"", b"hello", b"\x80\x04K\x01.", "truncated"])
def test_weights_that_are_not_safetensors(weights, tmp_path, capsys, content):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(weights.read_bytes()[:60] if content == "truncated" else content)
    err = _refused(capsys, "predict", IRIS, "--load", str(bad), "--input", "[1, 2, 3, 4]")
    assert err.startswith(f"error[E0908]: `{bad}` is not a safetensors file")
    assert err.endswith("  = hint: pass a file written by `nqa run --save`\n")


def test_weights_of_another_network_of_the_same_shapes_say_what_differs(weights, tmp_path, capsys):
    spec = tmp_path / "iris.nqa"
    spec.write_text((ROOT / IRIS).read_text().replace("\nrelu\n", "\ntanh\n"))
    shutil.copy(ROOT / "specs/examples/iris.csv", tmp_path / "iris.csv")
    err = _refused(capsys, "evaluate", str(spec), "--load", str(weights), "--data", str(tmp_path / "iris.csv"))
    assert err == (f"error[E0909]: layer 2 is `tanh` in this spec, but `relu` in the spec the weights in `{weights}` "
                   f"were trained with\n --> {spec}:5:1\n  |\n5 | tanh\n  | ^^^^ was `relu`\n"
                   "  = hint: load weights saved from this network, or train this spec again with `nqa run --save`\n")


def test_weights_trained_on_the_input_columns_in_another_order_are_refused(weights, tmp_path, capsys):
    spec = tmp_path / "iris.nqa"
    swapped = "petal_width,petal_length,sepal_width,sepal_length"
    spec.write_text((ROOT / IRIS).read_text().replace(HEADER, swapped))
    shutil.copy(ROOT / "specs/examples/iris.csv", tmp_path / "iris.csv")
    err = _refused(capsys, "evaluate", str(spec), "--load", str(weights), "--data", str(tmp_path / "iris.csv"))
    assert err.startswith("error[E0909]: the input columns are `petal_width`, `petal_length`, `sepal_width`, "
                          "`sepal_length` in this spec, but `sepal_length`, `sepal_width`, `petal_length`, "
                          f"`petal_width` in the spec the weights in `{weights}` were trained with\n")
    assert "other input columns" in err


@pytest.mark.parametrize("labels", [["a", "b", "c", "d"], ["a", "a", "b"]])
def test_class_labels_that_do_not_fit_the_network_are_refused(weights, tmp_path, capsys, labels):
    data = weights.read_bytes()
    size = int.from_bytes(data[:8], "little")
    metadata = json.loads(data[8:8 + size])["__metadata__"]
    forged = tmp_path / "forged.safetensors"
    save_file(load_file(weights), forged, metadata={**metadata, "nqa_classes": json.dumps(labels)})
    err = _refused(capsys, "predict", IRIS, "--load", str(forged), "--input", "[5.1, 3.5, 1.4, 0.2]")
    assert err.startswith(f"error[E0909]: `{forged}` holds {len(labels)} class labels ({len(set(labels))} different), "
                          "which do not fit a network of 3 outputs\n")


def test_weights_with_another_loss_or_input(weights, tmp_path, capsys):
    spec = tmp_path / "mse.nqa"
    spec.write_text("linear 4->16\nrelu\nlinear 16->3\nloss mse\n")
    err = _refused(capsys, "predict", str(spec), "--load", str(weights), "--input", "[1, 2, 3, 4]")
    assert err == ("error[E0909]: the loss is `mse` in this spec, but `cross_entropy` in the spec the weights in "
                   f"`{weights}` were trained with\n --> {spec}:4:1\n  |\n4 | loss mse\n  | ^^^^^^^^ a different loss\n"
                   "  = hint: load weights saved from this network, or train this spec again with `nqa run --save`\n")
    wider = tmp_path / "wide.nqa"
    wider.write_text("linear 5->16\nrelu\nlinear 16->3\nloss cross_entropy\n")
    err = _refused(capsys, "predict", str(wider), "--load", str(weights), "--input", "[1, 2, 3, 4, 5]")
    assert err.startswith("error[E0909]: the network takes `[5] float32` in this spec, but `[4] float32` in the spec "
                          f"the weights in `{weights}` were trained with\n")


def test_weights_saved_before_fingerprints_load_with_a_warning(weights, tmp_path, capsys):
    old = tmp_path / "old.safetensors"
    save_file(load_file(weights), old, metadata={"nqa_spec": "", "nqa_seed": "0"})
    assert main(["predict", IRIS, "--load", str(old), "--input", "[5.1, 3.5, 1.4, 0.2]", "--json", "-"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["predicted"] in ("setosa", "versicolor", "virginica")
    assert captured.err == (f"warning[W0011]: `{old}` was saved without the fingerprint of its network (by an earlier "
                            "nqa): only the names and shapes of its weights were checked against the spec\n")


def test_the_command_line_asks_for_rows(weights, capsys):
    assert _refused(capsys, "predict", IRIS, "--load", str(weights)).startswith(
        "error[E0903]: give the rows to predict: --data FILE, or one example with --input\n")
    assert _refused(capsys, "predict", IRIS, "--load", str(weights), "--input", "[1, 2]").startswith(
        "error[E0907]: --input has 2 values, but the network takes 4\n")
    assert _refused(capsys, "predict", IRIS, "--load", str(weights), "--input", "[1, 2, x, 4]").startswith(
        "error[E0907]: --input `x` is not a finite number\n")
    assert _refused(capsys, "predict", IRIS, "--load", str(weights), "--input", "[1e39, 1, 2, 3]").startswith(
        "error[E0907]: --input `1e39` is too large for float32\n")
    assert _refused(capsys, "predict", IRIS, "--load", str(weights), "--input", "[1, 2, 3, 4").startswith(
        "error[E0907]: --input has a `[` without its `]`, or a `]` without its `[`\n")
    assert _refused(capsys, "predict", IRIS, "--load", str(weights), "--input", "").startswith(
        "error[E0907]: --input holds no values\n")
