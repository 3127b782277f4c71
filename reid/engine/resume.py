"""Which checkpoint a ``--resume`` may continue: it must hold the full training state and match the run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reid.config import TrainConfig, to_dict
from reid.engine.checkpoint import load_checkpoint
from reid.errors import CheckpointError, TrainingError

# Settings a resumed run must share with the checkpoint (they change the model or what a batch is).
# ``data.p`` is the global batch, so the number of processes may change between runs.
RESUME_KEYS = ("model.arch", "model.last_stride", "model.pooling", "model.embedding_dim", "model.bnneck",
               "data.height", "data.width", "data.p", "data.k")
STATE_KEYS = ("optimizer", "scaler", "scheduler", "sampler", "rng", "epoch")


def _get(cfg_dict: dict[str, Any], dotted: str) -> Any:
    value: Any = cfg_dict
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def check_resumable(payload: dict[str, Any], cfg: TrainConfig, path: Path) -> None:
    """Raise ``TrainingError`` naming the first setting where ``cfg`` differs from the checkpoint's run."""
    saved, wanted = payload["config"], to_dict(cfg)
    for key in RESUME_KEYS:
        if _get(saved, key) != _get(wanted, key):
            raise TrainingError(f"{path}: was trained with {key}={_get(saved, key)!r} but this run asks for "
                                f"{_get(wanted, key)!r}; resume with the same settings or use another --out")
    if (payload.get("num_classes", 0) > 0) != (cfg.loss.id_weight > 0):
        raise TrainingError(f"{path}: id_weight on/off differs from the checkpoint; resume with the same loss")


def resume_payload(path: Path, cfg: TrainConfig) -> dict[str, Any]:
    """``path`` (a ``last.pt``) loaded and checked: ``CheckpointError`` if it is missing or lacks training
    state, ``TrainingError`` if it belongs to a different run."""
    if not path.is_file():
        raise CheckpointError(f"{path}: not found; nothing to resume (drop --resume to start a new run)")
    payload = load_checkpoint(path)
    for key in STATE_KEYS:
        if key not in payload:
            raise CheckpointError(f"{path}: has no {key!r} state; cannot resume from it")
    check_resumable(payload, cfg, path)
    return payload
