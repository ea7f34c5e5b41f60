"""`--checkpoint-every`, `--checkpoint-dir` and `--resume`: a run stopped at an epoch
boundary, within an epoch or by Ctrl-C, and resumed, ends bit for bit where the
same run never stopped ends (its losses, learning rates, early stopping and final
weights); and what cannot be resumed exactly is refused, saying why.

A process dying is played here in the process itself, by an exception no code of
nqa catches raised from the loop; tests/test_resume_faults.py kills real processes.
"""

from __future__ import annotations

import pytest
import torch

from resume_specs import SPECS, report_of, spec_folder
from runtime import TrainingInterrupted, TrainOptions, train
from runtime.cli import main
from runtime.data import Dataset
from runtime.resume import Keeper
from spec_lang import SpecError


class Died(BaseException):
    """The process ending at once: nothing in nqa catches it."""


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return spec_folder(tmp_path_factory.mktemp("specs"))


@pytest.fixture(scope="module")
def uninterrupted(folder):
    """Each spec's run, never stopped, as the command line reports it."""
    reports = {}
    for name in SPECS:
        out = folder / f"{name}.plain.json"
        assert main(["run", str(folder / f"{name}.nqa"), "--json", str(out), "--quiet"]) == 0
        reports[name] = report_of(out)
    return reports


def _dying_after_epoch(monkeypatch, epoch: int) -> None:
    after = Keeper.after_epoch

    def then_die(self, done, training, step):
        after(self, done, training, step)
        if done == epoch:
            raise Died

    monkeypatch.setattr(Keeper, "after_epoch", then_die)


def _stopping_at_batch(monkeypatch, batch: int, stop: type[BaseException]) -> None:
    """`stop` raised when the loop asks for batch number `batch` (from 1, counted over the whole run)."""
    batches, seen = Dataset.batches, [0]

    def counted(self):
        for pair in batches(self):
            seen[0] += 1
            if seen[0] == batch:
                raise stop
            yield pair

    monkeypatch.setattr(Dataset, "batches", counted)


def _resumed_report(folder, name, checkpoints, capsys) -> dict:
    out = folder / f"{name}.resumed.json"
    assert main(["run", str(folder / f"{name}.nqa"), "--json", str(out), "-q", "--resume", str(checkpoints)]) == 0
    assert "resuming from" in capsys.readouterr().err
    return report_of(out)


@pytest.mark.parametrize(("name", "every", "epoch"), [
    ("control", 1, 1), ("control", 2, 7), ("control", 5, 30), ("momentum", 1, 2), ("momentum", 4, 13),
    ("lean_adam", 3, 10), ("onecycle", 2, 5), ("onecycle", 6, 23)])
def test_a_run_that_died_after_an_epoch_resumes_to_the_same_end(name, every, epoch, folder, uninterrupted,
                                                                 tmp_path, monkeypatch, capsys):
    checkpoints = tmp_path / "ck"
    _dying_after_epoch(monkeypatch, epoch)
    with pytest.raises(Died):
        main(["run", str(folder / f"{name}.nqa"), "-q", "--checkpoint-every", str(every),
              "--checkpoint-dir", str(checkpoints)])
    monkeypatch.undo()
    assert _resumed_report(folder, name, checkpoints, capsys) == uninterrupted[name]


@pytest.mark.parametrize(("name", "batch"), [("control", 3), ("control", 45), ("momentum", 61), ("onecycle", 52)])
def test_a_run_that_died_within_an_epoch_resumes_to_the_same_end(name, batch, folder, uninterrupted, tmp_path,
                                                                 monkeypatch, capsys):
    checkpoints = tmp_path / "ck"
    main(["run", str(folder / f"{name}.nqa"), "-q", "--checkpoint-every", "1", "--checkpoint-dir",
          str(checkpoints)])  # a first run: the second replaces its checkpoints once it writes its own
    _stopping_at_batch(monkeypatch, batch, Died)
    with pytest.raises(Died):
        main(["run", str(folder / f"{name}.nqa"), "-q", "--checkpoint-every", "3", "--checkpoint-dir",
              str(checkpoints)])
    monkeypatch.undo()
    assert _resumed_report(folder, name, checkpoints, capsys) == uninterrupted[name]


def test_a_run_resumed_twice_still_ends_the_same(folder, uninterrupted, tmp_path, monkeypatch, capsys):
    checkpoints = tmp_path / "ck"
    spec = str(folder / "control.nqa")
    _dying_after_epoch(monkeypatch, 5)
    with pytest.raises(Died):
        main(["run", spec, "-q", "--checkpoint-every", "2", "--checkpoint-dir", str(checkpoints)])
    monkeypatch.undo()
    _dying_after_epoch(monkeypatch, 17)
    with pytest.raises(Died):  # checkpointing on into the same folder, every 2 epochs as before
        main(["run", spec, "-q", "--resume", str(checkpoints)])
    assert sorted(p.name for p in checkpoints.iterdir()) == ["checkpoint-00000014.safetensors",
                                                            "checkpoint-00000016.safetensors"]
    monkeypatch.undo()
    assert _resumed_report(folder, "control", checkpoints, capsys) == uninterrupted["control"]


def test_ctrl_c_writes_the_last_finished_epoch_and_resuming_from_it_is_exact(folder, uninterrupted, tmp_path,
                                                                             monkeypatch, capsys):
    checkpoints, partial = tmp_path / "ck", tmp_path / "partial.json"
    _stopping_at_batch(monkeypatch, 8 * 9 + 3, KeyboardInterrupt)  # within epoch 10
    code = main(["run", str(folder / "control.nqa"), "--json", str(partial), "-q", "--checkpoint-every", "4",
                 "--checkpoint-dir", str(checkpoints)])
    err = capsys.readouterr().err
    assert code == 130
    assert f"the checkpoint of epoch 9 is in `{checkpoints}`; continue with --resume {checkpoints}" in err
    assert "interrupted after 74 steps; the report so far was written" in err
    assert len(report_of(partial)["losses"]) == 74  # the partial report as before: every step that ran
    assert sorted(p.name for p in checkpoints.iterdir()) == ["checkpoint-00000008.safetensors",
                                                            "checkpoint-00000009.safetensors"]
    monkeypatch.undo()
    assert _resumed_report(folder, "control", checkpoints, capsys) == uninterrupted["control"]


def test_ctrl_c_before_any_epoch_finished_says_no_checkpoint_was_written(folder, tmp_path, monkeypatch, capsys):
    _stopping_at_batch(monkeypatch, 2, KeyboardInterrupt)
    assert main(["run", str(folder / "control.nqa"), "-q", "--checkpoint-every", "1",
                 "--checkpoint-dir", str(tmp_path / "ck")]) == 130
    assert "nqa: no epoch finished, so no checkpoint was written" in capsys.readouterr().err
    assert list((tmp_path / "ck").iterdir()) == []


def test_the_library_resumes_with_the_same_weights(folder, tmp_path, monkeypatch):
    spec = folder / "momentum.nqa"
    plain = train(spec)
    _dying_after_epoch(monkeypatch, 11)
    with pytest.raises(Died):
        train(spec, options=TrainOptions(checkpoint_every=5, checkpoint_dir=tmp_path))
    monkeypatch.undo()
    resumed = train(spec, options=TrainOptions(resume=tmp_path))
    assert resumed.report.losses == plain.report.losses
    for name, tensor in plain.model.state_dict().items():
        assert torch.equal(resumed.model.state_dict()[name], tensor), name


def test_the_library_raises_training_interrupted_with_a_checkpoint(folder, tmp_path, monkeypatch):
    _stopping_at_batch(monkeypatch, 20, KeyboardInterrupt)
    with pytest.raises(TrainingInterrupted):
        train(folder / "momentum.nqa", options=TrainOptions(checkpoint_every=10, checkpoint_dir=tmp_path))
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint-00000003.safetensors"]


def test_the_folder_keeps_the_last_two_checkpoints_beside_the_spec_by_default(folder, capsys):
    assert main(["run", str(folder / "onecycle.nqa"), "-q", "--checkpoint-every", "5"]) == 0
    assert sorted(p.name for p in (folder / "onecycle.checkpoints").iterdir()) == [
        "checkpoint-00000015.safetensors", "checkpoint-00000020.safetensors"]


def test_beside_the_json_report_when_there_is_one(folder, tmp_path):
    assert main(["run", str(folder / "onecycle.nqa"), "-q", "--checkpoint-every", "12",
                 "--json", str(tmp_path / "out.json")]) == 0
    assert sorted(p.name for p in (tmp_path / "out.checkpoints").iterdir()) == [
        "checkpoint-00000012.safetensors", "checkpoint-00000024.safetensors"]


def test_a_finished_run_resumed_reports_the_same(folder, uninterrupted, tmp_path, capsys):
    main(["run", str(folder / "momentum.nqa"), "-q", "--checkpoint-every", "1", "--checkpoint-dir",
          str(tmp_path)])
    assert _resumed_report(folder, "momentum", tmp_path, capsys) == uninterrupted["momentum"]


def _refusal(args: list[str], capsys) -> str:
    code: int | str | None
    try:
        code = main(args)
    except SystemExit as refused:  # the grammar's own refusals
        code = refused.code
    assert code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


@pytest.fixture
def control_checkpoints(folder, tmp_path):
    """A folder of checkpoints of the `control` spec, run with seed 0 for 40 epochs."""
    assert main(["run", str(folder / "control.nqa"), "-q", "--checkpoint-every", "10",
                 "--checkpoint-dir", str(tmp_path / "ck")]) == 0
    return tmp_path / "ck"


def test_a_checkpoint_of_another_spec_seed_or_epochs_is_refused_saying_what_differs(folder, control_checkpoints,
                                                                                    tmp_path, capsys):
    changed = tmp_path / "control.nqa"
    changed.write_text(SPECS["control"].replace("adam lr=0.01", "adam lr=0.02"), encoding="utf-8")
    (tmp_path / "iris.csv").write_bytes((folder / "iris.csv").read_bytes())
    err = _refusal(["run", str(changed), "--resume", str(control_checkpoints), "--seed", "1", "--epochs", "50"], capsys)
    assert err == (f"error: cannot resume from `{control_checkpoints}`: the spec differs from the one it was "
                   "trained on (line 6: `optimizer adam lr=0.01` there, `optimizer adam lr=0.02` here); it was "
                   "trained with seed 0, this run has seed 1; it was trained with 40 epochs, this run has 50 "
                   "epochs\n  = hint: resume with the spec, data, --seed, --epochs and --device the run began "
                   "with, or start afresh without --resume\n")


def test_a_checkpoint_of_another_torch_is_refused(folder, control_checkpoints, monkeypatch, capsys):
    monkeypatch.setattr(torch, "__version__", "0.0.1")
    err = _refusal(["run", str(folder / "control.nqa"), "--resume", str(control_checkpoints)], capsys)
    assert "it was trained with torch " in err and "this run has torch 0.0.1" in err


def test_other_data_is_refused(folder, control_checkpoints, tmp_path, capsys):
    (tmp_path / "control.nqa").write_text(SPECS["control"], encoding="utf-8")
    rows = (folder / "iris.csv").read_text().splitlines()
    (tmp_path / "iris.csv").write_text("\n".join(rows[:-1]) + "\n")
    err = _refusal(["run", str(tmp_path / "control.nqa"), "--resume", str(control_checkpoints)], capsys)
    assert "the data differs from the rows it was trained on" in err


def test_a_damaged_newest_checkpoint_gives_way_to_the_one_before(folder, uninterrupted, control_checkpoints,
                                                                 capsys):
    newest = control_checkpoints / "checkpoint-00000030.safetensors"
    data = bytearray(newest.read_bytes())
    data[-5] ^= 1  # one bit of a tensor
    newest.write_bytes(bytes(data))
    report = _resumed_report(folder, "control", control_checkpoints, capsys)
    assert report == uninterrupted["control"]


def test_damaged_checkpoints_are_named_and_resumed_from_the_one_before(folder, control_checkpoints, capsys):
    newest = control_checkpoints / "checkpoint-00000030.safetensors"
    newest.write_bytes(newest.read_bytes()[:1000])
    out = folder / "control.cut.json"
    assert main(["run", str(folder / "control.nqa"), "-q", "--json", str(out),
                 "--resume", str(control_checkpoints)]) == 0
    err = capsys.readouterr().err
    assert (f"nqa: `{newest}` is damaged (it is cut short): resuming from the checkpoint before, "
            f"`{control_checkpoints / 'checkpoint-00000020.safetensors'}`") in err


def test_a_folder_of_nothing_but_damaged_checkpoints_is_refused(folder, control_checkpoints, capsys):
    for path in control_checkpoints.iterdir():
        path.write_bytes(b"\x80\x04not a checkpoint")
    err = _refusal(["run", str(folder / "control.nqa"), "--resume", str(control_checkpoints)], capsys)
    assert f"error: cannot resume from `{control_checkpoints}`: `" in err
    assert "is damaged" in err and "start the run afresh without --resume" in err


@pytest.mark.parametrize(("make", "says"), [
    (lambda p: p.mkdir(), "it holds no checkpoint"),
    (lambda p: None, "there is no such folder"),
    (lambda p: p.write_text("x"), "it is not a folder")])
def test_resuming_from_a_folder_without_checkpoints_is_refused(make, says, folder, tmp_path, capsys):
    make(tmp_path / "ck")
    err = _refusal(["run", str(folder / "control.nqa"), "--resume", str(tmp_path / "ck")], capsys)
    assert err.startswith(f"error: cannot resume from `{tmp_path / 'ck'}`: {says}")


@pytest.mark.parametrize(("extra", "says"), [
    (["--runs", "3", "--checkpoint-every", "2"], "error: --checkpoint-every cannot be used with --runs"),
    (["--resume", "ck", "--load", "w.safetensors"], "error: --load cannot be used with --resume"),
    (["--checkpoint-every", "2", "--trace", "grads"], "error: --trace cannot be used with checkpoints"),
    (["--checkpoint-dir", "ck"], "error: --checkpoint-dir applies only with --checkpoint-every or --resume"),
    (["--checkpoint-every", "0"], "argument --checkpoint-every: expected a number of at least 1, not 0")])
def test_what_cannot_be_resumed_exactly_is_refused(extra, says, folder, capsys):
    assert says in _refusal(["run", str(folder / "control.nqa"), *extra], capsys)


def test_a_sweep_is_refused(tmp_path, folder, capsys):
    (tmp_path / "iris.csv").write_bytes((folder / "iris.csv").read_bytes())
    (tmp_path / "sweep.nqa").write_text(SPECS["onecycle"].replace("max_lr=0.2", "max_lr=choice(0.1, 0.2)"))
    err = _refusal(["run", str(tmp_path / "sweep.nqa"), "--checkpoint-every", "2"], capsys)
    assert "error: --checkpoint-every cannot be used with a sweep (a spec with `choice(...)` values)" in err


@pytest.mark.parametrize(("options", "says"), [
    ({"checkpoint_every": 0}, "checkpoint_every must be at least 1, not 0"),
    ({"checkpoint_every": 2}, "checkpoint_every needs a folder to write into: checkpoint_dir"),
    ({"checkpoint_dir": "ck"}, "checkpoint_dir applies only with checkpoint_every or resume"),
    ({"resume": 3}, "resume must be a path, not int")])
def test_train_options_are_checked_as_python_spells_them(options, says):
    with pytest.raises(SpecError) as refused:
        TrainOptions(**options)
    assert says in str(refused.value)


def test_a_run_that_began_from_loaded_weights_resumes_from_its_checkpoint_alone(folder, tmp_path, monkeypatch,
                                                                                capsys):
    spec, weights = str(folder / "momentum.nqa"), tmp_path / "w.safetensors"
    assert main(["run", spec, "-q", "--epochs", "3",
                 "--save", str(weights)]) == 0
    plain, resumed = tmp_path / "plain.json", tmp_path / "resumed.json"
    assert main(["run", spec, "-q", "--load", str(weights), "--json", str(plain)]) == 0
    _dying_after_epoch(monkeypatch, 9)
    with pytest.raises(Died):
        main(["run", spec, "-q", "--load", str(weights), "--checkpoint-every", "3", "--checkpoint-dir",
              str(tmp_path / "ck")])
    monkeypatch.undo()
    assert main(["run", spec, "-q", "--json", str(resumed), "--resume", str(tmp_path / "ck")]) == 0
    assert report_of(resumed) == report_of(plain)  # its starting weights too: the loaded ones
