"""What a training run records: per-epoch loss statistics and ``metrics.csv``/``metrics.json``/``curves.png``."""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

log = logging.getLogger(__name__)

FIRST = ("loss", "active", "d_ap", "d_an")  # column order of the loss statistics; other stats follow, sorted


def _stat(stats: dict[str, Any], key: str, device: torch.device) -> torch.Tensor:
    value = stats.get(key, float("nan"))
    if isinstance(value, torch.Tensor):
        return value.detach().float().reshape(-1)[0].to(device)
    return torch.tensor(float(value), device=device)


class EpochStats:
    """Loss statistics of one epoch, kept on the training device and brought to the host in chunks.

    ``add(loss, stats)`` every iteration costs no host sync; ``flush(reduce)`` stacks the pending rows into
    ``(n, len(keys))``, applies ``reduce`` (e.g. the mean over processes), moves them to the CPU, adds them to
    the epoch totals and returns them so the caller can check them; ``means()`` is the epoch so far.
    """

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.keys: list[str] = []
        self.pending: list[torch.Tensor] = []
        self.totals: torch.Tensor | None = None
        self.count = 0

    def add(self, loss: torch.Tensor, stats: dict[str, Any]) -> None:
        if not self.keys:
            self.keys = ["loss", *[k for k in FIRST[1:] if k in stats], *sorted(k for k in stats if k not in FIRST)]
        self.pending.append(torch.stack([loss.detach().float(),
                                         *[_stat(stats, k, self.device) for k in self.keys[1:]]]))

    def flush(self, reduce: Callable[[torch.Tensor], torch.Tensor] = lambda t: t) -> torch.Tensor:
        """The pending rows ``(n, len(keys))`` on the CPU, after ``reduce``; they join the totals."""
        values = reduce(torch.stack(self.pending)).cpu()
        self.pending.clear()
        self.totals = values.sum(0) if self.totals is None else self.totals + values.sum(0)
        self.count += len(values)
        return values

    def means(self) -> dict[str, float]:
        if self.totals is None:
            return {}
        return dict(zip(self.keys, (self.totals / self.count).tolist(), strict=True))

    def postfix(self, lr: float, rate: float) -> dict[str, str]:
        """The progress bar's summary of the epoch so far; ``rate`` in images per second."""
        means = self.means()
        return {"loss": f"{means.get('loss', math.nan):.3f}", "active": f"{means.get('active', math.nan):.2f}",
                "d_ap": f"{means.get('d_ap', math.nan):.2f}", "d_an": f"{means.get('d_an', math.nan):.2f}",
                "lr": f"{lr:.2e}", "img/s": f"{rate:.0f}"}


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "w", newline="") as f:
        f.write(text)
    os.replace(tmp, path)


def write_metrics(out: Path, history: list[dict[str, Any]]) -> None:
    """``metrics.csv`` and ``metrics.json`` (one row per epoch) and ``curves.png`` in ``out``."""
    columns: list[str] = []
    for row in history:
        columns += [k for k in row if k not in columns]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, restval="")
    writer.writeheader()
    writer.writerows(history)
    _write_atomic(out / "metrics.csv", buf.getvalue())
    _write_atomic(out / "metrics.json", json.dumps(history, indent=1) + "\n")
    try:
        from reid.metrics.plots import plot_curves

        plot_curves(history, out / "curves.png")
    except Exception as exc:  # a picture must never end a long run
        log.warning("could not draw %s: %s", out / "curves.png", exc)
