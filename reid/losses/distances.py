"""Distances between embeddings: the one source of truth for losses, miners, evaluation and linking.

Torch functions feed the losses and miners (autograd-safe); the ``*_numpy`` twins (``reid.distances``, torch-free
so the store and the GUI can use them, re-exported here) use the same formula for evaluation and cross-camera
linking on arrays.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from reid.distances import EPS as _EPS
from reid.distances import cosine_distance_numpy, paired_distance_numpy, pairwise_distance_numpy

__all__ = ["cosine_distance", "cosine_distance_numpy", "cosine_similarity", "paired_distance",
           "paired_distance_numpy", "pairwise_distance", "pairwise_distance_numpy"]


def pairwise_distance(x: torch.Tensor, y: torch.Tensor | None = None, squared: bool = False) -> torch.Tensor:
    """Euclidean distances between the rows of ``x`` and ``y``.

    Args:
        x: (B, D) embeddings.
        y: (M, D) embeddings; ``None`` (or ``x`` itself) means ``x`` against itself.
        squared: return squared distances ``||x_i - y_j||^2`` (FaceNet) instead of distances.

    Returns:
        (B, M) distances, dtype of ``x``. Against itself the diagonal is exactly zero. The gradient is
        finite everywhere: squared distances are clamped at 0 and entries below 1e-12 are set to zero
        with zero gradient before the square root.
    """
    self_distance = y is None or y is x
    other = x if y is None else y
    if x.dim() != 2 or other.dim() != 2 or x.shape[1] != other.shape[1]:
        raise ValueError(f"pairwise_distance needs (B, D) and (M, D) inputs, got {tuple(x.shape)} "
                         f"and {tuple(other.shape)}")
    xx = x.pow(2).sum(1, keepdim=True)
    yy = xx.t() if self_distance else other.pow(2).sum(1).unsqueeze(0)
    d2 = torch.addmm(xx + yy, x, other.t(), beta=1.0, alpha=-2.0).clamp_min(0.0)
    if self_distance:
        eye = torch.eye(len(x), dtype=torch.bool, device=x.device)
        d2 = d2.masked_fill(eye, 0.0)
    if squared:
        return d2
    zero = d2 < _EPS
    return torch.sqrt(d2.clamp_min(_EPS)).masked_fill(zero, 0.0)


def paired_distance(x: torch.Tensor, y: torch.Tensor, squared: bool = False) -> torch.Tensor:
    """Euclidean distance between matching rows: (B, D) and (B, D) -> (B,) ``||x_i - y_i||``.

    Same conventions as :func:`pairwise_distance`: squared distances below 1e-12 count as zero, with a
    finite (zero) gradient.
    """
    if x.dim() != 2 or x.shape != y.shape:
        raise ValueError(f"paired_distance needs two (B, D) inputs of one shape, got {tuple(x.shape)} "
                         f"and {tuple(y.shape)}")
    d2 = (x - y).pow(2).sum(1)
    if squared:
        return d2
    zero = d2 < _EPS
    return torch.sqrt(d2.clamp_min(_EPS)).masked_fill(zero, 0.0)


def cosine_similarity(x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
    """``cos(x_i, y_j)``, (B, D) x (M, D) -> (B, M) in [-1, 1]; rows are L2-normalised first (differentiable)."""
    xn = F.normalize(x, dim=1)
    yn = xn if y is None or y is x else F.normalize(y, dim=1)
    return xn @ yn.t()


def cosine_distance(x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
    """``1 - cos(x_i, y_j)``, (B, D) x (M, D) -> (B, M) in [0, 2]; rows are L2-normalised first."""
    return (1.0 - cosine_similarity(x, y)).clamp(0.0, 2.0)
