"""What a run trains with where the config leaves ``optim.lr``, ``optim.schedule`` or ``optim.grad_clip`` open
(None, the defaults): Bag of Tricks' values when the backbone starts from ImageNet weights, the setting they were
published for, and values that train a randomly initialised network when it does not.

Bag of Tricks (Luo et al. 2019) fine-tunes an ImageNet ResNet-50 for 120 epochs: Adam at 3.5e-4, steps x0.1 at
epochs 40 and 70, no clipping. A network trained from random weights for a short run (the synthetic set, 8 CPU
epochs of 17 batches) barely moves under it: stretched to 8 epochs the steps leave ~45 iterations at full rate
(mAP 16.7 % on data/synth; 25.4 % unstretched, where the warm-up never ends), and at 1e-3 the stretched steps
still stall (loss flat at 3.0 from epoch 5). Adam's own default rate 1e-3 with cosine decay over the whole run
and the global gradient norm clipped at 5 (a random network's first gradients are large) gives 73.8 % and
75.5 % (seeds 0 and 1; docs/training.md). An explicit value always wins, and ``configs/bot_r50.yaml`` sets all
three as published.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from reid.config import ConfigError, OptimConfig, TrainConfig

__all__ = ["FINE_TUNE", "FROM_SCRATCH", "resolve", "settled"]

FINE_TUNE: dict[str, Any] = {"lr": 3.5e-4, "schedule": "step", "grad_clip": 0.0}  # BoT's BASE_LR, STEPS, no clip
FROM_SCRATCH: dict[str, Any] = {"lr": 1e-3, "schedule": "cosine", "grad_clip": 5.0}


def resolve(cfg: TrainConfig) -> tuple[TrainConfig, str | None]:
    """``cfg`` with the open optimiser settings filled in for its start, and a line saying which and why (None
    when nothing was open)."""
    scratch = not cfg.model.pretrained
    values = FROM_SCRATCH if scratch else FINE_TUNE
    open_keys = [k for k in values if getattr(cfg.optim, k) is None]
    if not open_keys:
        return cfg, None
    optim = dataclasses.replace(cfg.optim, **{k: values[k] for k in open_keys})
    chosen = ", ".join(f"{k} {values[k]:g}" if k != "schedule" else f"{values[k]} schedule" for k in open_keys)
    why = ("from random weights (no model.pretrained): " + chosen + ", for a network that starts from nothing "
           "(Bag of Tricks' 3.5e-4 / steps / no clipping fine-tune ImageNet weights)") if scratch else (
        "fine-tuning model.pretrained: " + chosen + ", as Bag of Tricks")
    return dataclasses.replace(cfg, optim=optim), why + "; --lr, --schedule, --grad-clip set them"


def settled(optim: OptimConfig) -> tuple[float, str, float]:
    """``(lr, schedule, grad_clip)`` of a resolved config; a clear error where one is still open."""
    if optim.lr is None or optim.schedule is None or optim.grad_clip is None:
        raise ConfigError("optim.lr, optim.schedule and optim.grad_clip must be set: pass the config through "
                          "reid.engine.recipe.resolve first")
    return optim.lr, optim.schedule, optim.grad_clip
