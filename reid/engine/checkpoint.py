"""Writing checkpoints (training's side): atomic save, the self-describing payload, the verification entry
``reid evaluate`` adds, and the RNG states a resume restores.

The format, the safe load and the embedder rebuild live below training, in ``reid.models.inference`` (a worker
that only embeds never imports the trainer); they are imported here under their old names.
"""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from reid.config import TrainConfig, to_dict
from reid.errors import CheckpointError, first_line
from reid.models import ReIDModel
from reid.models.inference import (
    FORMAT,
    EmbedderMeta,
    checkpoint_verification,
    load_checkpoint,
    load_embedder,
    model_config,
    verification_entry,
)

__all__ = [
    "EmbedderMeta", "checkpoint_verification", "load_checkpoint", "load_embedder", "model_config", "model_payload",
    "rng_state", "save_checkpoint", "set_rng_state", "store_verification",
]


def model_payload(cfg: TrainConfig, model: ReIDModel, num_classes: int = 0) -> dict[str, Any]:
    """The self-describing part of every checkpoint (the format: ``reid.models.inference``) for ``model`` built from ``cfg``."""
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


# ---------------------------------------------------------------------------------------------- verification


def store_verification(path: str | Path, info: dict[str, Any]) -> Path:
    """Add (or replace) the checkpoint's ``verification`` entry; the file is rewritten atomically.

    ``info``: far, threshold, tar, eer (floats), same_pairs, diff_pairs (ints), data (str: the data set).
    """
    entry = verification_entry(info, path)
    payload = load_checkpoint(path)
    payload["verification"] = entry
    return save_checkpoint(path, payload)


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
