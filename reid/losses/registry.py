"""The losses ``ReIDLoss`` sums, by name: ``LOSSES`` maps each to a builder of its term from ``LossConfig``.

A term named ``name`` is on when ``LossConfig.<name>_weight > 0``; its builder gets the config and the run's
``LossContext`` (identities, feature width, seed) and returns an ``nn.Module`` called with
``(features, labels)`` (pre-BNNeck features) or, for ``on="logits"``, ``(logits, labels)``, returning the loss or
``(loss, stats)``. A new loss is its module, one ``@register_loss`` builder here and a ``<name>_weight`` field
(with its settings) in ``LossConfig``; ``--<name>-weight`` and the YAML key follow from the config.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn

from reid.config import ConfigError, LossConfig
from reid.losses.center import CenterLoss
from reid.losses.circle import CircleLoss
from reid.losses.contrastive import ContrastiveLoss
from reid.losses.id_loss import CrossEntropyLabelSmooth
from reid.losses.proxy_anchor import ProxyAnchorLoss
from reid.losses.quadruplet import QuadrupletLoss
from reid.losses.triplet import check_triplet_args, triplet_stats, triplet_terms
from reid.registry import Registry

__all__ = ["LOSSES", "LossContext", "LossEntry", "register_loss"]


class LossContext(NamedTuple):
    """What a term may need beyond its config: ``num_classes`` training identities, ``feat_dim`` width of the
    pre-BNNeck features (None when unknown), ``seed`` of learnable starts (centers, proxies)."""

    num_classes: int
    feat_dim: int | None
    seed: int = 0


LossBuilder = Callable[[LossConfig, LossContext], nn.Module]


@dataclass(frozen=True)
class LossEntry:
    """A registered loss: ``build(cfg, ctx) -> nn.Module``; ``on`` is the input it takes, ``"features"`` (before
    the BNNeck, as Bag of Tricks' metric losses) or ``"logits"`` (the classifier's)."""

    build: LossBuilder
    on: str = "features"


LOSSES: Registry[LossEntry] = Registry("loss")


def register_loss(name: str, on: str = "features") -> Callable[[LossBuilder], LossBuilder]:
    """Decorator: ``build(cfg, ctx) -> nn.Module`` becomes loss ``name``, weighted by ``LossConfig.<name>_weight``."""
    if on not in ("features", "logits"):
        raise ValueError(f"loss {name!r}: on must be 'features' or 'logits', got {on!r}")

    def add(build: LossBuilder) -> LossBuilder:
        LOSSES.add(name, LossEntry(build, on))
        return build

    return add


def _per_class(name: str, cfg: LossConfig, ctx: LossContext) -> tuple[int, int]:
    """``(num_classes, feat_dim)`` for a term with one learnable vector per identity; ``ConfigError`` without."""
    if ctx.num_classes < 1 or not ctx.feat_dim:
        raise ConfigError(f"loss.{name}_weight={getattr(cfg, name + '_weight')} needs the number of identities and "
                          f"the feature width, got num_classes={ctx.num_classes}, feat_dim={ctx.feat_dim}")
    return ctx.num_classes, ctx.feat_dim


class TripletTerm(nn.Module):
    """The triplet loss with its statistics as 0-d tensors (no host sync): ``active``, ``d_ap``, ``d_an``."""

    def __init__(self, margin: float | None, mining: str, squared: bool) -> None:
        super().__init__()
        try:
            check_triplet_args(margin, mining)
        except ValueError as exc:
            raise ConfigError(f"loss: {exc}") from exc
        self.margin, self.mining, self.squared = margin, mining, squared

    def forward(self, features: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        terms = triplet_terms(features, labels, self.margin, self.mining, self.squared)
        stats = triplet_stats(terms)
        return terms.loss, {k: stats[k] for k in ("active", "d_ap", "d_an")}

    def extra_repr(self) -> str:
        return f"margin={self.margin}, mining={self.mining!r}, squared={self.squared}"


@register_loss("triplet")
def _triplet(cfg: LossConfig, ctx: LossContext) -> nn.Module:
    return TripletTerm(cfg.margin, cfg.mining, cfg.squared)


@register_loss("contrastive")
def _contrastive(cfg: LossConfig, ctx: LossContext) -> nn.Module:
    return ContrastiveLoss(cfg.contrastive_margin)


@register_loss("center")
def _center(cfg: LossConfig, ctx: LossContext) -> nn.Module:
    if cfg.center_lr <= 0:
        raise ConfigError(f"loss.center_lr must be > 0, got {cfg.center_lr}")
    return CenterLoss(*_per_class("center", cfg, ctx), seed=ctx.seed)


@register_loss("circle")
def _circle(cfg: LossConfig, ctx: LossContext) -> nn.Module:
    if cfg.circle_gamma <= 0 or cfg.circle_margin < 0:
        raise ConfigError(f"loss.circle_gamma must be > 0 and loss.circle_margin >= 0, got {cfg.circle_gamma} and "
                          f"{cfg.circle_margin}")
    return CircleLoss(cfg.circle_margin, cfg.circle_gamma)


@register_loss("proxy_anchor")
def _proxy_anchor(cfg: LossConfig, ctx: LossContext) -> nn.Module:
    if cfg.proxy_anchor_alpha <= 0:
        raise ConfigError(f"loss.proxy_anchor_alpha must be > 0, got {cfg.proxy_anchor_alpha}")
    return ProxyAnchorLoss(*_per_class("proxy_anchor", cfg, ctx), margin=cfg.proxy_anchor_margin,
                           alpha=cfg.proxy_anchor_alpha, seed=ctx.seed)


@register_loss("quadruplet")
def _quadruplet(cfg: LossConfig, ctx: LossContext) -> nn.Module:
    if cfg.quadruplet_margin < 0 or cfg.quadruplet_margin2 < 0:
        raise ConfigError(f"loss.quadruplet_margin and loss.quadruplet_margin2 must be >= 0, got "
                          f"{cfg.quadruplet_margin} and {cfg.quadruplet_margin2}")
    return QuadrupletLoss(cfg.quadruplet_margin, cfg.quadruplet_margin2, cfg.squared)


@register_loss("id", on="logits")
def _id(cfg: LossConfig, ctx: LossContext) -> nn.Module:
    return CrossEntropyLabelSmooth(ctx.num_classes, cfg.label_smoothing)
