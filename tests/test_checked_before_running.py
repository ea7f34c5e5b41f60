"""Specs that checked well but could not run: what one step holds is bounded like
the parameters, and every number a statement holds (and the step an optimizer
takes from it) fits float32. Each is refused by `check`, located, before
anything is allocated."""

from __future__ import annotations

import pytest

from runtime.cli import main

CHECK = ["check", "--quiet"]


def _check(tmp_path, text: str, capsys, *options: str) -> tuple[int, str]:
    spec = tmp_path / "s.nqa"
    spec.write_text(text)
    code = main([*CHECK, str(spec), *options])
    return code, capsys.readouterr().err.replace(str(spec), "s.nqa")


def test_one_step_holding_too_many_activations_is_refused(tmp_path, capsys):
    (tmp_path / "rows.csv").write_text("x,y\n" + "".join(f"{i % 7},{i % 3}\n" for i in range(100_000)))
    code, err = _check(tmp_path, 'linear 1->100000\nrelu\nlinear 100000->1\ndata "rows.csv"\n', capsys)
    assert code == 2
    assert err == (
        "error[E0608]: one step would hold 20,000,200,000 activations (100,000 rows x 200,002 values each, "
        "80.0 GB as float32), over the limit of 100,000,000\n"
        " --> s.nqa:4:1\n  |\n4 | data \"rows.csv\"\n  | ^^^^^^^^^^^^^^^ 100,000 rows at once\n"
        "  = hint: train in mini-batches (e.g. `batch 64`), narrow the layers, or raise the limit with "
        "--max-activations\n")
    code, _ = _check(tmp_path, 'linear 1->100000\nrelu\nlinear 100000->1\ndata "rows.csv"\nbatch 100\n', capsys)
    assert code == 0


def test_runs_multiply_the_activations_of_a_step(tmp_path, capsys):
    spec = tmp_path / "big.nqa"
    spec.write_text("input 1000\nlinear ->1000\nlinear ->1\nexample [" + ", ".join(["1"] * 1000) + "] -> [1]\n")
    assert main(["run", str(spec), "--runs", "50000", "--max-params", "1000000000000"]) == 2
    assert capsys.readouterr().err == (
        "error[E0611]: --runs 50,000 on this spec means 100,050,000 activations a step at once (50,000 x 2,001), "
        "over the limit of 100,000,000\n  = hint: train fewer runs at once, or raise the limit with "
        "--max-activations\n")


@pytest.mark.parametrize("setting, expected", [
    ("optimizer sgd lr=1e39", "error[E0114]: learning rate `lr` `1e39` is too large for float32"),
    ("optimizer sgd lr=0.1 weight_decay=1e39", "error[E0114]: `weight_decay` `1e39` is too large for float32"),
    ("optimizer adam lr=1e38", ("error[E0118]: with `beta1=0.9` the first step moves by lr / (1 - beta1) = 1e+39, "
                               "too large for float32: use a smaller `lr`")),
    ("optimizer adamw lr=1e30 weight_decay=1e10", ("error[E0118]: lr * weight_decay = 1e+40 is too large for float32: "
                                                  "use a smaller `lr` or `weight_decay`")),
])
def test_optimizer_numbers_and_steps_beyond_float32_are_refused(setting, expected, tmp_path, capsys):
    code, err = _check(tmp_path, f"linear 2->3\n{setting}\nexample [1, 1] -> [1]\n", capsys)
    assert code == 2
    assert err.startswith(expected + "\n --> s.nqa:2:")


def test_a_slope_beyond_float32_is_refused_where_it_is_written(tmp_path, capsys):
    code, err = _check(tmp_path, "linear 2->3\nleaky_relu slope=1e39\nexample [1, 1] -> [1]\n", capsys)
    assert (code, err) == (2, ("error[E0114]: negative slope `1e39` is too large for float32\n --> s.nqa:2:12\n  |\n"
                              "2 | leaky_relu slope=1e39\n  |            ^^^^^^^^^^ too large\n"
                              "  = hint: networks compute in float32, which holds values up to about 3.4e38\n"))


def test_an_adam_learning_rate_just_within_float32_trains_to_a_clean_divergence(tmp_path, capsys):
    spec = tmp_path / "s.nqa"
    spec.write_text("linear 2->3\noptimizer adam lr=1e37\nexample [1, 1] -> [1]\nepochs 3\n")
    assert main(["run", str(spec), "--quiet"]) == 3
    assert "the loss became inf at step 2" in capsys.readouterr().err


def test_a_header_of_200000_named_columns_is_read_in_linear_time(tmp_path, capsys):
    count = 200_000  # a quadratic look-up took minutes here; each run below takes well under a second
    (tmp_path / "wide.csv").write_text(",".join(f"c{i}" for i in range(count)) + "\n" + ",".join(["1"] * count) + "\n")
    (tmp_path / "by_width.nqa").write_text(f'input {count - 1}\nlinear ->1\ndata "wide.csv"\n')
    (tmp_path / "by_name.nqa").write_text('linear ->1\ndata "wide.csv" inputs=c0 target=c1\n')
    (tmp_path / "twice.nqa").write_text('linear ->1\ndata "wide.csv" inputs=c0,c5,c0 target=c1\n')
    assert main(["check", str(tmp_path / "by_width.nqa"), str(tmp_path / "by_name.nqa")]) == 0
    assert main(["check", str(tmp_path / "twice.nqa")]) == 2
    assert "column `c0` is named twice in `inputs=`" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["compile", "specs/mlp.nqa", "--emit", "python"], ["schema"],
                                  ["check", "specs/examples/iris.nqa"]])
def test_commands_the_docs_list_as_torch_free_never_import_torch(argv):
    import subprocess
    import sys

    from conftest import ROOT

    code = ("import sys, io, contextlib; from runtime.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()): rc = main(sys.argv[1:])\n"
            "sys.exit(3 if 'torch' in sys.modules else rc)")
    done = subprocess.run([sys.executable, "-c", code, *argv], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
