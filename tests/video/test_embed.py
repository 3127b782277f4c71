"""Crop embedders: the hand-crafted descriptor, checkpoint loading, tracklet pooling."""

from __future__ import annotations

import logging
import sys

import numpy as np
import pytest

from reid.config import EmbedConfig
from reid.data.synthetic import render_crop, sample_appearance
from reid.errors import CheckpointError
from reid.video.embed import (
    CheckpointEmbedder,
    Embedder,
    HandcraftedEmbedder,
    embed_tracklets,
    make_embedder,
    tracklet_embedding,
)
from reid.video.types import Crop, Tracklet


def crops_of(pid: int, cams: tuple[int, ...], seed: int = 0) -> list[np.ndarray]:
    """BGR crops of synthetic person ``pid`` as seen by each camera in ``cams`` (different nuisance)."""
    app = sample_appearance(np.random.default_rng([seed, pid]))
    return [render_crop(app, c, np.random.default_rng([seed, pid, c]), 128, 64)[:, :, ::-1].copy() for c in cams]


def test_handcrafted_same_person_closer_than_different() -> None:
    emb = HandcraftedEmbedder()
    people = 12
    a = emb.embed([crops_of(p, (0,))[0] for p in range(people)])  # camera 0
    b = emb.embed([crops_of(p, (1,))[0] for p in range(people)])  # the same people in camera 1
    d = np.linalg.norm(a[:, None] - b[None], axis=-1)
    same = np.diag(d).mean()
    different = d[~np.eye(people, dtype=bool)].mean()
    assert same < different - 0.1, (same, different)
    assert (d.argmin(1) == np.arange(people)).mean() >= 0.5  # rank-1 across cameras


def test_handcrafted_shapes_norm_and_empty() -> None:
    emb = HandcraftedEmbedder()
    assert isinstance(emb, Embedder)
    out = emb.embed(crops_of(0, (0, 1, 2)) + [np.zeros((30, 17, 3), np.uint8)])  # any crop size, even black
    assert out.shape == (4, emb.dim) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    assert emb.embed([]).shape == (0, emb.dim)


def test_handcrafted_batch_equals_one_by_one() -> None:
    emb = HandcraftedEmbedder()
    crops = crops_of(3, (0, 1)) + crops_of(4, (2,))
    batch = emb.embed(crops)
    single = np.concatenate([emb.embed([c]) for c in crops])
    np.testing.assert_allclose(batch, single, atol=1e-6)


def test_make_embedder_says_which(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="reid.video.embed"):
        emb = make_embedder(EmbedConfig(weights=None), "cpu")
    assert isinstance(emb, HandcraftedEmbedder)
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["no --weights given; using the hand-crafted colour/texture descriptor (training-free baseline)"]


def test_missing_weights_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(CheckpointError, match="not found"):
        make_embedder(EmbedConfig(weights=str(tmp_path / "nope.pt")), "cpu")


def test_onnx_without_onnxruntime_names_the_extra(tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails as if not installed
    path = tmp_path / "m.onnx"
    path.write_bytes(b"\0")
    with pytest.raises(CheckpointError, match=r'pip install -e "\.\[onnx\]"'):
        make_embedder(EmbedConfig(weights=str(path)), "cpu")


def test_tracklet_embedding_quality_weighted() -> None:
    e = np.eye(3, dtype=np.float32)
    out = tracklet_embedding(e[:2], np.array([3.0, 1.0]))
    np.testing.assert_allclose(out, np.array([3, 1, 0]) / np.sqrt(10), atol=1e-6)
    np.testing.assert_allclose(tracklet_embedding(e[:2], np.zeros(2)), np.array([1, 1, 0]) / np.sqrt(2), atol=1e-6)
    with pytest.raises(ValueError):
        tracklet_embedding(np.zeros((0, 3)), np.zeros(0))


class CountingEmbedder:
    name, dim = "count", 2

    def __init__(self) -> None:
        self.calls = 0

    def embed(self, crops: list[np.ndarray]) -> np.ndarray:
        self.calls += 1
        return np.array([[1.0, 0.0] if c.mean() > 100 else [0.0, 1.0] for c in crops], np.float32)


def tracklet(camera: str, track_id: int, crops: list[Crop]) -> Tracklet:
    n = 3
    return Tracklet(camera, "v.mp4", track_id, np.arange(n), np.arange(n) / 10.0, np.zeros((n, 4), np.float32),
                    np.ones(n, np.float32), crops)


def test_embed_tracklets_one_call_for_all_cameras() -> None:
    bright, dark = np.full((8, 4, 3), 200, np.uint8), np.full((8, 4, 3), 10, np.uint8)
    ts = [tracklet("a", 1, [Crop(0, bright, 1.0), Crop(1, dark, 3.0)]), tracklet("b", 1, []),
          tracklet("b", 2, [Crop(0, bright, 1.0)])]
    emb = CountingEmbedder()
    embed_tracklets(ts, emb)
    assert emb.calls == 1
    np.testing.assert_allclose(ts[0].embedding, np.array([1, 3]) / np.sqrt(10), atol=1e-6)
    assert ts[1].embedding is None
    np.testing.assert_allclose(ts[2].embedding, [1, 0])


@pytest.fixture
def tiny_checkpoint(tmp_path):
    checkpoint = pytest.importorskip("reid.engine.checkpoint", reason="reid.engine not there yet")
    from reid.config import DataConfig, ModelConfig, TrainConfig, to_dict
    from reid.models import build_model

    cfg = TrainConfig(model=ModelConfig(arch="resnet18", embedding_dim=16), data=DataConfig(height=64, width=32))
    model = build_model(cfg.model, num_classes=0)
    return checkpoint.save_checkpoint(tmp_path / "best.pt", {
        "arch": "resnet18", "input_size": (64, 32), "embedding_dim": 16, "mean": cfg.augment.mean,
        "std": cfg.augment.std, "config": to_dict(cfg), "num_classes": 0, "model": model.state_dict()})


def test_checkpoint_embedder(tiny_checkpoint) -> None:
    emb = make_embedder(EmbedConfig(weights=str(tiny_checkpoint), batch=2), "cpu")
    assert isinstance(emb, CheckpointEmbedder) and emb.dim == 16
    crops = crops_of(0, (0, 1, 2)) + [np.zeros((50, 20, 3), np.uint8)]
    out = emb.embed(crops)  # two batches of two
    assert out.shape == (4, 16) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.concatenate([emb.embed([c]) for c in crops]), out, atol=1e-5)
    assert emb.embed([]).shape == (0, 16)


def test_onnx_embedder_matches_checkpoint(tiny_checkpoint, tmp_path) -> None:
    pytest.importorskip("onnx", reason='optional extra: pip install -e ".[onnx]"')
    pytest.importorskip("onnxruntime", reason='optional extra: pip install -e ".[onnx]"')
    from reid.engine.onnx_export import export_onnx

    path = export_onnx(tiny_checkpoint, tmp_path / "m.onnx")
    onnx_emb = make_embedder(EmbedConfig(weights=str(path), batch=3), "cpu")
    assert onnx_emb.dim == 16 and onnx_emb.name.startswith("onnx:")
    crops = crops_of(1, (0, 1, 2, 3))
    expected = CheckpointEmbedder(tiny_checkpoint, "cpu").embed(crops)
    np.testing.assert_allclose(onnx_emb.embed(crops), expected, atol=1e-4)
    assert onnx_emb.embed([]).shape == (0, 16)
