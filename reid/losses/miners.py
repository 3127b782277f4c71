"""Triplet miners: index selection only (under ``no_grad``); the losses gather the distances.

All miners are vectorised over the batch with masks; none loops over anchors in Python.
"""

from __future__ import annotations

from typing import NamedTuple

import torch


class HardTriplets(NamedTuple):
    """One triplet per usable anchor: (T,) long indices each, T <= B."""

    anchor: torch.Tensor
    positive: torch.Tensor
    negative: torch.Tensor


class Triplets(NamedTuple):
    """A set of triplets: (T,) long indices each."""

    anchor: torch.Tensor
    positive: torch.Tensor
    negative: torch.Tensor


def label_masks(labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(B,) labels -> (positive, negative) (B, B) bool masks; positive excludes the diagonal."""
    same = labels.unsqueeze(0) == labels.unsqueeze(1)
    eye = torch.eye(len(labels), dtype=torch.bool, device=labels.device)
    return same & ~eye, ~same


@torch.no_grad()
def mine_batch_hard(dist: torch.Tensor, labels: torch.Tensor) -> HardTriplets:
    """Batch-hard mining (Hermans et al. 2017): per anchor its farthest positive and nearest negative.

    Args:
        dist: (B, B) distances (plain or squared).
        labels: (B,) identity labels.

    Returns:
        ``HardTriplets`` with one entry per anchor that has at least one positive and one negative,
        in anchor order. Ties go to the lowest index.
    """
    pos, neg = label_masks(labels)
    usable = pos.any(1) & neg.any(1)
    far_pos = dist.masked_fill(~pos, float("-inf")).argmax(1)
    near_neg = dist.masked_fill(~neg, float("inf")).argmin(1)
    anchor = usable.nonzero().squeeze(1)
    return HardTriplets(anchor, far_pos[anchor], near_neg[anchor])


@torch.no_grad()
def mine_all_triplets(labels: torch.Tensor) -> Triplets:
    """Every valid triplet: ``labels[a] == labels[p]``, ``a != p``, ``labels[n] != labels[a]``.

    Returns ``Triplets`` of (T,) indices, T = sum over anchors of #positives x #negatives
    (memory (B, B, B) bool for the mask), ordered by (a, p, n).
    """
    pos, neg = label_masks(labels)
    a, p, n = (pos.unsqueeze(2) & neg.unsqueeze(1)).nonzero(as_tuple=True)
    return Triplets(a, p, n)


@torch.no_grad()
def mine_semi_hard(dist: torch.Tensor, labels: torch.Tensor) -> Triplets:
    """Semi-hard mining (Schroff et al. 2015, FaceNet), as TensorFlow Addons' ``TripletSemiHardLoss``.

    For every anchor-positive pair (a, p), a != p, the negative is the nearest one *farther* than the
    positive (``d_an > d_ap``); if there is none, the farthest negative is used instead (what
    TensorFlow Addons does). Pairs whose anchor has no negative at all are dropped.

    Args:
        dist: (B, B) distances (plain or squared).
        labels: (B,) identity labels.

    Returns:
        ``Triplets`` with one entry per anchor-positive pair, ordered by (a, p).
    """
    pos, neg = label_masks(labels)
    a, p = pos.nonzero(as_tuple=True)
    keep = neg[a].any(1)
    a, p = a[keep], p[keep]
    row, negs = dist[a], neg[a]  # (P, B)
    d_ap = dist[a, p].unsqueeze(1)
    outside = negs & (row > d_ap)
    nearest_outside = row.masked_fill(~outside, float("inf")).argmin(1)
    farthest = row.masked_fill(~negs, float("-inf")).argmax(1)
    n = torch.where(outside.any(1), nearest_outside, farthest)
    return Triplets(a, p, n)
