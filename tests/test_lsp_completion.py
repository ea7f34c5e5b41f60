"""Completion in an editor: statement names, a statement's options and words, an option's
values and a data file's columns, each with what the registry says of it."""

from __future__ import annotations

from pathlib import Path

from lsprotocol.types import CompletionItem, Position

from compiler.registry import FAMILIES, statement_names
from runtime.lsp.completion import complete

EXAMPLES = Path(__file__).parent.parent / "specs" / "examples"
SPEC = EXAMPLES / "spec.nqa"


def at_end(line: str, before: str = "") -> list[CompletionItem]:
    """Completions with the cursor at the end of `line`, after the lines `before`."""
    return complete(before + line, SPEC, Position(before.count("\n"), len(line)))


def labels(items: list[CompletionItem]) -> list[str]:
    return [item.label for item in items]


def edit_of(item: CompletionItem) -> tuple[int, int, int, int, str]:
    edit = item.text_edit
    assert edit is not None and hasattr(edit, "range")
    r = edit.range
    return r.start.line, r.start.character, r.end.line, r.end.character, edit.new_text


def test_a_new_line_offers_every_statement_with_its_documentation() -> None:
    items = at_end("li", "linear 2->3\n")
    assert labels(items) == statement_names()
    linear = next(item for item in items if item.label == "linear")
    assert linear.detail == "linear 2->3"
    assert linear.documentation.value.startswith(  # type: ignore[union-attr]
        "`linear 2->3`: a fully connected layer, `x @ W.T + b`, on the last dim.")
    assert edit_of(linear) == (1, 0, 1, 2, "linear")
    optimizer = next(item for item in items if item.label == "optimizer")
    assert optimizer.documentation.value == (  # type: ignore[union-attr]
        "`optimizer NAME`, NAME one of `sgd`, `adam`, `adamw`, `rmsprop`, `adagrad`, `adamax`, `nadam`")


def test_after_a_semicolon_or_a_brace_a_statement_starts() -> None:
    assert labels(at_end("relu; lin")) == statement_names()
    assert edit_of(at_end("relu; lin")[0])[:4] == (0, 6, 0, 9)
    assert labels(at_end("repeat 2 { ")) == statement_names()


def test_the_blocks_a_spec_defines_are_offered_as_statements() -> None:
    items = at_end("", "block stem { linear ->4; relu }\n")
    assert "stem" in labels(items)


def test_the_members_of_a_family() -> None:
    assert labels(at_end("optimizer ")) == list(FAMILIES["optimizer"]) == [
        "sgd", "adam", "adamw", "rmsprop", "adagrad", "adamax", "nadam"]
    assert labels(at_end("loss ")) == ["mse", "l1", "huber", "bce", "bce_logits", "cross_entropy"]
    adam = next(item for item in at_end("optimizer ad") if item.label == "adam")
    assert edit_of(adam) == (0, 10, 0, 12, "adam")
    assert adam.documentation.value.startswith("`optimizer adam`: Adam (torch.optim.Adam).")  # type: ignore[union-attr]


def test_a_statements_options_and_words() -> None:
    assert labels(at_end("linear 2->3 ")) == ["init=", "bias", "nobias"]
    assert labels(at_end("linear 2->3 nobias ")) == ["init="]
    assert labels(at_end("optimizer adam lr=0.1 ")) == ["beta1=", "beta2=", "eps=", "weight_decay=", "amsgrad"]
    assert labels(at_end("stop ")) == ["patience=", "min_delta=", "restore=", "watch="]
    assert labels(at_end("stop 10 ")) == ["min_delta=", "restore=", "watch="]
    stride = next(item for item in at_end("conv2d ->16 kernel=3 st") if item.label == "stride=")
    assert edit_of(stride) == (0, 21, 0, 23, "stride=")
    assert stride.documentation.value.startswith(  # type: ignore[union-attr]
        "**`stride`** of `conv2d`: the step between positions\n\ndefault: `1`")


def test_an_options_values() -> None:
    assert labels(at_end("conv2d ->16 kernel=3 padding=")) == ["same", "valid"]
    assert labels(at_end("linear ->3 init=")) == ["kaiming", "xavier", "normal", "zeros"]
    assert labels(at_end('data "iris.csv" header=')) == ["auto", "yes", "no"]
    assert labels(at_end("stop 5 restore=")) == ["yes", "no"]
    kaiming = at_end("linear ->3 init=ka")[0]
    assert edit_of(kaiming) == (0, 16, 0, 18, "kaiming")


def test_data_columns_come_from_the_files_header() -> None:
    columns = ["sepal_length", "sepal_width", "petal_length", "petal_width", "species"]
    assert labels(at_end('data "iris.csv" target=')) == columns
    item = at_end('data "iris.csv" inputs=sepal_length,pe')[0]
    assert edit_of(item) == (0, 36, 0, 38, "sepal_length")
    assert item.detail == 'a column of "iris.csv"'
    assert labels(at_end('data "temperatures.csv" inputs=')) == ["celsius", "fahrenheit"]
    assert at_end('data "missing.csv" inputs=') == []
    assert at_end('data "../../README.md" inputs=') == []  # outside the spec's folder: not read


def test_nothing_in_a_comment_or_after_an_unknown_statement() -> None:
    assert at_end("# li") == []
    assert at_end("linear 2->1  # bi") == []
    assert at_end("lienar 2->1 ") == []
