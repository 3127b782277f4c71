"""Linkage: the distance between two clusters from the distances of their member pairs, and the re-ranked
distances (k-reciprocal) the linker may use instead of the plain ones."""

from __future__ import annotations

import logging

import numpy as np

from reid.distances import pairwise_distance_numpy

log = logging.getLogger(__name__)


def reduce_linkage(kind: str, costs: np.ndarray, across: np.ndarray, which: np.ndarray, n: int) -> np.ndarray:
    """The linkage distance of ``n`` cluster pairs from their member pair ``costs`` (pair k belongs to cluster
    pair ``which[k]``; ``across``: the two members are in different cameras): the mean (average), max
    (complete) or min (single) of all of them; ``cross-complete``: the max over the pairs across cameras only
    (all pairs if there are none). Sightings of one camera are held together by the tracker, the stitcher and
    the re-entry limit, which check time and motion; two sightings seconds apart in one view differ in pose
    and light far more than the calibrated threshold allows, so complete linkage over them blocks a merge the
    cross-camera evidence supports, while every sighting in one camera must still look like every sighting
    in the other."""
    if kind == "average":
        return np.bincount(which, costs, minlength=n) / np.maximum(np.bincount(which, minlength=n), 1)
    if kind == "cross-complete":
        has_cross = np.bincount(which, across, minlength=n) > 0
        costs = np.where(across | ~has_cross[which], costs, -np.inf)
    out = np.full(n, np.inf if kind == "single" else -np.inf)
    (np.minimum if kind == "single" else np.maximum).at(out, which, costs)
    return out


def reranked(emb: np.ndarray) -> np.ndarray:
    """All-pairs k-reciprocal re-ranked distances (n, n); O(n^2) memory, meant for a few thousand tracklets."""
    from reid.metrics import re_ranking

    n = len(emb)
    if n > 5000:
        log.warning("re-ranking %d tracklets needs an %d x %d matrix; this is slow", n, n, n)
    d = pairwise_distance_numpy(emb)
    # the set is both query and gallery, so every tracklet is twice among the neighbours: k1 = 20 and
    # k2 = 6 (the paper's) cover ~10 and ~3 distinct tracklets, the size of one person's sightings
    k1 = max(1, min(20, 2 * n - 1))
    k2 = max(1, min(6, k1))
    out = np.asarray(re_ranking(d, d, d, k1=k1, k2=k2), np.float64)
    return (out + out.T) / 2  # re-ranked distances are not exactly symmetric
