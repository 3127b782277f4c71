"""reid.engine.checkpoint: atomic save, safe load, clear errors, embedder rebuild, RNG state round trip."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from reid.config import ModelConfig, TrainConfig, to_dict
from reid.engine.checkpoint import (
    EmbedderMeta,
    load_checkpoint,
    load_embedder,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from reid.errors import CheckpointError
from reid.models import build_model


def payload(model: torch.nn.Module) -> dict:
    cfg = TrainConfig(model=ModelConfig(arch="resnet18", embedding_dim=64, pooling="gem"))
    return {"arch": "resnet18", "input_size": [64, 32], "embedding_dim": 64, "mean": [0.5, 0.4, 0.3],
            "std": [0.2, 0.2, 0.2], "config": to_dict(cfg), "num_classes": 3, "model": model.state_dict(),
            "rng": rng_state(), "epoch": 4, "history": [{"epoch": 1, "loss": 0.5}]}


@pytest.fixture(scope="module")
def model() -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model(ModelConfig(arch="resnet18", embedding_dim=64, pooling="gem"), num_classes=3)


def test_round_trip_is_atomic_and_weights_only(tmp_path, model) -> None:
    path = tmp_path / "run" / "last.pt"
    save_checkpoint(path, payload(model))
    assert [p.name for p in path.parent.iterdir()] == ["last.pt"]  # no temporary file left behind
    loaded = load_checkpoint(path)
    assert loaded["epoch"] == 4 and loaded["history"] == [{"epoch": 1, "loss": 0.5}]
    for k, v in model.state_dict().items():
        assert torch.equal(loaded["model"][k], v)
    torch.load(path, weights_only=True)  # safe loading works without our loader


def test_failed_save_keeps_the_previous_file(tmp_path, model) -> None:
    path = tmp_path / "last.pt"
    save_checkpoint(path, payload(model))
    before = path.read_bytes()
    with pytest.raises(Exception):  # noqa: B017 - whatever pickling raises
        save_checkpoint(path, {**payload(model), "bad": lambda: 0})
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["last.pt"]


def test_missing_truncated_and_foreign_files(tmp_path, model) -> None:
    with pytest.raises(CheckpointError, match=r"nope\.pt: not found"):
        load_checkpoint(tmp_path / "nope.pt")
    good = tmp_path / "good.pt"
    save_checkpoint(good, payload(model))
    cut = tmp_path / "cut.pt"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(CheckpointError, match=r"cut\.pt: truncated, corrupt") as info:
        load_checkpoint(cut)
    assert "\n" not in str(info.value)
    text = tmp_path / "notes.pt"
    text.write_text("hello")
    with pytest.raises(CheckpointError, match=r"notes\.pt: truncated, corrupt"):
        load_checkpoint(text)
    bare = tmp_path / "resnet18.pth"
    torch.save(model.backbone.state_dict(), bare)
    with pytest.raises(CheckpointError, match=r"resnet18\.pth: not a reid checkpoint .*--pretrained"):
        load_checkpoint(bare)


def test_load_embedder_rebuilds_the_model(tmp_path, model) -> None:
    path = save_checkpoint(tmp_path / "best.pt", payload(model))
    embedder, meta = load_embedder(path, torch.device("cpu"))
    assert meta == EmbedderMeta("resnet18", 64, 32, (0.5, 0.4, 0.3), (0.2, 0.2, 0.2), 64)
    assert not embedder.training and embedder.classifier is None
    x = torch.randn(2, 3, 64, 32)
    model.eval()
    with torch.no_grad():
        assert torch.allclose(embedder(x), model(x))


def test_rng_state_round_trip() -> None:
    state = rng_state()
    a = (torch.rand(3), np.random.rand(3), random.random())
    set_rng_state(state)
    b = (torch.rand(3), np.random.rand(3), random.random())
    assert torch.equal(a[0], b[0]) and np.array_equal(a[1], b[1]) and a[2] == b[2]


def test_unwritable_destination_is_a_one_line_error(tmp_path) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    with pytest.raises(CheckpointError, match=r"a_file/x\.pt: cannot write it"):
        save_checkpoint(blocker / "x.pt", {"model": {}})
    folder = tmp_path / "dir.pt"
    folder.mkdir()
    with pytest.raises(CheckpointError, match=r"dir\.pt: cannot write it"):
        save_checkpoint(folder, {"model": {}})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file", "dir.pt"]  # no temporary file left behind
    assert list(folder.iterdir()) == []
