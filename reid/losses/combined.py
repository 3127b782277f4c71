"""The training objective: weighted triplet, contrastive, center, circle and identity losses (``LossConfig``)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from reid.config import ConfigError, LossConfig
from reid.losses.center import CenterLoss
from reid.losses.circle import circle_loss
from reid.losses.contrastive import contrastive_loss
from reid.losses.id_loss import CrossEntropyLabelSmooth
from reid.losses.triplet import check_triplet_args, triplet_stats, triplet_terms

_WEIGHTS = ("triplet_weight", "contrastive_weight", "center_weight", "circle_weight", "id_weight")


class ReIDLoss(nn.Module):
    """``triplet + contrastive + center + circle + id``, each times its ``LossConfig`` weight.

    Metric losses (triplet, contrastive, center, circle) use the pre-BNNeck features, the identity loss the
    classifier logits (Luo et al. 2019). Terms with weight 0 are skipped.

    The center loss owns learnable centers (``num_classes x feat_dim``). reid-strong-baseline trains them
    apart from the network, and a trainer does the same:

    1. leave :meth:`center_parameters` out of the main optimizer (and out of gradient clipping and the
       learning-rate schedule) and give them ``torch.optim.SGD(loss.center_parameters(), lr=cfg.center_lr)``;
    2. each step: ``zero_grad`` both optimizers, ``backward`` the total loss, step the main optimizer, then
       :meth:`rescale_center_grads` (multiplies the centers' gradients by ``1 / center_weight``, so they
       move with the unweighted center loss, as reid-strong-baseline does) and step the center optimizer.
       Under AMP, step it through the same ``GradScaler`` (``scaler.step(center_optimizer)``), which
       unscales it; the rescale commutes with that.

    The centers are in ``state_dict()`` (so a checkpoint of the criterion keeps them).

    Args:
        cfg: the loss configuration.
        num_classes: number of training identities: the classifier width when ``id_weight > 0`` and the
            number of centers when ``center_weight > 0``.
        sync_stats: ``True`` returns stats as Python floats (one host sync per call); ``False`` returns
            detached 0-d tensors so a GPU training loop can sync when it likes.
        feat_dim: width of the pre-BNNeck features (``ReIDModel.embedding_dim``); needed when
            ``center_weight > 0``.
        seed: seed of the centers' initial draw.
    """

    def __init__(self, cfg: LossConfig, num_classes: int, sync_stats: bool = True, feat_dim: int | None = None,
                 seed: int = 0) -> None:
        super().__init__()
        weights = {k: getattr(cfg, k) for k in _WEIGHTS}
        bad = {k: v for k, v in weights.items() if v < 0}
        if bad:
            raise ConfigError(f"loss weights must be >= 0, got {bad}")
        if not any(weights.values()):
            raise ConfigError(f"all loss weights are 0; set one of {', '.join('loss.' + k for k in _WEIGHTS)} "
                              "above 0")
        if cfg.triplet_weight > 0:
            try:
                check_triplet_args(cfg.margin, cfg.mining)
            except ValueError as exc:
                raise ConfigError(f"loss: {exc}") from exc
        if cfg.circle_weight > 0 and (cfg.circle_gamma <= 0 or cfg.circle_margin < 0):
            raise ConfigError(f"loss.circle_gamma must be > 0 and loss.circle_margin >= 0, got "
                              f"{cfg.circle_gamma} and {cfg.circle_margin}")
        self.center_loss: CenterLoss | None = None
        if cfg.center_weight > 0:
            if cfg.center_lr <= 0:
                raise ConfigError(f"loss.center_lr must be > 0, got {cfg.center_lr}")
            if num_classes < 1 or not feat_dim:
                raise ConfigError(f"loss.center_weight={cfg.center_weight} needs the number of identities and the "
                                  f"feature width, got num_classes={num_classes}, feat_dim={feat_dim}")
            self.center_loss = CenterLoss(num_classes, feat_dim, seed=seed)
        self.cfg, self.sync_stats = cfg, sync_stats
        self.id_loss = CrossEntropyLabelSmooth(num_classes, cfg.label_smoothing) if cfg.id_weight > 0 else None

    def center_parameters(self) -> list[nn.Parameter]:
        """The center loss's centers, for their own optimizer; empty when ``center_weight == 0``."""
        return [] if self.center_loss is None else list(self.center_loss.parameters())

    @torch.no_grad()
    def rescale_center_grads(self) -> None:
        """Multiply the centers' gradients by ``1 / center_weight``, as reid-strong-baseline before the center step."""
        for p in self.center_parameters():
            if p.grad is not None:
                p.grad.mul_(1.0 / self.cfg.center_weight)

    def forward(self, features: torch.Tensor, logits: torch.Tensor | None,
                labels: torch.Tensor) -> tuple[torch.Tensor, dict[str, Any]]:
        """Total loss and its parts.

        Args:
            features: (B, D) embeddings before the BNNeck.
            logits: (B, C) classifier outputs, or ``None`` when ``id_weight == 0``.
            labels: (B,) training identity labels in [0, C).

        Returns:
            ``(loss, stats)``: () loss; stats (floats, or 0-d tensors with ``sync_stats=False``) with ``loss``
            and each weighted term that is on (``triplet``, ``contrastive``, ``center``, ``circle``, ``id``),
            and with the triplet loss on, ``active``, ``d_ap``, ``d_an`` (see :class:`reid.losses.TripletLoss`).

        Raises:
            ValueError: ``id_weight > 0`` but ``logits`` is ``None``.
        """
        cfg = self.cfg
        parts: dict[str, torch.Tensor] = {}
        extra: dict[str, torch.Tensor] = {}
        if cfg.triplet_weight > 0:
            terms = triplet_terms(features, labels, cfg.margin, cfg.mining, cfg.squared)
            parts["triplet"] = cfg.triplet_weight * terms.loss
            stats = triplet_stats(terms)
            extra = {k: stats[k] for k in ("active", "d_ap", "d_an")}
        if cfg.contrastive_weight > 0:
            parts["contrastive"] = cfg.contrastive_weight * contrastive_loss(features, labels,
                                                                             cfg.contrastive_margin)
        if self.center_loss is not None:
            parts["center"] = cfg.center_weight * self.center_loss(features, labels)
        if cfg.circle_weight > 0:
            circle = circle_loss(features, labels, cfg.circle_margin, cfg.circle_gamma)
            parts["circle"] = cfg.circle_weight * circle
        if self.id_loss is not None:
            if logits is None:
                raise ValueError(f"loss.id_weight={cfg.id_weight} needs classifier logits, but the model "
                                 "returned none; build the model with a classifier head or set id_weight=0")
            parts["id"] = cfg.id_weight * self.id_loss(logits, labels)
        terms_on = list(parts.values())
        total = terms_on[0]
        for term in terms_on[1:]:
            total = total + term
        named = {"loss": total, **parts, **extra}
        if not self.sync_stats:
            return total, {k: v.detach() for k, v in named.items()}
        values = torch.stack([v.detach().float() for v in named.values()]).tolist()
        return total, dict(zip(named, values, strict=True))

    def extra_repr(self) -> str:
        c = self.cfg
        return (f"triplet={c.triplet_weight} (margin={c.margin}, {c.mining}, squared={c.squared}), "
                f"contrastive={c.contrastive_weight}, center={c.center_weight} (lr={c.center_lr}), "
                f"circle={c.circle_weight} (m={c.circle_margin}, gamma={c.circle_gamma}), "
                f"id={c.id_weight} (eps={c.label_smoothing})")
