"""`--precision bf16|fp16` and `--compile`: refused, before training, on a run that trains on the CPU (the
command line's message and exit code 2, and `train`'s in Python's words) or with checkpoints; and the
mechanics `runtime.precision` adds to the loop on a GPU, run here with torch's CPU autocast and CPU grad
scaler: bf16 and fp16 train to losses close to float32's, fp16's scaler skips a step whose gradients
overflow without the run being taken for diverged, and the report names the precision only when it is used.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from torch import nn

from conftest import ROOT
from runtime import TrainOptions, train
from runtime import precision as gpu
from runtime.cli import main
from runtime.json_text import json_text
from runtime.lean import forward_of, loss_of
from runtime.report import GpuInfo
from runtime.text_report import render_text
from spec_lang import SpecError

XOR = ROOT / "specs/examples/xor.nqa"
CUDA = torch.cuda.is_available()


@pytest.mark.skipif(CUDA, reason="the refusal is for a machine without a CUDA device")
@pytest.mark.parametrize("argv, expected", [
    (["--precision", "bf16"],
     ("error[E0932]: --precision bf16 applies only to a run on a CUDA GPU, and this run (--device cpu) trains on "
     "the CPU\n  = hint: train on a GPU with --device cuda, or leave out --precision to train on the CPU in "
     "float32\n")),
    (["--compile", "--precision", "fp16", "--device", "auto"],
     ("error[E0932]: --precision fp16 and --compile apply only to a run on a CUDA GPU, and this run "
     "(--device auto) found no CUDA device\n  = hint: train on a GPU with --device cuda, or leave out "
     "--precision and --compile to train on the CPU in float32\n")),
    (["--compile", "--checkpoint-every", "1"],
     ("error[E0933]: `--compile` cannot be used with checkpoints: a checkpoint does not record the precision, "
     "the compiled network or fp16's grad scaler, so a resumed run could not go on as it began\n"
     "  = hint: train without --checkpoint-every and --resume, or in fp32 without --compile\n")),
])
def test_the_command_line_refuses_them_on_the_cpu_before_training(argv, expected, tmp_path, capsys):
    out = tmp_path / "out.json"
    code = main(["run", str(XOR), "--json", str(out), "--save", str(tmp_path / "w.safetensors"),
                 "--no-log", *argv])
    captured = capsys.readouterr()
    assert (code, captured.err, captured.out) == (2, expected, "")
    assert list(tmp_path.iterdir()) == []  # no report, weights or checkpoints written


def test_fp32_is_the_default_and_can_be_named(capsys, tmp_path):
    code = main(["run", str(XOR), "--precision", "fp32", "--epochs", "3", "--no-log", "--json", "-"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert "gpu" not in report  # the default leaves the report as it was


def test_precision_and_compile_are_for_one_run(capsys):
    assert main(["run", str(XOR), "--runs", "2", "--precision", "bf16", "--no-log"]) == 2
    assert capsys.readouterr().err.startswith("error[E0902]: --precision cannot be used with --runs\n")


@pytest.mark.skipif(CUDA, reason="the refusal is for a machine without a CUDA device")
@pytest.mark.parametrize("options, expected", [
    ({"precision": "bf16"},
     ("error[E0932]: precision='bf16' applies only to a run on a CUDA GPU, and this run (device='cpu') trains on "
     "the CPU\n  = hint: train on a GPU with device='cuda', or leave out precision to train on the CPU in float32")),
    ({"compile": True, "device": "auto"},
     ("error[E0932]: compile=True applies only to a run on a CUDA GPU, and this run (device='auto') found no CUDA "
     "device\n  = hint: train on a GPU with device='cuda', or leave out compile to train on the CPU in float32")),
])
def test_train_refuses_them_on_the_cpu_in_pythons_words(options, expected):
    with pytest.raises(SpecError) as refused:
        train(XOR, options=TrainOptions(**options))
    assert str(refused.value) == expected


@pytest.mark.parametrize("options, expected", [
    ({"precision": "fp8"}, ("error[E0901]: precision must be one of fp32, bf16, fp16, not 'fp8'\n"
                            "  = hint: e.g. `precision='bf16'` (with a CUDA device)")),
    ({"compile": 1}, "error[E0901]: compile must be True or False, not 1\n  = hint: e.g. `compile=True`"),
    ({"precision": "fp16", "checkpoint_every": 2, "checkpoint_dir": Path("run.checkpoints")},
     ("error[E0933]: `precision='fp16'` cannot be used with checkpoints: a checkpoint does not record the "
     "precision, the compiled network or fp16's grad scaler, so a resumed run could not go on as it began\n"
     "  = hint: train without checkpoint_every and resume, or in fp32 without compile")),
])
def test_train_options_check_the_values(options, expected):
    with pytest.raises(SpecError) as refused:
        TrainOptions(**options)
    assert str(refused.value) == expected


def _problem():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 3))
    inputs = torch.randn(128, 4)
    targets = (inputs.sum(1) > 0).long() + (inputs[:, 0] > 1).long()
    return model, inputs, targets


def _train(precision: str | None, steps: int = 40, scaler=None):
    """`steps` full-batch SGD steps through `wrapped`, as the loop takes them, with CPU autocast."""
    model, inputs, targets = _problem()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.2)
    mixed = gpu.Mixed(precision, False, "cpu") if precision else None
    forward, loss, backward, step = gpu.wrapped(mixed, model, forward_of(model), loss_of(nn.CrossEntropyLoss()),
                                                optimizer.step, optimizer)
    if scaler is not None and mixed is not None:
        backward, step = gpu.scaled(mixed, optimizer, scaler)
    losses, outputs = [], None
    for _ in range(steps):
        optimizer.zero_grad()
        outputs = forward(inputs)
        value = loss(outputs, targets)
        losses.append(value.item())
        backward(value)
        step()
    return losses, outputs, model, mixed


def test_without_precision_the_loop_is_given_back_untouched():
    model, _, _ = _problem()
    forward, loss, step = forward_of(model), loss_of(nn.MSELoss()), (lambda: None)
    assert gpu.wrapped(None, model, forward, loss, step, None) == (forward, loss, torch.Tensor.backward, step)
    assert gpu.mixed_of(TrainOptions(), torch.device("cpu")) is None


@pytest.mark.parametrize("precision, dtype", [("bf16", torch.bfloat16), ("fp16", torch.float16)])
def test_autocast_trains_close_to_float32(precision, dtype):
    plain, plain_out, _, _ = _train(None)
    mixed, mixed_out, model, state = _train(precision)
    assert plain_out.dtype == torch.float32 and mixed_out.dtype == dtype  # the forward ran in `dtype`
    assert all(p.dtype == torch.float32 for p in model.parameters())  # the weights stay float32
    assert plain[-1] < 0.75 * plain[0]  # it learned
    assert max(abs(a - b) for a, b in zip(plain, mixed, strict=True)) < 0.02
    assert state.skipped == 0


def test_fp16_skips_a_step_whose_gradients_overflow_and_goes_on():
    """A scale of 2**40 makes the float16 gradients infinite: the scaler skips those steps (the weights
    stay as they were), halves its scale until they fit, and the losses, unscaled, stay finite."""
    model, _, _ = _problem()
    start = {name: t.clone() for name, t in model.state_dict().items()}
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 40)
    losses, _, model, mixed = _train("fp16", steps=1, scaler=scaler)
    assert mixed.skipped == 1 and scaler.get_scale() == 2.0 ** 39
    assert all(torch.equal(t, start[name]) for name, t in model.state_dict().items())
    losses, _, model, mixed = _train("fp16", steps=60, scaler=torch.amp.GradScaler("cpu", init_scale=2.0 ** 40))
    assert 0 < mixed.skipped < 60 and all(math.isfinite(v) for v in losses)
    assert losses[-1] < 0.75 * losses[0]


def test_a_bf16_run_through_train_reports_its_precision(monkeypatch):
    """The whole loop with bf16, on the CPU: `on_gpu` is made to say yes, so that the refusal (for users) lets
    the run through to torch's CPU autocast; the report names the precision, in JSON and in the text."""
    monkeypatch.setattr(gpu, "on_gpu", lambda device: True)
    spec = ROOT / "specs/examples/digits.nqa"
    plain = train(spec, epochs=2).report
    run = train(spec, options=TrainOptions(epochs=2, precision="bf16"))
    assert run.report.gpu == GpuInfo(precision="bf16", compiled=False, skipped_steps=0)
    assert json.loads(json_text(run.report))["gpu"] == {"precision": "bf16", "compiled": False, "skipped_steps": 0}
    assert render_text(run.report).startswith(f"nqa run {spec}  (seed 0, bf16)\n")
    assert plain.gpu is None and "gpu" not in json.loads(json_text(plain))
    assert len(run.report.losses) == len(plain.losses) and not run.report.stopped
    assert abs(run.report.validation.accuracy - plain.validation.accuracy) < 0.05
    assert abs(run.report.final_loss - plain.final_loss) < 0.05


def test_the_text_report_names_fp16s_skipped_steps_and_compile():
    assert render_text_header(GpuInfo(precision="fp16", compiled=True, skipped_steps=3)) == \
        ", fp16 (3 steps skipped by the grad scaler), compiled"
    assert render_text_header(GpuInfo(precision="fp32", compiled=True)) == ", compiled"


def render_text_header(info: GpuInfo) -> str:
    from runtime.text_report import gpu_text

    return gpu_text(info)


def test_an_fp16_run_through_train_clips_true_gradients_and_steps_through_the_scaler(monkeypatch, tmp_path):
    """fp16 through the whole loop, on the CPU as above, with SGD (which, unlike Adam, moves by the size of the
    gradient), `clip`, a schedule and `stop`: the clipped gradients are the unscaled ones (clipping the scaled
    ones would leave almost no step), so the run follows fp32's; and the report names fp16."""
    monkeypatch.setattr(gpu, "on_gpu", lambda device: True)
    text = (ROOT / "specs/examples/iris_control.nqa").read_text(encoding="utf-8")
    spec = tmp_path / "iris_sgd.nqa"
    spec.write_text(text.replace("optimizer adam lr=0.01", "optimizer sgd lr=0.1").replace("clip 1.0", "clip 0.5"),
                    encoding="utf-8")
    (tmp_path / "iris.csv").write_bytes((ROOT / "specs/examples/iris.csv").read_bytes())
    plain = train(spec, epochs=30).report
    run = train(spec, options=TrainOptions(epochs=30, precision="fp16")).report
    assert run.gpu is not None and run.gpu.precision == "fp16"
    skipped = f"{run.gpu.skipped_steps} step{'' if run.gpu.skipped_steps == 1 else 's'} skipped by the grad scaler"
    assert render_text(run).startswith(f"nqa run {spec}  (seed 0, fp16 ({skipped}))\n")
    assert len(run.losses) == len(plain.losses) and run.learning_rates == plain.learning_rates
    assert plain.final_loss < 0.5 * plain.epoch_losses[0]  # it learned
    assert abs(run.final_loss - plain.final_loss) < 0.02 and not run.stopped


def test_a_missing_cuda_device_is_refused_from_python_in_python_words():
    from spec_lang import SpecError

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA device")
    with pytest.raises(SpecError) as refused:
        train("linear 1->1\nexample [1] -> [2]\n", options=TrainOptions(device="cuda"))
    assert str(refused.value) == ("error[E0916]: device='cuda' was asked for, but no CUDA device is available\n"
                                  "  = hint: use device='cpu', or device='auto' to use a GPU when there is one")
