"""Learning-rate schedule: linear warm-up, then step or cosine decay, as a ``torch.optim.lr_scheduler.LambdaLR``.

The factor is a pure function of the (fractional) epoch, ``lr_factor``; ``build_scheduler`` wraps it in a
``LambdaLR`` stepped once per iteration, so warm-up and cosine are smooth within an epoch and a step takes
effect at the first iteration past its milestone. Its state (``last_epoch`` = iterations done, ``base_lrs``)
is ``LambdaLR``'s own, so a resumed run restores it with ``load_state_dict``.

Bag of Tricks (Luo et al. 2019) writes its schedule for 120 epochs: warm-up over 10 epochs from x0.01, then
x0.1 at epochs 40 and 70. ``OptimConfig.schedule_epochs`` says which run length the config's epochs are
written for; a run of another length stretches them in proportion (``stretch``), so the default schedule is
BoT's exactly at 120 epochs and has the same shape at 8.
"""

from __future__ import annotations

import math

import torch
from torch.optim.lr_scheduler import LambdaLR

from reid.config import SCHEDULES, ConfigError, OptimConfig

__all__ = ["COSINE_FLOOR", "SCHEDULES", "build_scheduler", "describe", "lr_factor", "stretch"]

# Cosine ends at 1 % of the base rate so the last epochs still move the weights (fast-reid ends at 0.2 %).
COSINE_FLOOR = 0.01


def stretch(cfg: OptimConfig, total_epochs: int) -> float:
    """Factor from the config's epochs to this run's: ``total_epochs / schedule_epochs`` (1 when that is 0)."""
    return total_epochs / cfg.schedule_epochs if cfg.schedule_epochs > 0 else 1.0


def lr_factor(epoch: float, cfg: OptimConfig, total_epochs: int) -> float:
    """Multiplier of the base learning rate at fractional ``epoch`` (0 = start) of a ``total_epochs`` run."""
    if cfg.schedule not in SCHEDULES:
        raise ConfigError(f"optim.schedule must be one of {', '.join(SCHEDULES)}, got {cfg.schedule!r}")
    s = stretch(cfg, total_epochs)
    warm = cfg.warmup_epochs * s
    ramp = cfg.warmup_factor + (1.0 - cfg.warmup_factor) * epoch / warm if epoch < warm else 1.0
    if cfg.schedule == "step":
        return ramp * cfg.gamma ** sum(1 for m in cfg.milestones if epoch >= m * s)
    start = max(warm, cfg.delay_epochs * s)
    if epoch < start:
        return ramp
    t = min((epoch - start) / max(total_epochs - start, 1e-9), 1.0)
    return COSINE_FLOOR + (1.0 - COSINE_FLOOR) * 0.5 * (1.0 + math.cos(math.pi * t))


def build_scheduler(optimizer: torch.optim.Optimizer, cfg: OptimConfig, total_epochs: int,
                    iters_per_epoch: int) -> LambdaLR:
    """``LambdaLR`` setting ``lr = base_lr * lr_factor(iteration / iters_per_epoch)`` on every group.

    Call ``step()`` after every optimiser step; the rate of iteration 0 is set at construction.
    """
    if iters_per_epoch < 1:
        raise ConfigError(f"iters_per_epoch must be >= 1, got {iters_per_epoch}")
    lr_factor(0.0, cfg, total_epochs)  # a bad schedule name fails here, not at the first step

    def factor(iteration: int) -> float:  # a plain function: LambdaLR's state_dict then holds no config object
        return lr_factor(iteration / iters_per_epoch, cfg, total_epochs)

    return LambdaLR(optimizer, factor)


def describe(cfg: OptimConfig, total_epochs: int) -> str:
    """One line for the log, in this run's epochs, e.g. ``step: warm-up 0.67 epochs from x0.01, x0.1 at 2.67,
    4.67 (schedule_epochs 120 stretched to 8)``."""
    s = stretch(cfg, total_epochs)
    parts = [f"{cfg.schedule}: warm-up {cfg.warmup_epochs * s:.3g} epochs from x{cfg.warmup_factor:g}"]
    if cfg.schedule == "step" and cfg.milestones:
        parts.append(f"x{cfg.gamma:g} at epochs {', '.join(f'{m * s:.3g}' for m in cfg.milestones)}")
    if cfg.schedule == "cosine":
        parts.append(f"cosine to x{COSINE_FLOOR:g} from epoch {max(cfg.warmup_epochs, cfg.delay_epochs) * s:.3g}")
    if cfg.freeze_epochs > 0:
        parts.append(f"backbone frozen for {cfg.freeze_epochs * s:.3g} epochs")
    line = ", ".join(parts)
    if cfg.schedule_epochs > 0 and cfg.schedule_epochs != total_epochs:
        line += f" (written for {cfg.schedule_epochs} epochs, stretched to {total_epochs})"
    return line
