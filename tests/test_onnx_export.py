"""ONNX export of the embedder: dynamic batch, metadata, parity with PyTorch through onnxruntime."""

import pytest

onnx = pytest.importorskip("onnx", reason="optional extra: pip install -e '.[onnx]'")
ort = pytest.importorskip("onnxruntime")

from reid.cli import main  # noqa: E402
from reid.config import DataConfig, ModelConfig, TrainConfig, to_dict  # noqa: E402
from reid.engine.checkpoint import save_checkpoint  # noqa: E402
from reid.models import build_model  # noqa: E402


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    cfg = TrainConfig(model=ModelConfig(arch="resnet18", embedding_dim=32), data=DataConfig(height=64, width=32))
    model = build_model(cfg.model, num_classes=5)
    path = tmp_path_factory.mktemp("ckpt") / "best.pt"
    save_checkpoint(path, {"arch": "resnet18", "input_size": (64, 32), "embedding_dim": 32,
                           "mean": cfg.augment.mean, "std": cfg.augment.std, "config": to_dict(cfg),
                           "num_classes": 5, "model": model.state_dict()})
    return path


def test_export_model_cli_writes_parity_checked_onnx(tiny_checkpoint, tmp_path, capsys):
    out = tmp_path / "m.onnx"
    assert main(["export-model", "--weights", str(tiny_checkpoint), "--onnx", str(out)]) == 0
    assert "max abs diff" in capsys.readouterr().out
    proto = onnx.load(str(out))
    props = {p.key: p.value for p in proto.metadata_props}
    assert props["reid.height"] == "64" and props["reid.width"] == "32"
    assert props["reid.embedding_dim"] == "32"
    import numpy as np

    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    for batch in (1, 7):  # dynamic batch axis
        emb = session.run(None, {"images": np.random.rand(batch, 3, 64, 32).astype("float32")})[0]
        assert emb.shape == (batch, 32)
        np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)


def test_export_model_missing_weights_is_one_line(tmp_path, capsys):
    assert main(["export-model", "--weights", str(tmp_path / "nope.pt"), "--onnx", str(tmp_path / "m.onnx")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "nope.pt: not found" in err and "\n" not in err
