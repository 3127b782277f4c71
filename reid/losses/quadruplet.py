"""Quadruplet loss (Chen, Chen, Zhang and Huang, CVPR 2017), batch-hard variant, two margins."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from reid.losses.distances import pairwise_distance
from reid.losses.miners import Quadruplets, mine_batch_hard_quadruplets


def _check(margin: float, margin2: float) -> None:
    if margin < 0 or margin2 < 0:
        raise ValueError(f"quadruplet margins must be >= 0, got margin={margin}, margin2={margin2}")


def quadruplet_loss(embeddings: torch.Tensor, labels: torch.Tensor, margin: float = 0.3, margin2: float = 0.15,
                    squared: bool = False, indices: Quadruplets | None = None) -> torch.Tensor:
    """Mean over quadruplets of ``relu(d_ap - d_an + margin) + relu(d_ap - d_kl + margin2)``.

    The first term is a triplet loss; the second pushes the anchor-positive distance below the distance
    of a pair ``(k, l)`` of two other identities, neither the anchor's, which also shrinks intra-class
    against inter-class distances between people the anchor is not compared with. Chen et al. want the
    second, weaker constraint to have the smaller margin (their fixed-margin setting uses half);
    ``margin=0.3`` is the triplet loss's. Without ``indices``, :func:`reid.losses.miners.
    mine_batch_hard_quadruplets` mines per anchor the hardest positive, negative and negative pair.

    Args:
        embeddings: (B, D) float embeddings; Euclidean distances, squared when ``squared=True``.
        labels: (B,) integer identity labels.
        indices: quadruplets mined beforehand.

    Returns:
        () scalar; 0 (with a zero gradient) when no quadruplet exists (fewer than three identities).
    """
    _check(margin, margin2)
    if embeddings.dim() != 2 or labels.shape != (len(embeddings),):
        raise ValueError(f"quadruplet loss needs (B, D) embeddings and (B,) labels, got "
                         f"{tuple(embeddings.shape)} and {tuple(labels.shape)}")
    dist = pairwise_distance(embeddings, squared=squared)
    a, p, n, pair_a, pair_b = mine_batch_hard_quadruplets(dist.detach(), labels) if indices is None else indices
    d_ap = dist[a, p]
    per_quadruplet = F.relu(d_ap - dist[a, n] + margin) + F.relu(d_ap - dist[pair_a, pair_b] + margin2)
    return per_quadruplet.sum() / max(len(per_quadruplet), 1)


class QuadrupletLoss(nn.Module):
    """``nn.Module`` form of :func:`quadruplet_loss`."""

    def __init__(self, margin: float = 0.3, margin2: float = 0.15, squared: bool = False) -> None:
        super().__init__()
        _check(margin, margin2)
        self.margin, self.margin2, self.squared = margin, margin2, squared

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor,
                indices: Quadruplets | None = None) -> torch.Tensor:
        """(B, D) embeddings, (B,) labels, optional mined quadruplets -> () loss."""
        return quadruplet_loss(embeddings, labels, self.margin, self.margin2, self.squared, indices)

    def extra_repr(self) -> str:
        return f"margin={self.margin}, margin2={self.margin2}, squared={self.squared}"
