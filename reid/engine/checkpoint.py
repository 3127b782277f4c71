"""Self-describing checkpoints: atomic save, safe (``weights_only=True``) load, and the embedder loader.

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
  and, once ``reid evaluate`` has run on it (``store_verification``):
    verification  {"far", "threshold", "tar", "eer", "same_pairs", "diff_pairs", "data"}: the distance
                  threshold at a false-accept rate over query-gallery pairs (``reid.metrics.verify``)

Everything is tensors, numbers, strings, lists and dicts, so ``torch.load(weights_only=True)`` reads it.
"""

from __future__ import annotations

import os
import random
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from reid.config import ConfigError, ModelConfig, TrainConfig, from_dict, to_dict
from reid.errors import CheckpointError, first_line
from reid.models import ReIDModel, build_model

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


def model_payload(cfg: TrainConfig, model: ReIDModel, num_classes: int = 0) -> dict[str, Any]:
    """The self-describing part of every checkpoint (see the module docstring) for ``model`` built from ``cfg``."""
    return {
        "arch": cfg.model.arch, "input_size": [cfg.data.height, cfg.data.width],
        "embedding_dim": model.embedding_dim, "mean": list(cfg.augment.mean), "std": list(cfg.augment.std),
        "config": to_dict(cfg), "num_classes": num_classes, "model": model.state_dict(),
    }


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` to ``path`` atomically: a temporary file in the same folder, then ``os.replace``.

    A crash while saving leaves the previous file intact; a folder that cannot be written raises a one-line
    ``CheckpointError``.
    """
    path = Path(path)
    payload = {"format": FORMAT, **payload}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot write it ({exc.strerror or first_line(exc)})") from None
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise CheckpointError(f"{path}: cannot write it ({exc.strerror or first_line(exc)})") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by ``save_checkpoint`` with ``weights_only=True``.

    Raises ``CheckpointError`` with a one-line message when the file is missing, truncated or corrupt, or is
    not one of ours (e.g. a bare torchvision state dict).
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: not found")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:
        raise CheckpointError(f"{path}: truncated, corrupt or not a PyTorch file ({first_line(exc)})") from exc
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


def _verification_entry(info: Any, where: str | Path) -> dict[str, Any]:
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


def store_verification(path: str | Path, info: dict[str, Any]) -> Path:
    """Add (or replace) the checkpoint's ``verification`` entry; the file is rewritten atomically.

    ``info``: far, threshold, tar, eer (floats), same_pairs, diff_pairs (ints), data (str: the data set).
    """
    entry = _verification_entry(info, path)
    payload = load_checkpoint(path)
    payload["verification"] = entry
    return save_checkpoint(path, payload)


def checkpoint_verification(payload: dict[str, Any], where: str | Path = "checkpoint") -> dict[str, Any] | None:
    """The ``verification`` entry ``reid evaluate`` stored in a loaded checkpoint, or ``None`` if it has none.

    Link when distance < ``threshold``; that threshold accepted a fraction ``far`` of the ``diff_pairs``
    different-person pairs of ``data``. A malformed entry raises a one-line ``CheckpointError``.
    """
    if payload.get("verification") is None:
        return None
    return _verification_entry(payload["verification"], where)


# ---------------------------------------------------------------------------------------------- RNG states


def rng_state() -> dict[str, Any]:
    """Global RNG states (torch CPU and CUDA, numpy, python) as tensors and lists (``weights_only``-safe)."""
    _, keys, pos, has_gauss, cached = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {"keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
        "python": {"version": int(version), "state": torch.tensor(internal, dtype=torch.int64),
                   "gauss_next": [] if gauss_next is None else [float(gauss_next)]},
    }


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what ``rng_state`` captured (CUDA states only when as many GPUs are visible)."""
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])
    n = state["numpy"]
    np.random.set_state(("MT19937", n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"],
                         n["cached_gaussian"]))
    p = state["python"]
    gauss = p["gauss_next"][0] if p["gauss_next"] else None
    random.setstate((p["version"], tuple(int(x) for x in p["state"].tolist()), gauss))
