"""Triplet loss, hinge or soft margin, on triplets from any registered miner.

Distances come from :func:`reid.losses.distances.pairwise_distance`, triplets from a miner of
:data:`reid.losses.miners.MINERS` (or the caller's ``indices``); this module only turns mined distances
into a loss.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from reid.losses.distances import pairwise_distance
from reid.losses.miners import MINING, Triplets, get_miner

__all__ = ["MINING", "TripletLoss", "TripletTerms", "check_triplet_args", "triplet_loss", "triplet_stats",
           "triplet_terms"]


class TripletTerms(NamedTuple):
    """A triplet loss and what it was made of; T = number of mined triplets (may be 0)."""

    loss: torch.Tensor  # () scalar, differentiable
    d_ap: torch.Tensor  # (T,) anchor-positive distances
    d_an: torch.Tensor  # (T,) anchor-negative distances
    active: torch.Tensor  # (T,) bool: d_an < d_ap + margin (margin 0 for the soft margin)


def check_triplet_args(margin: float | None, mining: str) -> None:
    """Raise ``ValueError`` for an unregistered mining name (listing the valid ones) or a negative margin."""
    get_miner(mining)
    if margin is not None and margin < 0:
        raise ValueError(f"triplet margin must be >= 0 or None (soft margin), got {margin}")


def triplet_terms(embeddings: torch.Tensor, labels: torch.Tensor, margin: float | None = 0.3,
                  mining: str = "batch_hard", squared: bool = False,
                  indices: Triplets | None = None) -> TripletTerms:
    """The loss of :func:`triplet_loss` with its mined distances (for statistics)."""
    check_triplet_args(margin, mining)
    if embeddings.dim() != 2 or labels.shape != (len(embeddings),):
        raise ValueError(f"triplet loss needs (B, D) embeddings and (B,) labels, got {tuple(embeddings.shape)} "
                         f"and {tuple(labels.shape)}")
    dist = pairwise_distance(embeddings, squared=squared)
    a, p, n = get_miner(mining)(dist.detach(), labels) if indices is None else indices
    d_ap, d_an = dist[a, p], dist[a, n]
    x = d_ap - d_an
    if margin is None:
        per_triplet = F.softplus(x)  # log(1 + exp(d_ap - d_an)), stable for large |x|
        active = d_an < d_ap
    else:
        per_triplet = F.relu(x + margin)
        active = d_an < d_ap + margin
    if mining == "batch_all" and margin is not None:
        count = (per_triplet > 0).sum()  # average over the triplets that still violate the margin
    else:
        count = torch.tensor(per_triplet.numel(), device=per_triplet.device)
    loss = per_triplet.sum() / count.clamp_min(1).to(per_triplet.dtype)
    return TripletTerms(loss, d_ap.detach(), d_an.detach(), active)


def triplet_loss(embeddings: torch.Tensor, labels: torch.Tensor, margin: float | None = 0.3,
                 mining: str = "batch_hard", squared: bool = False,
                 indices: Triplets | None = None) -> torch.Tensor:
    """Triplet loss of a batch.

    Distances are Euclidean on ``embeddings`` as given, squared when ``squared=True`` (FaceNet).
    Per triplet: ``relu(d_ap - d_an + margin)``, or with ``margin=None`` the soft margin
    ``log(1 + exp(d_ap - d_an))`` (Hermans et al. 2017). Triplets are ``indices`` when given, else what
    the miner ``MINERS[mining]`` finds on the detached distances:

    - ``"batch_hard"``: per anchor its farthest positive and nearest negative; mean over the anchors
      that have both (Hermans et al. 2017).
    - ``"batch_all"``: every valid triplet; mean over the triplets with non-zero loss (0 when there are
      none); with the soft margin, mean over all valid triplets.
    - ``"semi_hard"``: per anchor-positive pair the nearest negative farther than the positive, or the
      farthest negative when there is none (FaceNet / TensorFlow Addons); mean over the pairs.
    - any name added with :func:`reid.losses.register_miner`: mean over its triplets.

    Args:
        embeddings: (B, D) float embeddings.
        labels: (B,) integer identity labels.
        indices: triplets mined beforehand (e.g. by a miner of ``MINERS``); ``mining`` then only picks
            the averaging (non-zero mean for ``"batch_all"`` with a margin, plain mean otherwise).

    Returns:
        () scalar; 0 (with a zero gradient) when no triplet can be formed, e.g. one identity per batch.

    Raises:
        ValueError: unknown ``mining`` (the message lists the valid ones), negative margin, bad shapes.
    """
    return triplet_terms(embeddings, labels, margin, mining, squared, indices).loss


def triplet_stats(terms: TripletTerms) -> dict[str, torch.Tensor]:
    """0-d tensors: ``active`` fraction, mean ``d_ap``, mean ``d_an`` (0 when no triplet), ``triplets`` count."""
    n = terms.d_ap.numel()
    denom = max(n, 1)
    return {
        "active": terms.active.sum().float() / denom,
        "d_ap": terms.d_ap.sum().float() / denom,
        "d_an": terms.d_an.sum().float() / denom,
        "triplets": torch.tensor(float(n), device=terms.d_ap.device),
    }


class TripletLoss(nn.Module):
    """``nn.Module`` form of :func:`triplet_loss`.

    After each forward, ``last_stats`` holds floats of the batch: ``active`` (fraction of mined triplets
    with ``d_an < d_ap + margin``, margin 0 for the soft margin), mean ``d_ap``, mean ``d_an`` and the
    number of mined ``triplets``.
    """

    def __init__(self, margin: float | None = 0.3, mining: str = "batch_hard", squared: bool = False) -> None:
        super().__init__()
        check_triplet_args(margin, mining)
        self.margin, self.mining, self.squared = margin, mining, squared
        self.last_stats: dict[str, float] = {}

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor,
                indices: Triplets | None = None) -> torch.Tensor:
        """(B, D) embeddings, (B,) labels, optional mined triplets -> () loss."""
        terms = triplet_terms(embeddings, labels, self.margin, self.mining, self.squared, indices)
        stats = triplet_stats(terms)
        self.last_stats = dict(zip(stats, torch.stack(list(stats.values())).tolist(), strict=True))
        return terms.loss

    def extra_repr(self) -> str:
        return f"margin={self.margin}, mining={self.mining!r}, squared={self.squared}"
