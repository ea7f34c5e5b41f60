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
    assert err.startswith("error: ONNX export needs onnxscript, which is not installed")
    assert "pip install 'nqa[onnx]'" in err
