"""The training objective: weighted sum of triplet, contrastive and identity losses (``LossConfig``)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from reid.config import ConfigError, LossConfig
from reid.losses.contrastive import contrastive_loss
from reid.losses.id_loss import CrossEntropyLabelSmooth
from reid.losses.triplet import check_triplet_args, triplet_stats, triplet_terms


class ReIDLoss(nn.Module):
    """``triplet_weight * triplet + contrastive_weight * contrastive + id_weight * smoothed CE``.

    Metric losses use the pre-BNNeck features, the identity loss the classifier logits (Luo et al. 2019).
    Terms with weight 0 are skipped.

    Args:
        cfg: the loss configuration.
        num_classes: number of training identities (classifier width), used when ``id_weight > 0``.
        sync_stats: ``True`` returns stats as Python floats (one host sync per call); ``False`` returns
            detached 0-d tensors so a GPU training loop can sync when it likes.
    """

    def __init__(self, cfg: LossConfig, num_classes: int, sync_stats: bool = True) -> None:
        super().__init__()
        weights = {"triplet_weight": cfg.triplet_weight, "contrastive_weight": cfg.contrastive_weight,
                   "id_weight": cfg.id_weight}
        bad = {k: v for k, v in weights.items() if v < 0}
        if bad:
            raise ConfigError(f"loss weights must be >= 0, got {bad}")
        if not any(weights.values()):
            raise ConfigError("all loss weights are 0; set loss.triplet_weight, loss.contrastive_weight "
                              "or loss.id_weight above 0")
        if cfg.triplet_weight > 0:
            try:
                check_triplet_args(cfg.margin, cfg.mining)
            except ValueError as exc:
                raise ConfigError(f"loss: {exc}") from exc
        self.cfg, self.sync_stats = cfg, sync_stats
        self.id_loss = CrossEntropyLabelSmooth(num_classes, cfg.label_smoothing) if cfg.id_weight > 0 else None

    def forward(self, features: torch.Tensor, logits: torch.Tensor | None,
                labels: torch.Tensor) -> tuple[torch.Tensor, dict[str, Any]]:
        """Total loss and its parts.

        Args:
            features: (B, D) embeddings before the BNNeck.
            logits: (B, C) classifier outputs, or ``None`` when ``id_weight == 0``.
            labels: (B,) training identity labels in [0, C).

        Returns:
            ``(loss, stats)``: () loss; stats (floats, or 0-d tensors with ``sync_stats=False``) with ``loss`` and each weighted term (``triplet``,
            ``contrastive``, ``id``) that is on, and with the triplet loss on, ``active``, ``d_ap``,
            ``d_an`` (see :class:`reid.losses.TripletLoss`).

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
                f"contrastive={c.contrastive_weight}, id={c.id_weight} (eps={c.label_smoothing})")
