"""A tiny synthetic Market-1501 set (12 train / 12 test identities, 64x32) and a matching TrainConfig."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reid.config import DataConfig, ModelConfig, OptimConfig, TrainConfig
from reid.data.synthetic import generate

H, W = 64, 32


@pytest.fixture(scope="session")
def tiny_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp("synth"), num_ids=24, cams=3, seed=0, height=H, width=W,
                    images_per_id=8)


@pytest.fixture
def tiny_cfg(tiny_root: Path, tmp_path: Path) -> Callable[..., TrainConfig]:
    """``tiny_cfg(out_name, epochs=..., ...)``: resnet18 at 64x32, P=4 K=4, CPU, writing to tmp_path/out_name;
    warm-up 1 epoch then cosine unless ``optim`` says otherwise."""

    def make(out: str = "run", optim: OptimConfig | None = None, **kw: Any) -> TrainConfig:
        values: dict[str, Any] = {
            "data": DataConfig(root=str(tiny_root), height=H, width=W, p=4, k=4),
            "model": ModelConfig(arch="resnet18", last_stride=1),
            # epochs as written (no stretching to the run's length), so a run cut short and resumed with more
            # epochs follows the same schedule as one run straight through
            "optim": optim or OptimConfig(lr=1e-3, warmup_epochs=1, schedule="cosine", schedule_epochs=0),
            "out": str(tmp_path / out), "epochs": 2, "eval_every": 1, "seed": 0, "device": "cpu",
        }
        values.update(kw)
        return TrainConfig(**values)

    return make
