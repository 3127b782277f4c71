"""The training objective: the weighted sum of the registered losses (``reid.losses.registry.LOSSES``) whose
``LossConfig.<name>_weight`` is above 0: triplet, contrastive, center, circle, proxy-anchor, quadruplet, identity."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from reid.config import ConfigError, LossConfig
from reid.losses.registry import LOSSES, LossContext


def weight_keys() -> tuple[str, ...]:
    """``LossConfig`` fields that weigh a registered loss: ``triplet_weight``, ``contrastive_weight`` ..."""
    return tuple(f"{name}_weight" for name in LOSSES.names())


class ReIDLoss(nn.Module):
    """``sum of weight x term`` over the registered losses (``LOSSES``) with ``LossConfig.<name>_weight > 0``.

    Metric losses (triplet, contrastive, center, circle, proxy-anchor, quadruplet) use the pre-BNNeck features,
    the identity loss the classifier logits (Luo et al. 2019). Terms with weight 0 are not built. Each term is
    the submodule ``<name>_loss`` (``center_loss``, ``id_loss`` ...), so its learnable parts (centers, proxies)
    are in ``state_dict()`` under that name.

    The center loss owns learnable centers (``num_classes x feat_dim``). reid-strong-baseline trains them
    apart from the network, and a trainer does the same:

    1. leave :meth:`center_parameters` out of the main optimizer (and out of gradient clipping and the
       learning-rate schedule) and give them ``torch.optim.SGD(loss.center_parameters(), lr=cfg.center_lr)``;
    2. each step: ``zero_grad`` both optimizers, ``backward`` the total loss, step the main optimizer, then
       :meth:`rescale_center_grads` (multiplies the centers' gradients by ``1 / center_weight``, so they
       move with the unweighted center loss, as reid-strong-baseline does) and step the center optimizer.
       Under AMP, step it through the same ``GradScaler`` (``scaler.step(center_optimizer)``), which
       unscales it; the rescale commutes with that.

    Args:
        cfg: the loss configuration.
        num_classes: number of training identities: the classifier width when ``id_weight > 0`` and the
            number of centers (proxies) when ``center_weight`` (``proxy_anchor_weight``) ``> 0``.
        sync_stats: ``True`` returns stats as Python floats (one host sync per call); ``False`` returns
            detached 0-d tensors so a GPU training loop can sync when it likes.
        feat_dim: width of the pre-BNNeck features (``ReIDModel.embedding_dim``); needed when
            ``center_weight`` or ``proxy_anchor_weight > 0``.
        seed: seed of the centers' (proxies') initial draw.
    """

    def __init__(self, cfg: LossConfig, num_classes: int, sync_stats: bool = True, feat_dim: int | None = None,
                 seed: int = 0) -> None:
        super().__init__()
        weights = {k: getattr(cfg, k) for k in weight_keys()}
        bad = {k: v for k, v in weights.items() if v < 0}
        if bad:
            raise ConfigError(f"loss weights must be >= 0, got {bad}")
        if not any(weights.values()):
            raise ConfigError(f"all loss weights are 0; set one of {', '.join('loss.' + k for k in weights)} "
                              "above 0")
        ctx = LossContext(num_classes, feat_dim, seed)
        self.terms: dict[str, tuple[float, str]] = {}  # name -> (weight, input: "features" or "logits")
        for name in LOSSES.names():
            weight = float(getattr(cfg, f"{name}_weight"))
            if weight > 0:
                entry = LOSSES.get(name)
                self.add_module(f"{name}_loss", entry.build(cfg, ctx))
                self.terms[name] = (weight, entry.on)
        self.cfg, self.sync_stats = cfg, sync_stats

    def term(self, name: str) -> nn.Module | None:
        """The module of loss ``name`` (``"center"``, ``"id"`` ...), None when its weight is 0."""
        return self._modules.get(f"{name}_loss")

    def center_parameters(self) -> list[nn.Parameter]:
        """The center loss's centers, for their own optimizer; empty when ``center_weight == 0``."""
        center = self.term("center")
        return [] if center is None else list(center.parameters())

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
            and each weighted term that is on (``triplet``, ``contrastive``, ``center``, ``circle``,
            ``proxy_anchor``, ``quadruplet``, ``id``), and with the triplet loss on, ``active``, ``d_ap``, ``d_an``
            (see :class:`reid.losses.TripletLoss`).

        Raises:
            ValueError: ``id_weight > 0`` but ``logits`` is ``None``.
        """
        parts: dict[str, torch.Tensor] = {}
        extra: dict[str, torch.Tensor] = {}
        for name, (weight, on) in self.terms.items():
            x = features
            if on == "logits":
                if logits is None:
                    raise ValueError(f"loss.{name}_weight={weight} needs classifier logits, but the model "
                                     f"returned none; build the model with a classifier head or set {name}_weight=0")
                x = logits
            out = self.get_submodule(f"{name}_loss")(x, labels)
            loss, stats = out if isinstance(out, tuple) else (out, {})
            parts[name] = weight * loss
            extra.update(stats)
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
        return ", ".join(f"{name}={weight}" for name, (weight, _) in self.terms.items())
