"""Reading a trained model for inference, with nothing of the trainer: the checkpoint format, the safe
(``weights_only=True``) load, the embedder rebuild and the verification entry ``reid evaluate`` stores.

A checkpoint is a dict::

    format        "reid-mc/1"
    arch          backbone name, e.g. "resnet50"
    input_size    [height, width] the model was trained at
    embedding_dim size D of the retrieval feature
    mean, std     per-channel normalisation of the 0..1 RGB input
    config        reid.config.to_dict(TrainConfig) of the run
    num_classes   identities of the classifier head (0 = none)
    model         state dict
  and, in last.pt only, what ``reid train --resume`` needs:
    optimizer, scaler, scheduler, sampler, rng, epoch (epochs finished), best_map, history
  and, once ``reid evaluate`` has run on it (``reid.engine.checkpoint.store_verification``):
    verification  {"far", "threshold", "tar", "eer", "same_pairs", "diff_pairs", "data"}: the distance
                  threshold at a false-accept rate over query-gallery pairs (``reid.metrics.verify``)

Everything is tensors, numbers, strings, lists and dicts, so ``torch.load(weights_only=True)`` reads it.
Writing checkpoints belongs to training (``reid.engine.checkpoint``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from reid.config import ConfigError, ModelConfig, from_dict
from reid.errors import CheckpointError, first_line
from reid.models.embedder import ReIDModel, build_model
from reid.models.foreign import weights_only_error

FORMAT = "reid-mc/1"
REQUIRED = ("arch", "input_size", "embedding_dim", "mean", "std", "config", "model")


@dataclass(frozen=True)
class EmbedderMeta:
    """How to feed crops to a trained model: resize to ``height x width``, scale to 0..1, ``(x - mean) / std``."""

    arch: str
    height: int
    width: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    embedding_dim: int
    link_threshold: float | None = None  # the verification threshold `reid evaluate` stored (None: not evaluated)

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> EmbedderMeta:
        h, w = (int(v) for v in payload["input_size"])
        verification = checkpoint_verification(payload)
        return cls(
            arch=str(payload["arch"]), height=h, width=w,
            mean=tuple(float(v) for v in payload["mean"]),  # type: ignore[arg-type]
            std=tuple(float(v) for v in payload["std"]),  # type: ignore[arg-type]
            embedding_dim=int(payload["embedding_dim"]),
            link_threshold=None if verification is None else float(verification["threshold"]),
        )

def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by ``reid.engine.checkpoint.save_checkpoint`` with ``weights_only=True``.

    Raises ``CheckpointError`` with a one-line message when the file is missing, truncated or corrupt, or is
    not one of ours (e.g. a bare torchvision state dict).
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: not found")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # a refused pickled object (named, with the way out), a damaged file ...
        raise weights_only_error(path, exc, then=" and convert that with `reid import-weights`") from exc
    if not isinstance(payload, dict):
        raise CheckpointError(f"{path}: not a reid checkpoint (holds a {type(payload).__name__})")
    missing = [k for k in REQUIRED if k not in payload]
    if payload.get("format") != FORMAT or missing:
        hint = " (a bare state dict? pass ImageNet weights with --pretrained)" if "model" not in payload else ""
        raise CheckpointError(f"{path}: not a reid checkpoint{hint}; missing: {', '.join(missing) or 'format'}")
    return payload


def model_config(payload: dict[str, Any], where: str | Path = "checkpoint") -> ModelConfig:
    """The ``ModelConfig`` a checkpoint was trained with (``pretrained`` cleared: weights come from it)."""
    try:
        cfg = from_dict(ModelConfig, payload["config"]["model"], where=f"{where}: config.model")
    except (ConfigError, KeyError, TypeError) as exc:
        raise CheckpointError(f"{where}: unusable model config ({first_line(exc)})") from exc
    return replace(cfg, pretrained=None)


def load_embedder(path: str | Path, device: torch.device | str = "cpu") -> tuple[ReIDModel, EmbedderMeta]:
    """Rebuild a trained model for retrieval: ``(model in eval mode on device, EmbedderMeta)``.

    The classifier head is dropped; ``model(x)`` returns ``(B, D)`` L2-normalised float32 features for images
    preprocessed as ``meta`` says.
    """
    payload = load_checkpoint(path)
    model = build_model(model_config(payload, path), num_classes=0)
    state = {k: v for k, v in payload["model"].items() if not k.startswith("classifier.")}
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise CheckpointError(f"{path}: weights do not fit its own config ({first_line(exc)})") from exc
    return model.to(device).eval(), EmbedderMeta.from_payload(payload)


# ---------------------------------------------------------------------------------------------- verification

VERIFICATION_KEYS = {"far": float, "threshold": float, "tar": float, "eer": float, "same_pairs": int,
                     "diff_pairs": int, "data": str}


def verification_entry(info: Any, where: str | Path) -> dict[str, Any]:
    """``info`` with exactly ``VERIFICATION_KEYS``, each converted to its type; one-line error otherwise."""
    if not isinstance(info, dict):
        raise CheckpointError(f"{where}: verification entry is a {type(info).__name__}, not a dict")
    missing = [k for k in VERIFICATION_KEYS if k not in info]
    if missing:
        raise CheckpointError(f"{where}: verification entry lacks {', '.join(missing)}")
    try:
        out = {k: kind(info[k]) for k, kind in VERIFICATION_KEYS.items()}
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{where}: verification entry is malformed ({first_line(exc)})") from None
    if not np.isfinite(out["threshold"]) or not 0.0 <= out["far"] <= 1.0:
        raise CheckpointError(f"{where}: verification threshold {out['threshold']} at FAR {out['far']} is unusable")
    return out


def checkpoint_verification(payload: dict[str, Any], where: str | Path = "checkpoint") -> dict[str, Any] | None:
    """The ``verification`` entry ``reid evaluate`` stored in a loaded checkpoint, or ``None`` if it has none.

    Link when distance < ``threshold``; that threshold accepted a fraction ``far`` of the ``diff_pairs``
    different-person pairs of ``data``. A malformed entry raises a one-line ``CheckpointError``.
    """
    if payload.get("verification") is None:
        return None
    return verification_entry(payload["verification"], where)
