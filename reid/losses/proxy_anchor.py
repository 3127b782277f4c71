"""Proxy-Anchor loss (Kim, Kim, Cho and Kwak, CVPR 2020): one learnable proxy per class as the anchor."""

from __future__ import annotations

import math

import torch
from torch import nn

from reid.losses.distances import cosine_similarity
from reid.losses.miners import Pairs, Quadruplets, Triplets, samples_in_use


def _log1p_sum_exp(logits: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """``log(1 + sum_i exp(logits[i, c]))`` over the rows ``keep`` allows, per column: (B, C) -> (C,)."""
    masked = logits.masked_fill(~keep, float("-inf"))
    return torch.logsumexp(torch.cat([masked, logits.new_zeros(1, logits.shape[1])]), dim=0)


class ProxyAnchorLoss(nn.Module):
    """Proxy-Anchor loss with cosine similarity ``s`` between samples and class proxies.

    ``1/|P+| sum_{p in P+} log(1 + sum_{x of class p} exp(-alpha (s(x, p) - margin)))
    + 1/|P| sum_{p in P} log(1 + sum_{x not of class p} exp(alpha (s(x, p) + margin)))``, where P are all
    proxies and P+ those with a sample in the batch. ``margin=0.1``, ``alpha=32`` and the proxies' Kaiming
    normal start (fan-out) are the paper's; its code also gives the proxies a 100x learning rate.

    Args:
        num_classes: number of training identities; labels must lie in [0, num_classes).
        embedding_dim: width D of the embeddings.
        seed: seed of the local generator that draws the proxies.
    """

    def __init__(self, num_classes: int, embedding_dim: int, margin: float = 0.1, alpha: float = 32.0,
                 seed: int = 0) -> None:
        super().__init__()
        if num_classes < 1 or embedding_dim < 1:
            raise ValueError(f"proxy-anchor loss needs num_classes >= 1 and embedding_dim >= 1, got "
                             f"{num_classes} and {embedding_dim}")
        if alpha <= 0:
            raise ValueError(f"proxy-anchor alpha must be > 0, got {alpha}")
        g = torch.Generator().manual_seed(seed)
        std = math.sqrt(2.0 / num_classes)  # kaiming_normal_(mode="fan_out"): fan-out of (C, D) is C
        self.proxies = nn.Parameter(std * torch.randn(num_classes, embedding_dim, generator=g))
        self.margin, self.alpha = margin, alpha

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor,
                indices: Triplets | Pairs | Quadruplets | None = None) -> torch.Tensor:
        """(B, D) embeddings, (B,) labels -> () loss; with mined ``indices``, over the samples they use only."""
        num_classes, dim = self.proxies.shape
        embeddings, labels = samples_in_use(embeddings, labels, indices, dim, "proxy-anchor loss")
        sim = cosine_similarity(embeddings, self.proxies.to(embeddings.dtype))  # (B, C)
        own = labels.unsqueeze(1) == torch.arange(num_classes, device=labels.device).unsqueeze(0)
        pos = _log1p_sum_exp(self.alpha * (self.margin - sim), own)
        neg = _log1p_sum_exp(self.alpha * (sim + self.margin), ~own)
        with_positives = own.any(0).sum().clamp_min(1).to(sim.dtype)
        return pos.sum() / with_positives + neg.sum() / num_classes

    def extra_repr(self) -> str:
        return (f"num_classes={self.proxies.shape[0]}, embedding_dim={self.proxies.shape[1]}, "
                f"margin={self.margin}, alpha={self.alpha}")
