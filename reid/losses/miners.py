"""Miners: index selection only, under ``no_grad``; the losses gather the distances themselves.

As in pytorch-metric-learning, a miner gets a (B, B) distance matrix from
:func:`reid.losses.distances.pairwise_distance` and the (B,) labels and returns :class:`Triplets`; a loss
takes ``(embeddings, labels, indices=None)`` and mines with its default miner only when ``indices`` is
``None``. ``MINERS`` (a ``reid.registry.Registry``) maps a name to a triplet miner; a new miner is one function
under ``@register_miner("name")``, after which ``triplet_loss(..., mining="name")`` uses it and ``--mining``
offers it (``LossConfig.mining``'s choices are this registry's names, ``reid.config.MINING``).

All miners are vectorised over the batch with masks; none loops over anchors in Python.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch

from reid.registry import Registry


class Triplets(NamedTuple):
    """Mined triplets: (T,) long indices into the batch each; ``labels[anchor] == labels[positive]``,
    ``labels[anchor] != labels[negative]``."""

    anchor: torch.Tensor
    positive: torch.Tensor
    negative: torch.Tensor


class Pairs(NamedTuple):
    """Mined pairs, as pytorch-metric-learning's ``(a1, p, a2, n)``: (P,) positive pairs ``(pos_anchor,
    positive)`` and (N,) negative pairs ``(neg_anchor, negative)``, long indices into the batch."""

    pos_anchor: torch.Tensor
    positive: torch.Tensor
    neg_anchor: torch.Tensor
    negative: torch.Tensor


TripletMiner = Callable[[torch.Tensor, torch.Tensor], Triplets]
"""``miner(dist, labels) -> Triplets`` with ``dist`` (B, B) distances (plain or squared), ``labels`` (B,)."""

MINERS: Registry[TripletMiner] = Registry("miner")


def register_miner(name: str) -> Callable[[TripletMiner], TripletMiner]:
    """Decorator: add ``miner(dist, labels) -> Triplets`` to :data:`MINERS` as ``name``, run under ``no_grad``.

    Raises:
        ValueError: ``name`` is already taken.
    """

    def add(miner: TripletMiner) -> TripletMiner:
        wrapped = torch.no_grad()(miner)
        MINERS.add(name, wrapped)
        return wrapped

    return add


def get_miner(name: str) -> TripletMiner:
    """The registered miner ``name``; ``UnknownNameError`` (a ``ValueError``) listing the known names otherwise."""
    return MINERS.get(name)


def label_masks(labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(B,) labels -> (positive, negative) (B, B) bool masks; positive excludes the diagonal."""
    same = labels.unsqueeze(0) == labels.unsqueeze(1)
    eye = torch.eye(len(labels), dtype=torch.bool, device=labels.device)
    return same & ~eye, ~same


def to_pairs(indices: Triplets | Pairs) -> Pairs:
    """Pairs of mined triplets (each triplet gives its (a, p) and (a, n) pair) or the pairs themselves."""
    if isinstance(indices, Pairs):
        return indices
    a, p, n = indices
    return Pairs(a, p, a, n)


def mined_samples(indices: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """Sorted (S,) indices of the samples that appear anywhere in mined ``Triplets`` or ``Pairs``."""
    return torch.unique(torch.cat([t.reshape(-1) for t in indices]))


def samples_in_use(embeddings: torch.Tensor, labels: torch.Tensor, indices: tuple[torch.Tensor, ...] | None,
                   dim: int, what: str) -> tuple[torch.Tensor, torch.Tensor]:
    """``(embeddings, labels)`` checked to be (B, ``dim``) and (B,), restricted to the samples mined
    ``indices`` use (all when None), for per-sample losses (center, proxy); ``what`` names the loss in errors."""
    if embeddings.dim() != 2 or embeddings.shape[1] != dim or labels.shape != (len(embeddings),):
        raise ValueError(f"{what} needs (B, {dim}) embeddings and (B,) labels, got "
                         f"{tuple(embeddings.shape)} and {tuple(labels.shape)}")
    if indices is None:
        return embeddings, labels
    rows = mined_samples(indices)
    return embeddings[rows], labels[rows]


@register_miner("batch_hard")
def mine_batch_hard(dist: torch.Tensor, labels: torch.Tensor) -> Triplets:
    """Batch-hard mining (Hermans et al. 2017): per anchor its farthest positive and nearest negative.

    Args:
        dist: (B, B) distances (plain or squared).
        labels: (B,) identity labels.

    Returns:
        ``Triplets`` with one entry per anchor that has at least one positive and one negative,
        in anchor order. Ties go to the lowest index.
    """
    pos, neg = label_masks(labels)
    usable = pos.any(1) & neg.any(1)
    far_pos = dist.masked_fill(~pos, float("-inf")).argmax(1)
    near_neg = dist.masked_fill(~neg, float("inf")).argmin(1)
    anchor = usable.nonzero().squeeze(1)
    return Triplets(anchor, far_pos[anchor], near_neg[anchor])


@register_miner("batch_all")
def mine_all_triplets(dist: torch.Tensor, labels: torch.Tensor) -> Triplets:
    """Every valid triplet: ``labels[a] == labels[p]``, ``a != p``, ``labels[n] != labels[a]``.

    ``dist`` is not used (the signature is every miner's). Returns ``Triplets`` of (T,) indices,
    T = sum over anchors of #positives x #negatives (memory (B, B, B) bool for the mask), ordered by (a, p, n).
    """
    pos, neg = label_masks(labels)
    a, p, n = (pos.unsqueeze(2) & neg.unsqueeze(1)).nonzero(as_tuple=True)
    return Triplets(a, p, n)


@register_miner("semi_hard")
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


class Quadruplets(NamedTuple):
    """Mined quadruplets (Chen et al. 2017): (Q,) long indices each. ``(anchor, positive, negative)`` is a
    triplet; ``(pair_a, pair_b)`` two samples of different identities, neither the anchor's."""

    anchor: torch.Tensor
    positive: torch.Tensor
    negative: torch.Tensor
    pair_a: torch.Tensor
    pair_b: torch.Tensor


@torch.no_grad()
def mine_batch_hard_quadruplets(dist: torch.Tensor, labels: torch.Tensor) -> Quadruplets:
    """Batch-hard quadruplets: per anchor its batch-hard triplet and the nearest negative pair of the batch.

    The negative pair is the closest ``(k, l)`` with ``labels[k] != labels[l]`` and both different from the
    anchor's label, so it needs three identities in the batch. Memory (U, B, B) for U identities.

    Args:
        dist: (B, B) distances (plain or squared).
        labels: (B,) identity labels.

    Returns:
        ``Quadruplets``, one per anchor that has a positive and such a pair, in anchor order; ties go to
        the lowest index (the pair as ``k < l``).
    """
    b = len(labels)
    a, p, n = mine_batch_hard(dist, labels)
    ids, inverse = labels.unique(return_inverse=True)
    _, neg = label_masks(labels)
    other = labels.unsqueeze(0) != ids.unsqueeze(1)  # (U, B): sample not of identity u
    allowed = neg.unsqueeze(0) & other.unsqueeze(2) & other.unsqueeze(1)  # (U, B, B)
    nearest = dist.unsqueeze(0).masked_fill(~allowed, float("inf")).flatten(1).argmin(1)  # (U,)
    has_pair = allowed.flatten(1).any(1)[inverse[a]]
    pair = nearest[inverse[a]]
    a, p, n, pair = a[has_pair], p[has_pair], n[has_pair], pair[has_pair]
    return Quadruplets(a, p, n, pair // b, pair % b)


MINING: tuple[str, ...] = MINERS.names()  # the built-in miners; MINERS also holds those registered later
