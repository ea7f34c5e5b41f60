"""Hover in an editor: what a layer compiles to with its shapes, parameters and FLOPs;
an option's meaning and default; a data file's rows, columns and classes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from lsprotocol.types import Position

from runtime.lsp.hover import hover

ROOT = Path(__file__).parent.parent
EXAMPLES = ROOT / "specs" / "examples"
CONV = """input 3x8x8
conv2d ->16 kernel=3 padding=1
relu
flatten
linear ->10
"""


def shown(text: str, line: int, character: int, path: Path = EXAMPLES / "spec.nqa") -> tuple[str, tuple[int, ...]]:
    found = hover(text, path, Position(line, character))
    assert found is not None
    r = found.range
    assert r is not None
    return found.contents.value, (r.start.line, r.start.character, r.end.line, r.end.character)  # type: ignore[union-attr]


def test_a_layer_shows_its_torch_module_shapes_parameters_and_flops() -> None:
    text, where = shown(CONV, 1, 2)
    assert where == (1, 0, 1, 6)
    assert text.startswith("```python\nnn.Conv2d(3, 16, kernel_size=3, padding=1)\n```\n\n"
                           "`[3, 8, 8]` → `[16, 8, 8]`\n\n"
                           "448 parameters · 27,648 FLOPs (multiply-accumulates for one example, "
                           "as `nqa compile` counts them)\n\n---\n\n"
                           "`conv2d ->16 kernel=3`: a 2-D convolution over images `[C, H, W]`.")
    assert 448 == 16 * 3 * 3 * 3 + 16 and 27_648 == 16 * 8 * 8 * 3 * 3 * 3  # out elements x in channels x k x k
    text, _ = shown(CONV, 4, 9)
    assert "nn.Linear(1024, 10, bias=True)" in text and "`[1024]` → `[10]`" in text
    assert "10,250 parameters · 10,240 FLOPs" in text
    text, _ = shown(CONV, 2, 1)
    assert "nn.ReLU()" in text and "0 parameters · 0 FLOPs" in text


def test_a_layer_of_a_block_used_twice_says_so() -> None:
    path = EXAMPLES / "digits_resnet.nqa"
    text, where = shown(path.read_text(), 6, 4, path)
    assert where == (6, 2, 6, 8)
    assert "nn.Conv2d(16, 16, kernel_size=3, padding='same', bias=False)" in text
    assert "used 2 times: shown is module `3.0.0`; the others take `[16, 4, 4]` → `[16, 4, 4]`" in text


def test_a_layer_with_an_init_says_how_its_weights_start() -> None:
    path = EXAMPLES / "iris_control.nqa"
    text, _ = shown(path.read_text(), 5, 2, path)
    assert "nn.Linear(4, 16, bias=True)" in text and "weights start by `init kaiming`" in text


def test_a_layer_in_a_spec_with_errors_shows_what_it_is() -> None:
    text, _ = shown("linear 2->3\nlinear 4->1\n", 0, 2)
    assert text.startswith("`linear 2->3`: a fully connected layer")
    assert "- `bias` / `nobias` — whether the layer adds a bias (`bias`, or `nobias`) (default `bias`)" in text


def test_an_option_shows_its_meaning_default_and_values() -> None:
    text, where = shown("optimizer sgd lr=0.1 momentum=0.9\nlinear 2->1\n", 0, 15)
    assert where == (0, 14, 0, 20)
    assert text == ("**`lr`** of `optimizer sgd`: the learning rate\n\ndefault: `0.01`\n\n"
                    "use a positive learning rate, e.g. `lr=0.01`")
    text, _ = shown(CONV, 1, 25)
    assert text.startswith("**`padding`** of `conv2d`: zeros added on each side; `same` keeps the size")
    assert "default: `0`" in text and "values: `same`, `valid`" in text
    text, _ = shown("linear 2->1 nobias\n", 0, 14)
    assert text.startswith("**`bias`** of `linear`: whether the layer adds a bias")
    assert "default: `bias`" in text and "written as a word: `bias`, `nobias`" in text
    text, _ = shown("input 1x8x8\nconv2d ->4 kernel=3 stride=2\n", 1, 22)
    assert text.startswith("**`stride`** of `conv2d`: the step between positions\n\ndefault: `1`")


def test_a_family_member_shows_its_options() -> None:
    text, where = shown("linear 2->1\noptimizer adam\n", 1, 11)
    assert where == (1, 10, 1, 14)
    assert text.startswith("`optimizer adam`: Adam (torch.optim.Adam).")
    assert "- `lr=` — the learning rate (default `0.001`)" in text


def test_a_data_file_shows_its_rows_columns_and_classes() -> None:
    path = EXAMPLES / "iris.nqa"
    text, where = shown(path.read_text(), 7, 8, path)
    assert where == (7, 5, 7, 15)
    assert text == ("**`iris.csv`**: 150 rows, 5 columns\n\n"
                    "inputs: `sepal_length`, `sepal_width`, `petal_length`, `petal_width` (one example: `[4]`)\n\n"
                    "target: `species`\n\n3 classes: 0 = `setosa`, 1 = `versicolor`, 2 = `virginica`")


def test_a_data_file_of_a_spec_with_errors_shows_its_header() -> None:
    text, _ = shown('data "iris.csv"\nlinear 2->1\nlinear 3->1\n', 0, 8)
    assert text == ("**`iris.csv`**: 150 rows, 5 columns\n\n"
                    "columns: `sepal_length`, `sepal_width`, `petal_length`, `petal_width`, `species`")
    text, _ = shown('data "missing.csv"\nlinear 2->1\n', 0, 8)
    assert text == "**`missing.csv`**: cannot read `missing.csv`: no such file"
    text, _ = shown('data "../../README.md.csv"\nlinear 2->1\n', 0, 8)
    assert "outside the spec's folder" in text
    assert hover('data ""\nlinear 2->1\n', EXAMPLES / "x.nqa", Position(0, 6)) is None


def test_nothing_to_show_in_a_comment_or_a_blank_line() -> None:
    assert hover("# a comment\n\nlinear 2->1\n", EXAMPLES / "x.nqa", Position(0, 3)) is None
    assert hover("# a comment\n\nlinear 2->1\n", EXAMPLES / "x.nqa", Position(1, 0)) is None


def test_the_editor_features_never_import_torch() -> None:
    code = ("import sys\nfrom pathlib import Path\nfrom lsprotocol.types import Position\n"
            "import runtime.lsp.hover, runtime.lsp.completion, runtime.lsp.actions\n"
            "p = Path('specs/examples/digits.nqa')\n"
            "runtime.lsp.hover.hover(p.read_text(), p, Position(2, 2))\n"
            "runtime.lsp.completion.complete('linear 2->3 ', p, Position(0, 12))\n"
            "assert 'torch' not in sys.modules, 'torch was imported'\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": ""})
    assert done.returncode == 0, done.stderr
