"""What a resumed run could not repeat exactly is refused, saying why: a checkpoint of
another spec, data, seed, epochs or torch; a folder with no checkpoint or only damaged
ones (a damaged newest one gives way to the one before, said on stderr); and the
options that do not go with checkpoints (`--runs`, sweeps, `--trace`, `--load` with
`--resume`), on the command line and in `TrainOptions`. Never a traceback, exit 2.
"""

from __future__ import annotations

import pytest
import torch

from resume_specs import SPECS, report_of, spec_folder
from runtime import TrainOptions
from runtime.cli import main
from spec_lang import SpecError


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return spec_folder(tmp_path_factory.mktemp("specs"))


@pytest.fixture(scope="module")
def uninterrupted(folder):
    out = folder / "control.plain.json"
    assert main(["run", str(folder / "control.nqa"), "--json", str(out), "--quiet"]) == 0
    return {"control": report_of(out)}


def _resumed_report(folder, name, checkpoints, capsys) -> dict:
    out = folder / f"{name}.resumed.json"
    assert main(["run", str(folder / f"{name}.nqa"), "--json", str(out), "-q", "--resume", str(checkpoints)]) == 0
    assert "resuming from" in capsys.readouterr().err
    return report_of(out)


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
    assert err == (f"error[E0912]: cannot resume from `{control_checkpoints}`: the spec differs from the one it was "
                   "trained on (line 6: `optimizer adam lr=0.01` there, `optimizer adam lr=0.02` here); it was "
                   "trained with seed 0, this run has seed 1; it was trained with 40 epochs, this run has 50 "
                   "epochs\n  = hint: resume with the spec, data, --seed, --epochs and --device the run began "
                   "with, or start afresh without --resume\n")


def test_another_seed_alone_is_named_as_the_seed_not_as_other_data(folder, control_checkpoints, capsys):
    err = _refusal(["run", str(folder / "control.nqa"), "--resume", str(control_checkpoints), "--seed", "3"], capsys)
    assert err.startswith(f"error[E0912]: cannot resume from `{control_checkpoints}`: it was trained with seed 0, "
                          "this run has seed 3\n")


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


@pytest.mark.parametrize("field, value", [("epoch", "0"), ("epoch", "999"), ("values", '{"x": 1}')])
def test_a_checkpoint_whose_metadata_was_altered_is_damaged(folder, uninterrupted, control_checkpoints, capsys,
                                                           field, value):
    import json

    from safetensors.torch import load_file, save_file

    newest = control_checkpoints / "checkpoint-00000030.safetensors"
    size = int.from_bytes(newest.read_bytes()[:8], "little")
    metadata = json.loads(newest.read_bytes()[8:8 + size])["__metadata__"]
    save_file(load_file(newest), newest, metadata={**metadata, field: value})  # the tensors as they were
    out = folder / "control.altered.json"
    assert main(["run", str(folder / "control.nqa"), "-q", "--json", str(out),
                 "--resume", str(control_checkpoints)]) == 0
    err = capsys.readouterr().err
    assert f"nqa: `{newest}` is damaged (its contents do not match their sha256: it was altered)" in err
    assert report_of(out) == uninterrupted["control"]


def test_a_folder_of_nothing_but_damaged_checkpoints_is_refused(folder, control_checkpoints, capsys):
    for path in control_checkpoints.iterdir():
        path.write_bytes(b"\x80\x04not a checkpoint")
    err = _refusal(["run", str(folder / "control.nqa"), "--resume", str(control_checkpoints)], capsys)
    assert f"error[E0912]: cannot resume from `{control_checkpoints}`: `" in err
    assert "is damaged" in err and "start the run afresh without --resume" in err


@pytest.mark.parametrize(("make", "says"), [
    (lambda p: p.mkdir(), "it holds no checkpoint"),
    (lambda p: None, "there is no such folder"),
    (lambda p: p.write_text("x"), "it is not a folder")])
def test_resuming_from_a_folder_without_checkpoints_is_refused(make, says, folder, tmp_path, capsys):
    make(tmp_path / "ck")
    err = _refusal(["run", str(folder / "control.nqa"), "--resume", str(tmp_path / "ck")], capsys)
    assert err.startswith(f"error[E0912]: cannot resume from `{tmp_path / 'ck'}`: {says}")


@pytest.mark.parametrize(("extra", "says"), [
    (["--runs", "3", "--checkpoint-every", "2"], "error[E0902]: --checkpoint-every cannot be used with --runs"),
    (["--resume", "ck", "--load", "w.safetensors"], "error[E0902]: --load cannot be used with --resume"),
    (["--checkpoint-every", "2", "--trace", "grads"], "error[E0902]: --trace cannot be used with checkpoints"),
    (["--checkpoint-dir", "ck"], "error[E0902]: --checkpoint-dir applies only with --checkpoint-every or --resume"),
    (["--checkpoint-every", "0"], "argument --checkpoint-every: expected a number of at least 1, not 0")])
def test_what_cannot_be_resumed_exactly_is_refused(extra, says, folder, capsys):
    assert says in _refusal(["run", str(folder / "control.nqa"), *extra], capsys)


def test_a_sweep_is_refused(tmp_path, folder, capsys):
    (tmp_path / "iris.csv").write_bytes((folder / "iris.csv").read_bytes())
    (tmp_path / "sweep.nqa").write_text(SPECS["onecycle"].replace("max_lr=0.2", "max_lr=choice(0.1, 0.2)"))
    err = _refusal(["run", str(tmp_path / "sweep.nqa"), "--checkpoint-every", "2"], capsys)
    assert "error[E0902]: --checkpoint-every cannot be used with a sweep (a spec with `choice(...)` values)" in err


@pytest.mark.parametrize(("options", "says"), [
    ({"checkpoint_every": 0}, "checkpoint_every must be at least 1, not 0"),
    ({"checkpoint_every": 2}, "checkpoint_every needs a folder to write into: checkpoint_dir"),
    ({"checkpoint_dir": "ck"}, "checkpoint_dir applies only with checkpoint_every or resume"),
    ({"resume": 3}, "resume must be a path, not int")])
def test_train_options_are_checked_as_python_spells_them(options, says):
    with pytest.raises(SpecError) as refused:
        TrainOptions(**options)
    assert says in str(refused.value)


def test_a_checkpoint_folder_holding_the_load_file_under_a_checkpoint_name_is_refused(folder, tmp_path, capsys):
    ck = tmp_path / "L"
    ck.mkdir()
    weights = ck / "checkpoint-00000001.safetensors"
    assert main(["run", str(folder / "control.nqa"), "-q", "--save", str(weights)]) == 0
    before = weights.read_bytes()
    err = _refusal(["run", str(folder / "control.nqa"), "-q", "--load", str(weights), "--checkpoint-every", "2",
                    "--checkpoint-dir", str(ck)], capsys)
    assert (f"error[E0905]: `{weights}` is the --load file of this run, but it lies in the checkpoint folder `{ck}`, "
            "whose checkpoints a run replaces") in err
    assert weights.read_bytes() == before


def test_an_output_over_a_checkpoint_of_the_folder_is_refused(folder, control_checkpoints, capsys):
    newest = max(control_checkpoints.iterdir())
    before = newest.read_bytes()
    err = _refusal(["run", str(folder / "control.nqa"), "-q", "--resume", str(control_checkpoints),
                    "--json", str(newest)], capsys)
    assert f"error[E0905]: --json `{newest}` would write over a checkpoint of `{control_checkpoints}`" in err
    assert newest.read_bytes() == before
