"""Contrastive loss over all pairs of a batch (Hadsell, Chopra and LeCun, CVPR 2006)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from reid.losses.distances import pairwise_distance
from reid.losses.miners import Pairs, Triplets, to_pairs


def contrastive_loss(embeddings: torch.Tensor, labels: torch.Tensor, margin: float = 0.5,
                     indices: Pairs | Triplets | None = None) -> torch.Tensor:
    """Mean over all pairs i < j of ``d^2`` (same label) or ``relu(margin - d)^2`` (different labels).

    Args:
        embeddings: (B, D) float embeddings; ``d`` is their Euclidean distance.
        labels: (B,) integer identity labels.
        margin: negatives farther apart than this cost nothing.
        indices: mined pairs (or triplets, each giving its (a, p) and (a, n) pair); the mean is then over
            those pairs instead of all pairs i < j.

    Returns:
        () scalar; 0 for a batch of fewer than two samples or no mined pair.
    """
    if embeddings.dim() != 2 or labels.shape != (len(embeddings),):
        raise ValueError(f"contrastive loss needs (B, D) embeddings and (B,) labels, got "
                         f"{tuple(embeddings.shape)} and {tuple(labels.shape)}")
    if margin < 0:
        raise ValueError(f"contrastive margin must be >= 0, got {margin}")
    dist = pairwise_distance(embeddings)
    if indices is None:
        i, j = torch.triu_indices(len(labels), len(labels), offset=1, device=embeddings.device)
        d = dist[i, j]
        per_pair = torch.where(labels[i] == labels[j], d.pow(2), F.relu(margin - d).pow(2))
    else:
        a1, p, a2, n = to_pairs(indices)
        per_pair = torch.cat([dist[a1, p].pow(2), F.relu(margin - dist[a2, n]).pow(2)])
    return per_pair.sum() / max(per_pair.numel(), 1)


class ContrastiveLoss(nn.Module):
    """``nn.Module`` form of :func:`contrastive_loss`."""

    def __init__(self, margin: float = 0.5) -> None:
        super().__init__()
        if margin < 0:
            raise ValueError(f"contrastive margin must be >= 0, got {margin}")
        self.margin = margin

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor,
                indices: Pairs | Triplets | None = None) -> torch.Tensor:
        """(B, D) embeddings, (B,) labels, optional mined pairs -> () loss."""
        return contrastive_loss(embeddings, labels, self.margin, indices)

    def extra_repr(self) -> str:
        return f"margin={self.margin}"
