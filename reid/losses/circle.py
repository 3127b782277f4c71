"""Circle loss, pair-wise form (Sun et al., CVPR 2020), on cosine similarities within the batch."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from reid.losses.distances import cosine_similarity
from reid.losses.miners import Pairs, Triplets, label_masks, to_pairs


def circle_loss(embeddings: torch.Tensor, labels: torch.Tensor, margin: float = 0.25, gamma: float = 128.0,
                indices: Pairs | Triplets | None = None) -> torch.Tensor:
    """Circle loss: mean over anchors of ``softplus(lse_p + lse_n)``.

    ``lse_p = logsumexp over positives of -gamma a_p (s_p - 1 + m)``, ``lse_n = logsumexp over negatives of
    gamma a_n (s_n - m)``. ``s`` is the cosine similarity of the anchor to a positive (``s_p``) or a negative (``s_n``); the
    weights ``a_p = relu(1 + m - s_p)`` and ``a_n = relu(s_n + m)`` are taken as constants (detached), as
    in the paper, fast-reid and pytorch-metric-learning. Anchors without a positive or a negative pair are
    left out. ``m=0.25`` and ``gamma=128`` are the paper's person re-ID values (and fast-reid's defaults).

    Args:
        embeddings: (B, D) float embeddings (normalised here).
        labels: (B,) integer identity labels.
        indices: mined pairs (or triplets, each giving its (a, p) and (a, n) pair); all pairs when ``None``.

    Returns:
        () scalar; 0 (with a zero gradient) when no anchor has both a positive and a negative pair.
    """
    if embeddings.dim() != 2 or labels.shape != (len(embeddings),):
        raise ValueError(f"circle loss needs (B, D) embeddings and (B,) labels, got {tuple(embeddings.shape)} "
                         f"and {tuple(labels.shape)}")
    if gamma <= 0 or margin < 0:
        raise ValueError(f"circle loss needs gamma > 0 and margin >= 0, got gamma={gamma}, margin={margin}")
    sim = cosine_similarity(embeddings)
    if indices is None:
        pos, neg = label_masks(labels)
    else:
        a1, p, a2, n = to_pairs(indices)
        pos = torch.zeros_like(sim, dtype=torch.bool).index_put_((a1, p), torch.tensor(True, device=sim.device))
        neg = torch.zeros_like(sim, dtype=torch.bool).index_put_((a2, n), torch.tensor(True, device=sim.device))
    valid = pos.any(1) & neg.any(1)  # (B,) anchors that count; masked, not indexed: no host sync on a GPU
    s = sim.detach()
    logit_p = (-gamma * F.relu(1 + margin - s) * (sim - (1 - margin))).masked_fill(~pos, float("-inf"))
    logit_n = (gamma * F.relu(s + margin) * (sim - margin)).masked_fill(~neg, float("-inf"))
    invalid = ~valid.unsqueeze(1)  # rows of -inf only would give NaN gradients: zeros there, then dropped
    lse_p = torch.logsumexp(logit_p.masked_fill(invalid, 0.0), 1)
    lse_n = torch.logsumexp(logit_n.masked_fill(invalid, 0.0), 1)
    per_anchor = F.softplus(lse_p + lse_n) * valid
    return per_anchor.sum() / valid.sum().clamp_min(1).to(per_anchor.dtype)


class CircleLoss(nn.Module):
    """``nn.Module`` form of :func:`circle_loss`."""

    def __init__(self, margin: float = 0.25, gamma: float = 128.0) -> None:
        super().__init__()
        if gamma <= 0 or margin < 0:
            raise ValueError(f"circle loss needs gamma > 0 and margin >= 0, got gamma={gamma}, margin={margin}")
        self.margin, self.gamma = margin, gamma

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor,
                indices: Pairs | Triplets | None = None) -> torch.Tensor:
        """(B, D) embeddings, (B,) labels, optional mined pairs -> () loss."""
        return circle_loss(embeddings, labels, self.margin, self.gamma, indices)

    def extra_repr(self) -> str:
        return f"margin={self.margin}, gamma={self.gamma}"
