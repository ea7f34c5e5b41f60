"""Sweeps as the checker sees them: `choice(...)` parsed, laid out and checked
combination by combination, what may vary and what may not, the limit on
combinations, and the commands that take one spec refusing a sweep. The golden
messages of bad sweeps are in tests/bad_specs/choice_*.nqa."""

from __future__ import annotations

import pytest

from compiler import Limits, Program, check
from compiler.format import format_spec
from compiler.sweep import Sweep
from conftest import ROOT
from runtime import train
from runtime.cli import main
from spec_lang import Choice, Option, SpecError, parse

NET = "linear 2->3\nrelu\nlinear 3->1\nexample [1, 1] -> [2]\nexample [0, 1] -> [1]\n"


def _refused(text: str, limits: Limits | None = None) -> SpecError:
    with pytest.raises(SpecError) as caught:
        check(text, filename="s.nqa", limits=limits)
    return caught.value


def _sweep(program: Program) -> Sweep:
    assert program.sweep is not None
    return program.sweep


def _underlined(error: SpecError, text: str) -> list[str]:
    return [text[d.span.start:d.span.end] for d in error.diagnostics if d.span is not None]


def test_a_choice_is_a_value_with_its_items_and_its_span():
    text = "optimizer sgd lr=choice(0.001, 1e-2) momentum=0.9\nbatch choice(16, 32)\n"
    optimizer, batch = parse(text).statements
    option, choice = optimizer.args[1], batch.args[0]
    assert isinstance(option, Option) and isinstance(option.value, Choice) and isinstance(choice, Choice)
    lr = option.value
    assert text[lr.span.start:lr.span.end] == "choice(0.001, 1e-2)"
    assert [text[item.span.start:item.span.end] for item in lr.items] == ["0.001", "1e-2"]
    assert text[choice.span.start:choice.span.end] == "choice(16, 32)"


def test_check_says_how_many_combinations(tmp_path, capsys):
    spec = tmp_path / "s.nqa"
    spec.write_text(NET + "optimizer sgd lr=choice(0.1, 0.01, 0.001) momentum=choice(0, 0.9)\nbatch choice(1, 2)\n")
    assert main(["check", str(spec)]) == 0
    assert capsys.readouterr().out == f"{spec}: ok, a sweep of 3 x 2 x 2 = 12 combinations\n"
    program = check(spec)
    assert [c.label for c in _sweep(program).choices] == ["lr", "momentum", "batch"]
    assert [_sweep(program).values(c) for c in _sweep(program).combinations[:3]] == [
        {"lr": 0.1, "momentum": 0, "batch": 1}, {"lr": 0.1, "momentum": 0, "batch": 2},
        {"lr": 0.1, "momentum": 0.9, "batch": 1}]
    assert [c.spec.batch for c in _sweep(program).combinations[:2]] == [1, 2]
    assert program.spec == _sweep(program).combinations[0].spec


def test_the_limit_on_combinations_is_a_flag(tmp_path, capsys):
    spec = tmp_path / "s.nqa"
    spec.write_text(NET + "optimizer sgd lr=choice(0.1, 0.01, 0.001) momentum=choice(0, 0.5, 0.9)\n")
    assert main(["check", str(spec), "--max-combinations", "8"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error[E0609]: this sweep has 9 combinations (3 x 3), over the limit of 8\n")
    assert "= hint: try fewer values, or raise the limit with --max-combinations" in err
    assert main(["check", str(spec), "--max-combinations", "9"]) == 0


SETTINGS_THAT_VARY = ["optimizer adam lr=choice(0.01, 0.001) beta1=choice(0.8, 0.9) eps=choice(1e-8, 1e-6)",
                      "optimizer sgd momentum=choice(0.5, 0.9) nesterov", "loss huber delta=choice(0.5, 2)",
                      "batch choice(1, 2)", "epochs choice(5, 10)", "optimizer rmsprop alpha=choice(0.9, 0.99)"]
LAYERS_THAT_VARY = ["dropout p=choice(0.1, 0.5)", "leaky_relu slope=choice(0.01, 0.2)",
                    "gelu approximate=choice(none, tanh)"]


@pytest.mark.parametrize("line", SETTINGS_THAT_VARY + LAYERS_THAT_VARY)
def test_what_may_vary(line):
    text = NET.replace("relu\n", line + "\n") if line in LAYERS_THAT_VARY else NET + line + "\n"
    program = check(text)
    assert len(_sweep(program).combinations) >= 2


CANNOT = {  # the statement: what the message calls the field that cannot vary, and the spec around it
    "linear choice(3, 4)": ("the output width", "linear 2->4\n{line}\nexample [1, 1] -> [2]\n"),
    "linear 2->3 choice(bias, nobias)": ("the bias", "{line}\nlinear ->1\nexample [1, 1] -> [2]\n"),
    "input choice(2, 3)": ("the input shape", NET + "{line}\n"),
    "seed choice(0, 1)": ("the seed", NET + "{line}\n"),
    "validate choice(0.2, 0.5)": ("the held-out fraction", NET + "{line}\n"),
    "optimizer choice(sgd, adam)": ("the optimizer", NET + "{line}\n"),
    "loss choice(mse, l1)": ("the loss", NET + "{line}\n"),
    'data choice("a.csv", "b.csv")': ("the file name", NET + "{line}\n"),
    "eval choice([1, 2], [2, 1])": ("the `eval` input", NET + "{line}\n"),
}


@pytest.mark.parametrize("line", CANNOT)
def test_what_may_not_vary_is_refused_at_the_choice(line):
    what, around = CANNOT[line]
    text = around.format(line=line)
    error = _refused(text)
    (diagnostic,) = error.diagnostics
    assert diagnostic.message == f"{what} cannot vary in a sweep"
    assert _underlined(error, text) == [line[line.index("choice"):line.index(")") + 1]]
    assert diagnostic.label == "cannot vary" and diagnostic.hint


def test_a_conv_kernel_cannot_vary_and_says_to_write_one_spec_per_kernel():
    text = "input 1x8x8\nconv2d ->4 kernel=choice(3, 5)\nflatten\nlinear ->1\n"
    (diagnostic,) = _refused(text).diagnostics
    assert diagnostic.message == "the kernel size cannot vary in a sweep"
    assert diagnostic.hint.startswith("every combination of a sweep trains a network of the same shape: write one "
                                      "spec for each kernel size")


def test_each_item_is_checked_and_each_bad_one_named_once():
    text = NET + "optimizer sgd lr=choice(0.1, -1, 0) momentum=choice(0, 0.5, 0.9)\n"
    error = _refused(text)
    assert [d.message for d in error.diagnostics] == [
        "learning rate `lr` must be greater than 0, not `-1`", "learning rate `lr` must be greater than 0, not `0`"]
    assert _underlined(error, text) == ["-1", "0"]


def test_labels_tell_two_choices_of_the_same_option_apart():
    text = "linear 2->8\ndropout p=choice(0.1, 0.2)\nlinear 8->8\ndropout p=choice(0.3, 0.4)\nlinear 8->1\n"
    program = check(text)
    assert [c.label for c in _sweep(program).choices] == ["dropout p (line 2)", "dropout p (line 4)"]
    text = "linear 2->8\nbatch_norm momentum=choice(0.1, 0.2)\nlinear 8->1\noptimizer sgd momentum=choice(0, 0.9)\n"
    assert [c.label for c in _sweep(check(text)).choices] == ["batch_norm momentum", "optimizer momentum"]


def test_a_syntax_error_elsewhere_still_checks_the_statements_holding_choices():
    text = "linear 2->1 $\noptimizer sgd lr=choice(0, 0.1)\nbatch choice(2, two)\n"
    error = _refused(text)
    assert [d.message for d in error.diagnostics] == [
        "unexpected character `$`", "learning rate `lr` must be greater than 0, not `0`",
        "a choice holds values of one kind: `two` is a name, but `2` is a number"]


def test_fmt_lays_a_choice_out_and_keeps_it():
    text = "linear 2->1\noptimizer   sgd momentum=choice(0,0.90) lr=choice( 1e-2 ,0.001)  # which?\n"
    assert format_spec(text) == "linear 2->1\noptimizer sgd lr=choice(0.01, 0.001) momentum=choice(0, 0.9)  # which?\n"


SWEEP = NET + "optimizer sgd lr=choice(0.1, 0.01)\n"


@pytest.mark.parametrize("argv, what", [(["compile", "--emit", "python"], "`nqa compile --emit python`"),
                                        (["export", "--onnx", "{d}/m.onnx"], "`nqa export`")])
def test_commands_that_take_one_spec_refuse_a_sweep_at_its_choice(argv, what, tmp_path, capsys):
    spec = tmp_path / "s.nqa"
    spec.write_text(SWEEP)
    assert main([argv[0], str(spec), *(a.format(d=tmp_path) for a in argv[1:])]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error[E0518]: {what} takes one spec, and this one is a sweep of 2 combinations\n")
    assert f"{spec}:6:18" in err and "nqa run SPEC --best best.nqa" in err
    assert not (tmp_path / "m.onnx").exists()


def test_compile_and_draw_show_a_sweep_whose_network_is_the_same(tmp_path, capsys):
    spec = tmp_path / "s.nqa"
    spec.write_text(SWEEP)
    assert main(["compile", str(spec)]) == 0
    assert "Linear(in_features=2, out_features=3, bias=True)" in capsys.readouterr().out
    spec.write_text(SWEEP.replace("relu", "dropout p=choice(0.1, 0.2)"))
    assert main(["draw", str(spec), "-o", str(tmp_path / "n.svg")]) == 2
    assert "builds a different network in each of its 2 x 2 = 4 combinations" in capsys.readouterr().err


def test_train_refuses_a_sweep_in_its_own_words():
    with pytest.raises(SpecError) as caught:
        train(SWEEP)
    assert caught.value.message == "`train` takes one spec, and this one is a sweep of 2 combinations"


def test_the_language_reference_describes_sweeps():
    text = (ROOT / "docs/language.md").read_text(encoding="utf-8")
    assert "## Sweeps" in text and "--max-combinations" in text


ROWS = "input 2\nexample [1, 1] -> [2]\nexample [0, 1] -> [1]\n"


def test_a_choice_inside_a_block_varies_the_layer_it_is_in():
    program = check(ROWS + "block stem { linear ->8; leaky_relu slope=choice(0.01, 0.2) }\nstem * 2\nlinear ->1\n")
    assert [c.label for c in _sweep(program).choices] == ["slope"]
    assert len(_sweep(program).combinations) == 2
    program = check(ROWS + "repeat 2 { linear ->8; dropout p=choice(0.1, 0.2) }\nlinear ->1\n")
    assert [c.statement for c in _sweep(program).choices] == ["dropout"]


@pytest.mark.parametrize("line, message, underlined", [
    ("repeat choice(2, 3) { linear ->8 }", "the number of copies cannot vary in a sweep", "choice(2, 3)"),
    ("repeat 2 { linear ->choice(4, 8) }", "a choice cannot follow `->`: widths and examples do not vary in a sweep",
     "choice"),
    ("repeat 2 { linear ->8; dropout p=choice(0.1, 2) }", "dropout probability `p` must be less than 1, not `2`", "2"),
    ("linear ->4 init=choice(xavier, kaiming)", "the init scheme cannot vary in a sweep", "choice(xavier, kaiming)"),
    ("schedule choice(step, cosine)", "the schedule cannot vary in a sweep", "choice(step, cosine)")])
def test_what_blocks_and_training_control_may_not_vary(line, message, underlined):
    text = ROWS + line + "\nlinear ->1\n"
    error = _refused(text)
    assert [d.message for d in error.diagnostics] == [message]
    assert _underlined(error, text) == [underlined]


def test_training_control_may_vary():
    text = ROWS + ("linear ->4\nlinear ->1\nschedule step every=choice(10, 20) gamma=choice(0.1, 0.5)\n"
                   "clip choice(0.5, 1)\nwarmup choice(2, 3)\nstop patience=choice(3, 5)\n"
                   "init xavier gain=choice(1, 2)\n")
    assert [c.label for c in _sweep(check(text)).choices] == ["every", "gamma", "clip", "warmup", "patience", "gain"]
