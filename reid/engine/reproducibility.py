"""Reproducible training: seeds, the augmentation stream of each (epoch, rank), and kernel flags."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    """Seed python's, numpy's and torch's global generators (model initialisation uses them)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def augment_seed(seed: int, epoch: int, rank: int = 0) -> int:
    """Seed of the augmentation stream of ``(seed, epoch, rank)``: a resumed epoch replays it exactly, ranks
    of a multi-process run augment differently, and rank 0 keeps the single-process stream."""
    return seed * 1_000_003 + epoch + (rank << 48)


@contextlib.contextmanager
def trainer_flags(device: torch.device) -> Iterator[None]:
    """Deterministic kernels on the CPU (cheap there); cuDNN autotuning on CUDA. Restores global flags."""
    previous = (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled(),
                torch.backends.cudnn.benchmark)
    if device.type == "cpu":
        torch.use_deterministic_algorithms(True, warn_only=True)
    else:
        torch.backends.cudnn.benchmark = True
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous[0], warn_only=previous[1])
        torch.backends.cudnn.benchmark = previous[2]
