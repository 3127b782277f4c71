"""Learning-rate schedule: linear warm-up, then cosine decay or step decay.

The factor is a pure function of the (fractional) epoch, ``lr_factor``; ``LRSchedule`` applies it to an
optimiser once per iteration, so warm-up and cosine are smooth within an epoch while step decay changes at
epoch boundaries (``milestones`` are epochs). Its only state is the iteration counter.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from reid.config import ConfigError, OptimConfig

# Warm-up starts at 1 % of the base rate (reid-strong-baseline: WARMUP_FACTOR 0.01); cosine ends at 1 % so the
# last epochs still move the weights.
WARMUP_START = 0.01
COSINE_FLOOR = 0.01


def lr_factor(epoch: float, cfg: OptimConfig, total_epochs: int) -> float:
    """Multiplier of the base learning rate at fractional ``epoch`` (0 = start of training)."""
    if cfg.schedule not in ("cosine", "step"):
        raise ConfigError(f"schedule must be cosine or step, got {cfg.schedule!r}")
    warm = cfg.warmup_epochs
    ramp = WARMUP_START + (1.0 - WARMUP_START) * epoch / warm if warm > 0 and epoch < warm else 1.0
    if cfg.schedule == "step":
        return ramp * cfg.gamma ** sum(1 for m in cfg.milestones if math.floor(epoch) >= m)
    if epoch < warm:
        return ramp
    t = min(max((epoch - warm) / max(total_epochs - warm, 1e-9), 0.0), 1.0)
    return COSINE_FLOOR + (1.0 - COSINE_FLOOR) * 0.5 * (1.0 + math.cos(math.pi * t))


class LRSchedule:
    """Sets ``lr = base_lr * lr_factor(step / iters_per_epoch)`` on every parameter group.

    Call ``step()`` after every optimiser step; the rate for step 0 is applied at construction.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, cfg: OptimConfig, total_epochs: int,
                 iters_per_epoch: int):
        if iters_per_epoch < 1:
            raise ConfigError(f"iters_per_epoch must be >= 1, got {iters_per_epoch}")
        self.optimizer = optimizer
        self.cfg = cfg
        self.total_epochs = total_epochs
        self.iters_per_epoch = iters_per_epoch
        self.base_lrs = [group.get("initial_lr", group["lr"]) for group in optimizer.param_groups]
        for group, base in zip(optimizer.param_groups, self.base_lrs, strict=True):
            group["initial_lr"] = base
        self.step_count = 0
        self._apply()

    @property
    def epoch(self) -> float:
        return self.step_count / self.iters_per_epoch

    def _apply(self) -> None:
        factor = lr_factor(self.epoch, self.cfg, self.total_epochs)
        for group, base in zip(self.optimizer.param_groups, self.base_lrs, strict=True):
            group["lr"] = base * factor

    def step(self) -> None:
        self.step_count += 1
        self._apply()

    def get_last_lr(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        return {"step_count": self.step_count, "base_lrs": list(self.base_lrs)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.step_count = int(state["step_count"])
        self.base_lrs = [float(x) for x in state["base_lrs"]]
        self._apply()
