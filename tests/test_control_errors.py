"""Training control written wrong: every bad `schedule`, `warmup`, `stop`, `clip` and
`init` is refused by `nqa check` with exit 2, no traceback, and a located message
(its place, what is wrong, a hint); what is accepted but likely a mistake is a warning."""

from __future__ import annotations

import re

import pytest

from runtime.cli import main

BODY = "linear 2->3\nrelu\nlinear 3->1\n"
DATA = "example [1, 1] -> [5]\nexample [0, 1] -> [2]\n"

# (the statements after BODY, the error's first line, where it points (line:column), words of its hint)
ERRORS = [
    ("schedule cosin", "unknown schedule `cosin`", "4:10", "did you mean `cosine`?"),
    ("schedule one_cycle max_lr=0.1", "unknown schedule `one_cycle`", "4:10", "`one_cycle` is called `onecycle`"),
    ("schedule", "`schedule` needs a name: one of `step`, `cosine`, `onecycle`", "4:1", "e.g. `schedule step"),
    ("schedule step", "`schedule step` needs `every=`: the epochs between two drops", "4:1", "every=30"),
    ("schedule step every=0", "`every` must be at least 1, not `0`", "4:15", "between two drops"),
    ("schedule step every=5 gamma=-0.1", "`gamma` must be greater than 0, not `-0.1`", "4:23", "multiplied"),
    ("schedule step every=5 gama=0.5", "`schedule step` has no option `gama`", "4:23", "did you mean `gamma=`?"),
    ("schedule cosine min_lr=-1", "`min_lr` must be at least 0, not `-1`", "4:17", "below `lr`"),
    ("schedule cosine min_lr=0.5\noptimizer sgd lr=0.1",
     "`min_lr=0.5` is not below the learning rate `lr=0.1` the cosine falls from", "4:17", "min_lr=0"),
    ("schedule onecycle", "`schedule onecycle` needs `max_lr=`: the highest learning rate of the cycle", "4:1",
     "max_lr=0.1"),
    ("schedule onecycle max_lr=0.1 pct_start=1", "`pct_start` must be less than 1, not `1`", "4:30", "share"),
    ("schedule onecycle max_lr=0.1 anneal=cosine", "unknown `anneal` `cosine`", "4:30", "did you mean `cos`?"),
    ("schedule onecycle max_lr=0.1 base_momentum=0.9 max_momentum=0.8",
     "`base_momentum=0.9` is above `max_momentum=0.8`", "4:48", "base_momentum <= max_momentum"),
    ("schedule onecycle max_lr=0.1 cycle_momentum=yes\noptimizer adagrad",
     "`optimizer adagrad` has no momentum for onecycle to cycle", "4:30", "cycle_momentum=no"),
    ("schedule onecycle max_lr=0.1 three_phase pct_start=0.6\nepochs 50",
     "with `three_phase`, onecycle rises and falls over 2 x pct_start of the steps: `pct_start=0.6` leaves none",
     "4:42", "below 0.5"),
    ("schedule onecycle max_lr=0.1\nepochs 3",
     "onecycle rises over pct_start x steps = 0.3 x 3 = 0.9 steps: it needs more than 1", "4:1", "more steps"),
    ("schedule cosine\nschedule step every=3", "`schedule` is given twice", "5:1", "keep one `schedule`"),
    ("warmup 0", "warm-up epochs must be at least 1, not `0`", "4:8", "warmup 5"),
    ("warmup 2.5", "warm-up epochs must be a whole number, not `2.5`", "4:8", "whole number"),
    ("warmup", "`warmup` needs a warm-up epochs", "4:1", "warmup 5"),
    ("warmup 3 start=0", "`start` must be greater than 0, not `0`", "4:10", "share of the learning rate"),
    ("warmup 100", "`warmup 100` is as long as the run or longer: it has 100 epochs", "4:8", "fewer epochs"),
    ("warmup 20\nepochs 10", "`warmup 20` is as long as the run or longer: it has 10 epochs", "4:8", "warmup 1"),
    ("stop", "`stop` needs to know how long to wait: `patience=`, the epochs without improvement", "4:1",
     "stop patience=10"),
    ("stop patience=0", "`patience` must be at least 1, not `0`", "4:6", "epochs to wait"),
    ("stop 2.5", "`patience` must be a whole number, not `2.5`", "4:6", "whole number"),
    ("stop patience=5 min_delta=-0.1", "`min_delta` must be at least 0, not `-0.1`", "4:17", "lower than the best"),
    ("stop patience=5 restore=maybe", "`restore` must be `true` or `false`, not `maybe`", "4:17", "true"),
    ("stop patience=5 watch=validation", "unknown `watch` `validation`", "4:17", "`held_out`, `training`"),
    ("stop patience=5 watch=held_out", "`stop` watches the held-out loss, but no rows are held out", "4:17",
     "validate 0.2"),
    ("early_stopping patience=5", "unknown statement `early_stopping`", "4:1", "write `stop patience=5`"),
    ("clip", "`clip` needs a gradient norm or a value to clip to", "4:1", "`clip 1.0` (the norm)"),
    ("clip 0", "gradient norm must be greater than 0, not `0`", "4:6", "clip 1.0"),
    ("clip value=-0.5", "`value` must be greater than 0, not `-0.5`", "4:6", "clip value=0.5"),
    ("clip 1.0 value=0.5", "`clip` clips by a gradient norm or by a value, not both", "4:10", "keep one"),
    ("clip nan", "gradient norm must be a finite number, not `nan`", "4:6", "are not allowed"),
    ("clipnorm 1.0", "unknown statement `clipnorm`", "4:1", "write `clip 1.0`"),
    ("init xaviar", "unknown init `xaviar`", "4:6", "did you mean `xavier`?"),
    ("init he", "unknown init `he`", "4:6", "`he` is called `kaiming` here"),
    ("init", "`init` needs a name: one of `kaiming`, `xavier`, `normal`, `zeros`", "4:1", "init kaiming"),
    ("init xavier std=0.1", "`init xavier` has no option `std`", "4:13", "`std=` belongs to `init normal`"),
    ("init normal std=0", "`std` must be greater than 0, not `0`", "4:13", "std=0.02"),
    ("init kaiming mode=fan_avg", "unknown `mode` `fan_avg`", "4:14", "`fan_in`"),
]
LAYER_ERRORS = [
    ("linear 2->3 init=xaviar\nrelu\nlinear 3->1\n", "unknown init scheme `xaviar`", "1:13", "did you mean `xavier`?"),
    ("linear 2->3\nrelu init=xavier\nlinear 3->1\n", "`relu` has no option `init`", "2:6", "`init=` belongs to"),
    ("linear 2->3\nlayer_norm init=zeros\nlinear 3->1\n", "`layer_norm` has no option `init`", "2:12", "`linear`"),
    ("linear 2->3 init=3\nlinear 3->1\n", "unknown init scheme `3`", "1:13", "choose one of `kaiming`"),
]


def _checked(text: str, tmp_path, capsys) -> tuple[int, str]:
    path = tmp_path / "spec.nqa"
    path.write_text(text)
    code = main(["check", str(path)])
    return code, capsys.readouterr().err.replace(str(path), "spec.nqa")


@pytest.mark.parametrize(("text", "message", "where", "hint"),
                         [(BODY + lines + "\n" + DATA, *rest) for lines, *rest in ERRORS]
                         + [(layers + DATA, *rest) for layers, *rest in LAYER_ERRORS],
                         ids=[case[0] for case in ERRORS + LAYER_ERRORS])
def test_each_mistake_is_refused_where_it_is_with_a_hint(text, message, where, hint, tmp_path, capsys):
    code, err = _checked(text, tmp_path, capsys)
    assert code == 2 and "Traceback" not in err
    lines = err.splitlines()
    assert re.fullmatch(rf"error\[E0\d{{3}}\]: {re.escape(message)}", lines[0])
    assert lines[1] == f" --> spec.nqa:{where}"
    hint_line = next(line for line in lines if line.startswith("  = hint: "))
    assert hint in hint_line


WARNINGS = [
    ("stop patience=100", ("warning[W0007]: `stop` waits 100 epochs for the loss to improve, but the run has only 100: "
                          "it can never stop early"), "4:6"),
    ("schedule step every=200", "warning[W0008]: `every=200` never drops the learning rate in a schedule of 100 epochs",
     "4:15"),
    ("warmup 10\nschedule step every=90", ("warning[W0008]: `every=90` never drops the learning rate in a schedule of "
                                          "90 epochs"), "5:15"),
    ("optimizer sgd lr=0.5\nschedule onecycle max_lr=0.1",
     ("warning[W0009]: onecycle sets the learning rate from `max_lr`: it starts at max_lr / div_factor = 0.004, "
     "and this `lr` is not used"), "4:15"),
]


@pytest.mark.parametrize(("lines", "message", "where"), WARNINGS, ids=[case[0] for case in WARNINGS])
def test_what_is_likely_a_mistake_is_a_warning_that_stops_nothing(lines, message, where, tmp_path, capsys):
    code, err = _checked(BODY + lines + "\n" + DATA, tmp_path, capsys)
    assert code == 0
    first = err.splitlines()
    assert first[0] == message and first[1] == f" --> spec.nqa:{where}"


def test_a_spec_with_every_control_statement_checks_clean(tmp_path, capsys):
    text = BODY.replace("linear 3->1", "linear 3->1 init=zeros") + (
        "optimizer sgd lr=0.1 momentum=0.9\nschedule step every=30 gamma=0.1\nwarmup 5\nstop patience=10 "
        "min_delta=0.001 restore=no\nclip value=0.5\ninit kaiming mode=fan_out\n") + DATA
    assert _checked(text, tmp_path, capsys) == (0, "")
