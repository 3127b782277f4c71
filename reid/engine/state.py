"""What ``last.pt`` holds beyond the weights, and putting it back: the parts of a run a resume continues.

``training_state`` collects the loss's own weights (center-loss centers), the optimisers, the AMP scaler, the
``LambdaLR`` schedule, the sampler's place in its plan and every random generator; ``load_training_state``
restores them into freshly built parts, so the resumed run takes the steps the uninterrupted one would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.optim.lr_scheduler import LambdaLR

from reid.engine.builders import BatchSampler, Optimizers
from reid.engine.checkpoint import rng_state, set_rng_state
from reid.errors import CheckpointError

Sampler = BatchSampler


def training_state(criterion: nn.Module, optimizers: Optimizers, scaler: torch.amp.GradScaler,
                   scheduler: LambdaLR, sampler: Sampler) -> dict[str, Any]:
    """Everything but the model a resumed run needs (plain tensors and numbers: ``weights_only`` loads it)."""
    state: dict[str, Any] = {
        "criterion": criterion.state_dict(), "optimizer": optimizers.main.state_dict(),
        "scaler": scaler.state_dict(), "scheduler": scheduler.state_dict(), "sampler": sampler.state_dict(),
        "rng": rng_state(),
    }
    if optimizers.center is not None:
        state["center_optimizer"] = optimizers.center.state_dict()
    return state


def load_training_state(payload: dict[str, Any], path: Path, model: nn.Module, criterion: nn.Module,
                        optimizers: Optimizers, scaler: torch.amp.GradScaler | None, scheduler: LambdaLR,
                        sampler: Sampler) -> None:
    """Restore ``payload`` (a ``last.pt`` read from ``path``) into the parts; ``scaler`` None when AMP is off.

    The schedule keeps the checkpoint's base rate (its ``base_lrs``), whatever the number of processes now.
    Raises ``CheckpointError`` when the weights do not fit or the file predates the ``LambdaLR`` schedule.
    """
    try:
        model.load_state_dict(payload["model"])
        if payload.get("criterion"):
            criterion.load_state_dict(payload["criterion"])
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0][:160]
        raise CheckpointError(f"{path}: weights do not fit this run's model and loss ({first})") from exc
    if "last_epoch" not in payload["scheduler"]:
        raise CheckpointError(f"{path}: written by an older reid whose schedule state cannot be resumed; "
                              "start a new run (another --out)")
    optimizers.main.load_state_dict(payload["optimizer"])
    if optimizers.center is not None and payload.get("center_optimizer"):
        optimizers.center.load_state_dict(payload["center_optimizer"])
    if scaler is not None and payload["scaler"]:
        scaler.load_state_dict(payload["scaler"])
    scheduler.load_state_dict(payload["scheduler"])
    sampler.load_state_dict(payload["sampler"])  # the global plan: any number of processes resumes it
    set_rng_state(payload["rng"])
