"""The per-example activation limit as users see it: `nqa check` refuses an
example that alone makes more values than `--max-example-activations` (its
input and every layer's output), at the input or at the layer that pushes the
total over, with or without training data; raising the limit lets it pass."""

from __future__ import annotations

from runtime.cli import main


def _check(tmp_path, capsys, text: str, *flags: str) -> tuple[int, str]:
    spec = tmp_path / "big.nqa"
    spec.write_text(text)
    code = main(["check", str(spec), *flags])
    captured = capsys.readouterr()
    return code, (captured.out + captured.err).replace(str(spec), "big.nqa")


def test_an_input_over_the_limit_is_refused_at_the_input_without_data(tmp_path, capsys):
    code, text = _check(tmp_path, capsys, "input 3x4096x4096\nrelu\n")
    assert code == 2
    assert text == (
        "error[E0607]: one example of [3, 4096, 4096] is 50,331,648 values (201.3 MB as float32), over the limit of "
        "10,000,000 values per example\n"
        " --> big.nqa:1:1\n"
        "  |\n"
        "1 | input 3x4096x4096\n"
        "  | ^^^^^^^^^^^^^^^^^ 50,331,648 values\n"
        "  = hint: use a smaller input, or raise the limit with --max-example-activations\n")


def test_the_layer_that_pushes_the_total_over_is_named(tmp_path, capsys):
    code, text = _check(tmp_path, capsys, "input 3x1000x1000\nrelu\nrelu\nrelu\nrelu\n")
    assert code == 2
    assert text == (
        "error[E0607]: one example would make 12,000,000 values by this layer (48.0 MB as float32), over the limit of "
        "10,000,000 values per example\n"
        " --> big.nqa:4:1\n"
        "  |\n"
        "4 | relu\n"
        "  | ^^^^ gives [3, 1000, 1000], 12,000,000 values so far\n"
        "  = hint: the input and every layer's output count: make them smaller (fewer channels, a stride or a pool "
        "earlier), or raise the limit with --max-example-activations\n")


def test_raising_the_limit_lets_it_pass(tmp_path, capsys):
    code, text = _check(tmp_path, capsys, "input 3x1000x1000\nrelu\nrelu\nrelu\nrelu\n",
                        "--max-example-activations", "15000000")
    assert (code, text) == (0, "big.nqa: ok\n")


def test_a_vector_network_is_far_below_the_limit(tmp_path, capsys):
    assert _check(tmp_path, capsys, "linear 2->3\nlinear 3->1\n") == (0, "big.nqa: ok\n")
