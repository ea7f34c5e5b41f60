"""`nqa export --onnx`: the exported network, loaded back with onnxruntime,
gives the trained network's outputs to 1e-6 (absolute, plus 1e-6 relative
for large outputs), for any batch size."""

from __future__ import annotations

import pytest
import torch

from conftest import ROOT
from runtime.cli import main

ort = pytest.importorskip("onnxruntime")  # installed with the test extra; optional for users


def _session(path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("name", ["mlp", "examples/iris"])
def test_trained_export_matches_the_trained_network(name, tmp_path, capsys):
    from runtime import train

    out = tmp_path / "model.onnx"
    assert main(["export", str(ROOT / f"specs/{name}.nqa"), "--onnx", str(out)]) == 0
    assert capsys.readouterr().out == f"{out}: written\n"
    model = train(ROOT / f"specs/{name}.nqa").model.eval()
    width = model[0].in_features
    for batch in (1, 5):
        x = torch.randn(batch, width, generator=torch.Generator().manual_seed(batch))
        (got,) = _session(out).run(None, {"input": x.numpy()})
        with torch.no_grad():
            assert torch.allclose(torch.from_numpy(got), model(x), atol=1e-6, rtol=1e-6)


def test_untrained_export_is_the_seeded_network(tmp_path, capsys):
    from compiler import compile_spec

    out = tmp_path / "model.onnx"
    assert main(["export", str(ROOT / "specs/mlp.nqa"), "--onnx", str(out), "--untrained", "--seed", "4"]) == 0
    torch.manual_seed(4)
    model = compile_spec(ROOT / "specs/mlp.nqa").eval()
    x = torch.ones(3, 2)
    (got,) = _session(out).run(None, {"input": x.numpy()})
    with torch.no_grad():
        assert torch.allclose(torch.from_numpy(got), model(x), atol=1e-6, rtol=1e-6)


def test_missing_exporter_packages_are_one_clear_line(tmp_path, capsys, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "onnxscript" else real(n, *a))
    assert main(["export", str(ROOT / "specs/mlp.nqa"), "--onnx", str(tmp_path / "m.onnx"), "--untrained"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error[E0904]: ONNX export needs onnxscript, which is not installed")
    assert "pip install 'nqa[onnx]'" in err


SHAPED = {
    "conv": "input 1x8x8\nconv2d ->8 kernel=3 padding=1\nbatch_norm\nrelu\nmax_pool2d 2\n"
            "conv2d ->16 kernel=3 stride=2\nglobal_avg_pool\nlinear ->3\n",
    "conv1d": "input 3x12\nconv1d ->4 kernel=3 padding=same\navg_pool1d 2\nmax_pool1d 3\nlayer_norm\n"
              "flatten\nlinear ->2\n",
    "pools": "input 2x9x9\navg_pool2d 2 stride=1 padding=1\nflatten\ndropout p=0.2\nlinear ->1\n",
    "lstm": "input 5x4\nlstm ->8 layers=2\nlinear ->2\n",
    "gru": "input 6x3\ngru ->4 sequence\nlayer_norm\nflatten\nlinear ->1\n",
}


def _compare(out, model, x) -> None:
    (got,) = _session(out).run(None, {"input": x.numpy()})
    with torch.no_grad():
        want = model(x)
    assert got.shape == tuple(want.shape)
    assert torch.allclose(torch.from_numpy(got), want, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", sorted(SHAPED))
def test_a_shaped_network_exports_with_its_input_shape_for_any_batch(name, tmp_path, capsys):
    from compiler import check, compile_spec

    spec = tmp_path / f"{name}.nqa"
    spec.write_text(SHAPED[name])
    out = tmp_path / "model.onnx"
    assert main(["export", str(spec), "--onnx", str(out), "--untrained", "--seed", "3"]) == 0
    program = check(spec)
    torch.manual_seed(3)
    model = compile_spec(program).eval()
    (given,) = _session(out).get_inputs()
    assert given.shape[1:] == list(program.spec.input_type.sizes) and given.type == "tensor(float)"
    for batch in (1, 5):
        _compare(out, model, torch.randn(batch, *program.spec.input_type.sizes,
                                         generator=torch.Generator().manual_seed(batch)))


def test_an_embedding_network_takes_int64_ids(tmp_path):
    from compiler import CheckedSpec, Program
    from compiler.layers.embedding import Embedding
    from compiler.layers.linear import Linear
    from compiler.layers.reshape import Flatten
    from compiler.types import TensorType
    from runtime.export import export_onnx, untrained

    spec = CheckedSpec.model_construct(input_type=TensorType.of(6, dtype="int64"), layers=(
        Embedding(num_embeddings=50, embedding_dim=8), Flatten(), Linear(in_features=48, out_features=2)))
    program = Program(spec, "", "ids.nqa", ())
    out = tmp_path / "ids.onnx"
    model = untrained(program, 0)
    export_onnx(model, program, out)
    (given,) = _session(out).get_inputs()
    assert given.shape[1:] == [6] and given.type == "tensor(int64)"
    for batch in (1, 4):
        _compare(out, model.eval(), torch.randint(0, 50, (batch, 6), generator=torch.Generator().manual_seed(batch)))
