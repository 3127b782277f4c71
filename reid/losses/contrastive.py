"""Contrastive loss over all pairs of a batch (Hadsell, Chopra and LeCun, CVPR 2006)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from reid.losses.distances import pairwise_distance


def contrastive_loss(embeddings: torch.Tensor, labels: torch.Tensor, margin: float = 0.5) -> torch.Tensor:
    """Mean over all pairs i < j of ``d^2`` (same label) or ``relu(margin - d)^2`` (different labels).

    Args:
        embeddings: (B, D) float embeddings; ``d`` is their Euclidean distance.
        labels: (B,) integer identity labels.
        margin: negatives farther apart than this cost nothing.

    Returns:
        () scalar; 0 for a batch of fewer than two samples.
    """
    if embeddings.dim() != 2 or labels.shape != (len(embeddings),):
        raise ValueError(f"contrastive loss needs (B, D) embeddings and (B,) labels, got "
                         f"{tuple(embeddings.shape)} and {tuple(labels.shape)}")
    if margin < 0:
        raise ValueError(f"contrastive margin must be >= 0, got {margin}")
    dist = pairwise_distance(embeddings)
    i, j = torch.triu_indices(len(labels), len(labels), offset=1, device=embeddings.device)
    d = dist[i, j]
    same = labels[i] == labels[j]
    per_pair = torch.where(same, d.pow(2), F.relu(margin - d).pow(2))
    return per_pair.sum() / max(per_pair.numel(), 1)


class ContrastiveLoss(nn.Module):
    """``nn.Module`` form of :func:`contrastive_loss`."""

    def __init__(self, margin: float = 0.5) -> None:
        super().__init__()
        if margin < 0:
            raise ValueError(f"contrastive margin must be >= 0, got {margin}")
        self.margin = margin

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """(B, D) embeddings, (B,) labels -> () loss."""
        return contrastive_loss(embeddings, labels, self.margin)

    def extra_repr(self) -> str:
        return f"margin={self.margin}"
