"""Watching a training loop: when losses come to the host, the NaN/inf check, the progress bar.

Losses stay on the device between host syncs (``reid.engine.run_log.EpochStats``), so a GPU loop never waits
for its kernels; ``sync_every`` says how often they come to the host, ``first_non_finite`` finds a diverged
step among them, ``progress_bar`` shows the epoch.
"""

from __future__ import annotations

import torch
from tqdm import tqdm

__all__ = ["GPU_SYNC_EVERY", "first_non_finite", "progress_bar", "sync_every"]

# Iterations between host syncs on an accelerator: the losses stay on the device in between, so the loop
# never waits for the GPU; on the CPU there is nothing to wait for and every loss is checked at once.
GPU_SYNC_EVERY = 10


def sync_every(device: torch.device) -> int:
    """Iterations between host syncs on ``device``: 1 on the CPU, ``GPU_SYNC_EVERY`` elsewhere."""
    return 1 if device.type == "cpu" else GPU_SYNC_EVERY


def first_non_finite(values: torch.Tensor) -> int | None:
    """Row of the first NaN/inf total loss in ``values`` ((n, k) host rows, the total in column 0), or None."""
    bad = (~torch.isfinite(values[:, 0])).nonzero()
    return int(bad[0, 0]) if len(bad) else None


def progress_bar(total: int, desc: str, enabled: bool) -> tqdm:
    """One epoch's bar (gone when the epoch ends); a disabled bar accepts every call and shows nothing."""
    return tqdm(total=total, desc=desc, disable=not enabled, dynamic_ncols=True, leave=False)
