"""`--checkpoint-every`, `--checkpoint-dir` and `--resume`: a run stopped at an epoch
boundary, within an epoch or by Ctrl-C, and resumed, ends bit for bit where the
same run never stopped ends (its losses, learning rates, early stopping and final
weights); checkpoints go where they are said to, the last two kept.
tests/test_resume_refusals.py holds what is refused.

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
