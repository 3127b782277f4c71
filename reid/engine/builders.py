"""The parts of a training run, each buildable alone (fast-reid's ``DefaultTrainer.build_*`` shape).

``build_data`` (decoded training set, labels, P x K sampler), ``build_model``, ``build_loss``, ``build_optimizer``
(the model's Adam/AdamW plus, with center loss, the centers' own SGD) and, in ``reid.engine.schedule``,
``build_scheduler``. ``reid.engine.trainer.Trainer`` calls them through methods of the same names, so a
subclass can replace any one part.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn

from reid.config import ConfigError, LossConfig, ModelConfig, OptimConfig, TrainConfig
from reid.data import Market1501, PKSampler, load_dataset, load_images
from reid.data.cache import place_images
from reid.data.distributed import DistributedPKSampler
from reid.engine.distributed import DistContext
from reid.errors import DatasetError
from reid.losses import MINERS, ReIDLoss
from reid.models import BACKBONES, ReIDModel
from reid.models import build_model as create_model

__all__ = ["BatchSampler", "Optimizers", "TrainData", "build_data", "build_loss", "build_model", "build_optimizer",
           "check_names", "make_optimizer"]

log = logging.getLogger(__name__)


class BatchSampler(Protocol):
    """What the loop needs of a batch sampler (``PKSampler``, ``DistributedPKSampler``, adapt's co-occurrence
    sampler): lists of dataset indices, an epoch to set, and a state a resume restores."""

    def __iter__(self) -> Iterator[list[int]]: ...

    def __len__(self) -> int: ...

    def set_epoch(self, epoch: int) -> None: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


@dataclass
class TrainData:
    """The training split as the loop reads it; ``dataset`` (its query/gallery for evaluation) is None for a
    training set without one (site adaptation scores on the site's own pairs)."""

    dataset: Market1501 | None
    images: torch.Tensor  # (N, 3, H, W) uint8: on the training device, or in pinned host memory (data.cache_on)
    labels: torch.Tensor  # (N,) long on the training device, identities relabelled to 0..num_ids-1
    num_ids: int
    sampler: BatchSampler  # this process's share of every global P x K batch


def check_names(cfg: TrainConfig) -> None:
    """Look up the registered names of ``cfg`` (backbone, miner) before any work: a name no registry knows
    raises the registry's ``UnknownNameError`` listing the known ones (the CLI checked them already)."""
    BACKBONES.get(cfg.model.arch)
    if cfg.loss.triplet_weight > 0:
        MINERS.get(cfg.loss.mining)


def build_data(cfg: TrainConfig, ctx: DistContext, progress: bool = True) -> TrainData:
    """Read ``cfg.data.root``, decode its training images once at ``height x width`` and place them
    (``data.cache_on``), and build the seeded P x K sampler (per rank under ``torchrun``)."""
    if not Path(cfg.data.root).is_dir():
        raise DatasetError(f"{cfg.data.root}: data folder not found")
    try:
        dataset = load_dataset(cfg.data.root, format=cfg.data.format)
    except ValueError as exc:
        raise ConfigError(f"data: {exc}") from exc
    if ctx.is_main:
        log.info("%s", dataset.summary())
    pids = sorted({s.pid for s in dataset.train})
    if not pids:
        raise DatasetError(f"{cfg.data.root}: no training images")
    relabel = {pid: i for i, pid in enumerate(pids)}
    labels = [relabel[s.pid] for s in dataset.train]
    try:
        sampler: PKSampler | DistributedPKSampler = (
            DistributedPKSampler(labels, cfg.data.p, cfg.data.k, ctx.rank, ctx.world_size, seed=cfg.seed)
            if ctx.distributed else PKSampler(labels, cfg.data.p, cfg.data.k, seed=cfg.seed))
    except ValueError as exc:
        raise ConfigError(f"data: {exc}") from exc
    decoded = load_images([s.path for s in dataset.train], cfg.data.height, cfg.data.width, progress=progress)
    return TrainData(dataset=dataset, images=place_images(decoded, ctx.device, cfg.data.cache_on),
                     labels=torch.tensor(labels, dtype=torch.long, device=ctx.device), num_ids=len(pids),
                     sampler=sampler)


def build_model(cfg: ModelConfig, num_classes: int, device: torch.device, channels_last: bool = False) -> ReIDModel:
    """The re-ID model on ``device`` (``num_classes > 0`` adds the identity classifier)."""
    model = create_model(cfg, num_classes).to(device)
    return model.to(memory_format=torch.channels_last) if channels_last else model  # type: ignore[call-overload]


def build_loss(cfg: LossConfig, num_ids: int, feat_dim: int, device: torch.device, seed: int = 0) -> ReIDLoss:
    """The training objective over ``num_ids`` identities of ``feat_dim``-wide pre-BNNeck features (center
    loss: one center each, drawn from ``seed``); its statistics stay on the device until the loop syncs."""
    return ReIDLoss(cfg, num_ids, sync_stats=False, feat_dim=feat_dim, seed=seed).to(device)


def make_optimizer(params: list[nn.Parameter], cfg: OptimConfig) -> torch.optim.Optimizer:
    """Adam (L2 weight decay, as in reid-strong-baseline) or AdamW (decoupled weight decay)."""
    if cfg.lr is None:
        raise ConfigError("optim.lr is open: pass the config through reid.engine.recipe.resolve first")
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    raise ConfigError(f"optimizer must be adam or adamw, got {cfg.optimizer!r}")


@dataclass
class Optimizers:
    """``main`` steps ``params`` (model and loss weights) on the schedule; ``center`` (None without center
    loss) steps the class centers with plain SGD at ``loss.center_lr``, as reid-strong-baseline does."""

    main: torch.optim.Optimizer
    params: list[nn.Parameter]
    center: torch.optim.Optimizer | None = None
    centers: tuple[nn.Parameter, ...] = ()


def build_optimizer(model: nn.Module, criterion: ReIDLoss, optim: OptimConfig, loss: LossConfig) -> Optimizers:
    """The model's optimiser (``optim``; pass the rate already scaled for the number of processes) and, when
    the loss has class centers, their own SGD at ``loss.center_lr`` (no weight decay, no schedule)."""
    centers = criterion.center_parameters()
    own = {id(p) for p in centers}
    params = [p for p in itertools.chain(model.parameters(), criterion.parameters())
              if p.requires_grad and id(p) not in own]
    center = torch.optim.SGD(centers, lr=loss.center_lr) if centers else None
    return Optimizers(main=make_optimizer(params, optim), params=params, center=center, centers=tuple(centers))
