"""`nqa run --tensorboard DIR`: refused before training without the package; event files with it."""

from __future__ import annotations

import importlib.util

import pytest

from conftest import ROOT
from runtime.cli import main

NEURON = str(ROOT / "specs/neuron.nqa")
INSTALLED = importlib.util.find_spec("tensorboard") is not None


@pytest.mark.skipif(INSTALLED, reason="the tensorboard package is installed")
def test_without_the_package_it_is_refused_before_training(tmp_path, capsys, _run_log_elsewhere):
    assert main(["run", NEURON, "--tensorboard", str(tmp_path / "tb")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "error[E0904]: --tensorboard needs the tensorboard package, which is not installed" in captured.err
    assert "pip install 'nqa[tensorboard]'" in captured.err
    assert not (tmp_path / "tb").exists() and not (_run_log_elsewhere / "runs.db").exists()


def test_it_cannot_go_with_runs(tmp_path, capsys):
    assert main(["run", NEURON, "--runs", "2", "--tensorboard", str(tmp_path / "tb")]) == 2
    assert "--tensorboard cannot be used with --runs" in capsys.readouterr().err


@pytest.mark.skipif(not INSTALLED, reason="the tensorboard package is not installed")
def test_the_losses_are_written_as_event_files(tmp_path, capsys):
    reading = importlib.import_module("tensorboard.backend.event_processing.event_accumulator")
    assert main(["run", NEURON, "--epochs", "5", "-q", "--tensorboard", str(tmp_path / "tb")]) == 0
    events = reading.EventAccumulator(str(tmp_path / "tb"))
    events.Reload()
    assert [e.step for e in events.Scalars("loss/step")] == [1, 2, 3, 4, 5]
